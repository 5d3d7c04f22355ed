//! The steps of an invocation after `prepare`, each returning its value to `App::run`.

use std::future::Future;
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use super::outcome::{Progress, SignOut};
use super::App;
use crate::audit::{AuditRecord, PasswordSet};
use crate::change_events::{self, Change, Initiator, PasswordSetEvent, RequestIds};
use crate::directory::{ChangeEvents, Directory, SecretStore, SetAccepted, StoredSecret, UserRecord};
use crate::error::{AppError, UpstreamKind};
use crate::event::ApiContext;
use crate::password::{self, PasswordPolicy, Reason};
use crate::policy::{self, Actor, Facts};
use crate::request::{FunctionHome, Password, PasswordSource};
use crate::token::{self, KeySource, TokenFailure, VerifiedToken};

impl<D, S, K, E> App<D, S, K, E>
where
    D: Directory + Sync,
    S: SecretStore + Sync,
    K: KeySource + Sync,
    E: ChangeEvents + Sync,
{
    pub(super) async fn authenticate(&self, api: &ApiContext) -> Result<VerifiedToken, AppError> {
        let Some(settings) = &self.config.token else {
            let detail = "an API event reached a function without token settings".into();
            return Err(AppError::Internal { detail });
        };
        let unauthorized = |reason| AppError::Unauthorized { reason };
        if api.authorization.conflicting {
            return Err(unauthorized("conflicting Authorization headers"));
        }
        let header = api.authorization.value.as_deref();
        let header = header.ok_or(unauthorized("no Authorization header"))?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        token::verify(strip_bearer(header), &self.keys, &settings.policy, now)
            .await
            .map_err(|failure| match failure {
                TokenFailure::Invalid(reason) => unauthorized(reason),
                TokenFailure::KeysUnavailable(detail) => AppError::Upstream {
                    kind: UpstreamKind::Unreachable,
                    detail: format!("JWKS: {detail}"),
                },
            })
    }

    /// The look-ups the policy needs, the pool's password policy and the secret: one
    /// concurrent round. What it established about the caller's live groups and the target
    /// (as Cognito resolved it, which every later step uses) is noted for the audit line.
    pub(super) async fn look_up(
        &self,
        actor: &Actor,
        target: &str,
        password: PasswordSource,
        progress: &Mutex<Progress>,
    ) -> LookedUp {
        lock(progress).phase = "look_up";
        let lookups = policy::lookups(&self.config, actor);
        let caller = match actor {
            Actor::Admin(token) => token.username.as_str(),
            Actor::Workflow => "",
        };
        let admin_pool = self.config.admin_user_pool_id.as_str();
        let pool = self.config.user_pool_id.as_str();
        let (caller_groups, caller_user, target_groups, target_user, pool_policy, password) = tokio::join!(
            when(lookups.caller_groups, self.directory.list_groups(admin_pool, caller)),
            when(lookups.caller_user, self.directory.get_user(admin_pool, caller)),
            when(lookups.target_groups, self.directory.list_groups(pool, target)),
            when(lookups.target_user, self.directory.get_user(pool, target)),
            self.pool_policy(),
            self.resolve_password(password),
        );
        let target = target_user.as_ref().and_then(|user| user.as_ref().ok().cloned());
        let mut noted = lock(progress);
        noted.live_groups = caller_groups.as_ref().and_then(|groups| groups.as_ref().ok().cloned());
        noted.target = target.as_ref().map(|user| (user.username.clone(), user.sub.clone()));
        let facts = Facts {
            caller_groups,
            caller_user,
            target_groups,
            target_user,
        };
        LookedUp {
            facts,
            pool_policy,
            password,
            target,
        }
    }

    /// The password to set (the given one, the secret's once it is bound to the target, or
    /// one generated for the pool's policy), checked against that policy and the blocklist.
    /// Whatever makes a secret unusable gets the one `SecretUnusable` answer, the reason only
    /// in `detail`: a caller who may name a secret but not read it learns nothing of its content.
    pub(super) fn password(
        &self,
        given: Given,
        policy: Option<&PasswordPolicy>,
        target: &str,
        home: Option<&FunctionHome>,
    ) -> Result<Password, AppError> {
        let unusable = |detail| AppError::SecretUnusable { detail };
        let from_secret = matches!(given, Given::Secret(_));
        let password = match given {
            Given::Literal(password) => password,
            Given::Secret(secret) => {
                policy::secret_bound(&self.config, target, home, &secret.name, &secret.arn).map_err(unusable)?;
                secret.password
            }
            Given::Generate => Password::generated(
                password::generate(policy.unwrap_or(&password::FALLBACK_GENERATION_POLICY), target).map_err(|err| {
                    AppError::Internal {
                        detail: format!("generating a password: {err}"),
                    }
                })?,
            ),
        };
        let blocklist = self.config.password_blocklist;
        let violations = password::check(password.expose_to_cognito(), target, policy, blocklist);
        match (violations.is_empty(), from_secret) {
            (true, _) => Ok(password),
            (false, false) => Err(AppError::PasswordRejected(violations)),
            (false, true) => {
                let broken: Vec<&str> = violations.iter().map(|v| v.as_str()).collect();
                Err(unusable(format!("the secret's password breaks {}", broken.join(","))))
            }
        }
    }

    /// `AdminSetUserPassword`. Whether the password changed is noted as soon as it is known,
    /// for work abandoned at the deadline: unknown from the moment the request is sent.
    pub(super) async fn set(
        &self,
        target: &str,
        password: &Password,
        permanent: bool,
        progress: &Mutex<Progress>,
    ) -> Result<SetAccepted, AppError> {
        lock(progress).password_set = PasswordSet::Unknown;
        let result = self
            .directory
            .set_password(&self.config.user_pool_id, target, password, permanent)
            .await;
        // The adapter decides whether a failed set may have changed the password.
        let set = match &result {
            Ok(_) => PasswordSet::Yes,
            Err(AppError::SetOutcomeUnknown { .. }) => PasswordSet::Unknown,
            Err(_) => PasswordSet::No,
        };
        lock(progress).password_set = set;
        result
    }

    /// The global sign-out, after the set or the reset (`after`). The password is set or the
    /// code is on its way: a failure is reported (its code and detail), not turned into an
    /// error that invites a retry (which password history would refuse, or which would only
    /// send another code).
    pub(super) async fn sign_out(&self, target: &str, after: &str) -> SignOut {
        let signed_out = self.directory.global_sign_out(&self.config.user_pool_id, target).await;
        signed_out.map_err(|err| {
            let detail = err.detail().map_or_else(|| err.to_string(), str::to_owned);
            (
                err.code(),
                format!("AdminUserGlobalSignOut after the {after}: {detail}"),
            )
        })
    }

    /// One `Password Set` event per successful set, when a bus is configured. A failed
    /// publish is logged, audited and counted, and does not fail the request: the password
    /// has changed.
    pub(super) async fn publish(
        &self,
        actor: &Actor,
        target: &str,
        reason: Option<Reason>,
        generated: bool,
        signed_out: Option<bool>,
        asked: &AuditRecord,
    ) -> Option<Result<(), String>> {
        let events = self.events.as_ref()?;
        let event = PasswordSetEvent {
            change: match asked.action {
                Some("reset_code") => Change::ResetRequested,
                _ => Change::Set,
            },
            username: target.to_owned(),
            user_pool_id: self.config.user_pool_id.clone(),
            permanent: asked.permanent.unwrap_or(false),
            signed_out: signed_out == Some(true),
            generated,
            initiator: match actor {
                Actor::Admin(token) => Initiator::Admin(change_events::Actor {
                    username: Some(token.username.clone()),
                    sub: Some(token.sub.clone()),
                }),
                Actor::Workflow => Initiator::Workflow(asked.requested_by.clone()),
            },
            reason,
            correlation_id: asked.correlation_id.clone(),
            request_ids: RequestIds {
                lambda: asked.lambda_request_id.clone(),
                api: asked.api_request_id.clone(),
            },
        };
        let published = events.publish(&event).await;
        if let Err(detail) = &published {
            tracing::warn!(detail = detail.as_str(), "the Password Set event was not published");
        }
        Some(published)
    }

    /// The password given, or the secret it is in; a password is generated after the
    /// decision, with the pool's policy.
    pub(super) async fn resolve_password(&self, source: PasswordSource) -> Result<Given, AppError> {
        match source {
            PasswordSource::Literal(password) => Ok(Given::Literal(password)),
            PasswordSource::SecretRef(secret_id) => self.secrets.password(&secret_id).await.map(Given::Secret),
            PasswordSource::Generate => Ok(Given::Generate),
        }
    }

    /// The target pool's password policy: cached after the first good read. A failed read
    /// does not fail the request: Cognito still enforces its policy on the set.
    pub(super) async fn pool_policy(&self) -> Option<PasswordPolicy> {
        if let Some(policy) = self.pool_policy.get() {
            return Some(*policy);
        }
        match self.directory.password_policy(&self.config.user_pool_id).await {
            Ok(policy) => Some(*self.pool_policy.get_or_init(|| policy)),
            Err(err) => {
                tracing::warn!(
                    code = err.code(),
                    detail = err.detail(),
                    "the pool's password policy could not be read; Cognito checks it on the set"
                );
                None
            }
        }
    }
}

/// The look-up round's results.
pub(super) struct LookedUp {
    pub facts: Facts,
    pub pool_policy: Option<PasswordPolicy>,
    pub password: Result<Given, AppError>,
    /// The target as Cognito resolved it, if it did.
    pub target: Option<UserRecord>,
}

/// Where the password comes from, once the secret (if any) has been read.
#[derive(Debug)]
pub(super) enum Given {
    Literal(Password),
    Secret(StoredSecret),
    Generate,
}

/// The progress cell; never poisoned (nothing panics while holding it), and never held
/// across an await.
pub(super) fn lock(progress: &Mutex<Progress>) -> MutexGuard<'_, Progress> {
    progress.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `Authorization: Bearer <token>` or the bare token (REST Cognito authorizers take either).
fn strip_bearer(header: &str) -> &str {
    let header = header.trim();
    match header.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim_start(),
        _ => header,
    }
}

/// Runs `lookup` only if `needed`.
async fn when<T>(needed: bool, lookup: impl Future<Output = Result<T, AppError>>) -> Option<Result<T, AppError>> {
    if needed {
        Some(lookup.await)
    } else {
        None
    }
}

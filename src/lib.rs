//! admin-set-password: an authorised administrator sets a Cognito user's password.
//!
//! One invocation: `prepare` (parse the event for the configured entry points and validate
//! the request: pure, no I/O) -> for API callers, verify their token and that the
//! authorizer's claims agree with it (no Cognito call before that) -> the look-ups the policy
//! needs, concurrently -> the policy's decision -> `AdminSetUserPassword` -> the optional
//! sign-out -> response. One audit record and one metrics document are written whatever
//! happens, before the Lambda deadline.

use std::future::Future;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::Diagnostic;
use serde_json::Value;

pub mod audit;
pub mod change_events;
pub mod config;
pub mod directory;
pub mod error;
pub mod event;
pub mod groups;
mod json;
pub mod metrics;
pub mod output;
pub mod password;
pub mod policy;
pub mod request;
pub mod response;
pub mod telemetry;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod token;
pub mod upstream;

pub use audit::{AuditRecord, Outcome, PasswordSet, AUDIT_EVENT};
pub use config::{Config, ConfigError};
pub use directory::cognito::{CognitoDirectory, SecretsManagerStore};
pub use directory::{Directory, SecretStore, IAM_ACTIONS_API, IAM_ACTIONS_WORKFLOW};
pub use error::AppError;
pub use output::Output;

use change_events::{ChangeEvents, Initiator, PasswordSetEvent, RequestIds};
use directory::UserStatus;
use error::UpstreamKind;
use event::{ApiContext, EntryShape, ParsedEvent, RequestInput};
use password::PasswordPolicy;
use policy::{Actor, Facts};
use request::{FunctionHome, Password, PasswordSource, SetPassword};
use response::Success;
use token::{KeySource, TokenFailure, VerifiedToken};

/// Time kept back from the Lambda deadline to write the audit line and the answer.
pub const DEADLINE_MARGIN: Duration = Duration::from_millis(250);

/// What Lambda says about one invocation.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    pub request_id: String,
    /// The ARN the function was invoked by: its account and region bind secret ARNs.
    pub function_arn: String,
    /// When Lambda stops the invocation; `None` off Lambda.
    pub deadline: Option<SystemTime>,
}

impl Invocation {
    /// The deadline from the Runtime API's `Lambda-Runtime-Deadline-Ms`. One already past
    /// when the event arrives counts as none: Lambda never sends one (it stops the function
    /// at its own timeout anyway), but `cargo lambda watch` sends a fixed 600000 ms, a moment
    /// in 1970 that would abandon every invocation at once.
    pub fn deadline_from_runtime(deadline_ms: u64, now: SystemTime) -> Option<SystemTime> {
        let deadline = UNIX_EPOCH + Duration::from_millis(deadline_ms);
        (deadline > now).then_some(deadline)
    }
}

/// The pure part of an invocation: what was asked and in which shape, before any I/O.
#[derive(Debug)]
pub struct Prepared {
    pub shape: EntryShape,
    /// The API Gateway context, whose token still has to be verified.
    pub api: Option<ApiContext>,
    /// The validated command, or why the request is bad.
    pub command: Result<SetPassword, AppError>,
    record: AuditRecord,
}

impl Prepared {
    /// The audit record as it stands before any verification or Cognito call.
    pub fn audit_record(&self) -> AuditRecord {
        let mut record = self.record.clone();
        if let Err(err) = &self.command {
            record_failure(&mut record, err);
        }
        record
    }
}

/// Parses the event for the configured entry points and validates the request.
pub fn prepare(config: &Config, raw_event: &str, invocation: &Invocation) -> Prepared {
    let parsed = event::parse_event(config.entry_points, raw_event);
    let mut record = initial_record(config, &parsed, &invocation.request_id);
    let ParsedEvent { shape, api, input, .. } = parsed;
    let command = input.and_then(|input| match input {
        RequestInput::Api { path_username, body } => request::parse_api_body(config, path_username.as_deref(), &body),
        RequestInput::Direct(payload) => {
            let home = FunctionHome::from_function_arn(&invocation.function_arn);
            let (command, iam) = request::parse_direct(config, &payload, home.as_ref())?;
            record.requested_by = iam.requested_by.map(|s| event::audit_label(&s));
            record.correlation_id = iam.correlation_id.map(|s| event::audit_label(&s));
            Ok(command)
        }
    });
    if let Ok(command) = &command {
        record.target_username = Some(command.username.as_str().to_owned());
        record.permanent = Some(command.permanent);
        record.sign_out = Some(command.sign_out);
        record.change_reason = command.reason.as_ref().map(|r| r.as_str().to_owned());
        record.generated = matches!(command.password, PasswordSource::Generate).then_some(true);
    }
    Prepared {
        shape,
        api,
        command,
        record,
    }
}

fn initial_record(config: &Config, parsed: &ParsedEvent, lambda_request_id: &str) -> AuditRecord {
    let api = parsed.api.as_ref();
    let claims = api.and_then(|a| a.claims.as_ref());
    AuditRecord {
        event: AUDIT_EVENT,
        outcome: Outcome::Success,
        code: None,
        reason: None,
        detail: None,
        entry: parsed.shape.audit_name(),
        actor_type: if parsed.shape.is_api() { "user" } else { "iam" },
        actor_sub: None,
        actor_username: None,
        actor_groups: None,
        claimed_username: claims.and_then(|c| c.cognito_username.clone().or_else(|| c.username.clone())),
        source_ip: api.and_then(|a| a.source_ip.clone()),
        user_agent: api.and_then(|a| a.user_agent.clone()),
        requested_by: None,
        correlation_id: None,
        user_pool_id: config.user_pool_id.clone(),
        target_username: parsed.target_hint.clone(),
        permanent: None,
        sign_out: None,
        password_set: PasswordSet::No,
        signed_out: None,
        sign_out_error: None,
        change_reason: None,
        generated: None,
        event_published: None,
        event_error: None,
        lambda_request_id: lambda_request_id.to_owned(),
        api_request_id: api.and_then(|a| a.request_id.clone()),
        duration_ms: 0,
    }
}

fn record_failure(record: &mut AuditRecord, err: &AppError) {
    record.outcome = err.outcome();
    record.code = Some(err.code());
    record.reason = Some(err.to_string());
    record.detail = err.detail().map(str::to_owned);
}

/// The function: configuration and the ports, built once at init.
pub struct App<D, S, K, E> {
    pub config: Config,
    directory: D,
    secrets: S,
    keys: K,
    /// Where `Password Set` events go (`EVENT_BUS_NAME`), if anywhere.
    events: Option<E>,
    /// The target pool's password policy, read once and kept for the life of the process.
    pool_policy: OnceLock<PasswordPolicy>,
    output: Output,
}

impl<D, S, K, E> App<D, S, K, E>
where
    D: Directory + Sync,
    S: SecretStore + Sync,
    K: KeySource + Sync,
    E: ChangeEvents + Sync,
{
    pub fn new(config: Config, directory: D, secrets: S, keys: K, events: Option<E>, output: Output) -> Self {
        Self {
            config,
            directory,
            secrets,
            keys,
            events,
            pool_policy: OnceLock::new(),
            output,
        }
    }

    /// Handles one raw event. API shapes always get `Ok(proxy response)`; direct invocations
    /// get `Ok(output)` or `Err(Diagnostic)` with the error code as `errorType`.
    pub async fn handle(&self, raw_event: &str, invocation: &Invocation) -> Result<Value, Diagnostic> {
        let started = Instant::now();
        let Prepared {
            shape,
            api,
            command,
            mut record,
        } = prepare(&self.config, raw_event, invocation);

        let work = self.run(shape, api, command, &mut record);
        let budget = invocation
            .deadline
            .map(|deadline| deadline.duration_since(SystemTime::now()).unwrap_or_default())
            .map(|left| left.saturating_sub(DEADLINE_MARGIN));
        let result = match budget {
            None => work.await,
            Some(budget) => match tokio::time::timeout(budget, work).await {
                Ok(result) => result,
                Err(_) => abandoned_at_deadline(&mut record),
            },
        };
        if let Err(err) = &result {
            record_failure(&mut record, err);
        }
        record.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        record.emit(&self.output);
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        self.output.write_line(
            &metrics::emf_document(
                &self.config.metrics_namespace,
                record.outcome,
                shape,
                record.code,
                record.event_published == Some(false),
                now_ms,
            )
            .to_string(),
        );
        let request_id = record.api_request_id.as_deref().unwrap_or(&invocation.request_id);
        response::render(
            shape,
            result.as_ref(),
            request_id,
            self.config.cors_allow_origin.as_deref(),
        )
    }

    /// Authenticates API callers, then executes. The token is verified before anything else
    /// is said: an unauthenticated caller learns nothing about their request's validity.
    async fn run(
        &self,
        shape: EntryShape,
        api: Option<ApiContext>,
        command: Result<SetPassword, AppError>,
        record: &mut AuditRecord,
    ) -> Result<Success, AppError> {
        let actor = match (shape.is_api(), api) {
            (false, _) => Actor::Workflow,
            // An API-shaped event that could not be read: nothing to verify.
            (true, None) => {
                return Err(command
                    .err()
                    .unwrap_or_else(|| AppError::invalid("event", "unreadable")))
            }
            (true, Some(api)) => {
                let token = self.authenticate(&api).await?;
                record.actor_sub = Some(token.sub.clone());
                record.actor_username = Some(token.username.clone());
                record.actor_groups = Some(token.groups.join(","));
                record.claimed_username = None;
                policy::claims_agree(&token, api.claims.as_ref())?;
                Actor::Admin(token)
            }
        };
        let command = command?;
        policy::refuse_self_reset(&actor, &command.username)?;
        self.execute(actor, command, record).await
    }

    async fn authenticate(&self, api: &ApiContext) -> Result<VerifiedToken, AppError> {
        let policy = self
            .config
            .token
            .as_ref()
            .map(|t| &t.policy)
            .ok_or_else(|| AppError::Internal {
                detail: "an API event reached a function without token settings".into(),
            })?;
        if api.authorization.conflicting {
            return Err(AppError::Unauthorized {
                reason: "conflicting Authorization headers",
            });
        }
        let header = api.authorization.value.as_deref().ok_or(AppError::Unauthorized {
            reason: "no Authorization header",
        })?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        token::verify(strip_bearer(header), &self.keys, policy, now)
            .await
            .map_err(|failure| match failure {
                TokenFailure::Invalid(reason) => AppError::Unauthorized { reason },
                TokenFailure::KeysUnavailable(detail) => AppError::Upstream {
                    kind: UpstreamKind::Unreachable,
                    detail: format!("JWKS: {detail}"),
                },
            })
    }

    /// The look-ups the policy needs (one concurrent round, with the secret read), the
    /// decision, the set and the optional sign-out.
    async fn execute(&self, actor: Actor, command: SetPassword, record: &mut AuditRecord) -> Result<Success, AppError> {
        let config = &self.config;
        let lookups = policy::lookups(config, &actor);
        let target = command.username.as_str();
        let caller = match &actor {
            Actor::Admin(token) => token.username.as_str(),
            Actor::Workflow => "",
        };
        let admin_pool = config.admin_user_pool_id.as_str();
        let pool = config.user_pool_id.as_str();
        let generated = matches!(command.password, PasswordSource::Generate);
        let (caller_groups, caller_user, target_groups, target_user, pool_policy, password) = tokio::join!(
            when(lookups.caller_groups, self.directory.list_groups(admin_pool, caller)),
            when(lookups.caller_user, self.directory.get_user(admin_pool, caller)),
            when(lookups.target_groups, self.directory.list_groups(pool, target)),
            when(lookups.target_user, self.directory.get_user(pool, target)),
            self.pool_policy(),
            self.resolve_password(command.password),
        );
        if let Some(Ok(live)) = &caller_groups {
            record.actor_groups = Some(live.join(","));
        }
        policy::decide(
            config,
            &actor,
            Facts {
                caller_groups,
                caller_user,
                target_groups,
                target_user,
            },
        )?;
        let password = match password? {
            Some(password) => password,
            None => Password::generated(
                password::generate(
                    pool_policy.as_ref().unwrap_or(&password::FALLBACK_GENERATION_POLICY),
                    target,
                )
                .map_err(|err| AppError::Internal {
                    detail: format!("generating a password: {err}"),
                })?,
            ),
        };
        let violations = password::check(
            password.expose_to_cognito(),
            target,
            pool_policy.as_ref(),
            config.password_blocklist,
        );
        if !violations.is_empty() {
            return Err(AppError::PasswordRejected(violations));
        }

        record.password_set = PasswordSet::Unknown;
        match self
            .directory
            .set_password(pool, target, &password, command.permanent)
            .await
        {
            Ok(accepted) => {
                record.password_set = PasswordSet::Yes;
                record.detail = accepted.oddity;
            }
            // The adapter decides whether a failed set may have changed the password.
            Err(err @ AppError::SetOutcomeUnknown { .. }) => return Err(err),
            Err(err) => {
                record.password_set = PasswordSet::No;
                return Err(err);
            }
        }

        // The password is set: a failed sign-out is reported, not turned into an error that
        // invites a retry of the set (which password history would refuse).
        let signed_out = if command.sign_out {
            match self.directory.global_sign_out(pool, target).await {
                Ok(()) => Some(true),
                Err(err) => {
                    record.sign_out_error = Some(err.code());
                    let sign_out = format!(
                        "AdminUserGlobalSignOut after the set: {}",
                        err.detail().unwrap_or(&err.to_string())
                    );
                    record.detail = Some(match record.detail.take() {
                        Some(oddity) => format!("{oddity}; {sign_out}"),
                        None => sign_out,
                    });
                    Some(false)
                }
            }
        } else {
            None
        };
        record.signed_out = signed_out;
        self.publish(&actor, &command.reason, generated, record).await;
        Ok(Success {
            username: target.to_owned(),
            user_status: UserStatus::after_set(command.permanent),
            signed_out,
            generated_password: generated.then_some(password),
        })
    }

    /// The password to set; `None` when the function is to generate one (after the decision,
    /// with the pool's policy).
    async fn resolve_password(&self, source: PasswordSource) -> Result<Option<Password>, AppError> {
        match source {
            PasswordSource::Literal(password) => Ok(Some(password)),
            PasswordSource::SecretRef(secret_id) => self.secrets.password(&secret_id).await.map(Some),
            PasswordSource::Generate => Ok(None),
        }
    }

    /// The target pool's password policy: cached after the first good read. A failed read
    /// does not fail the request: Cognito still enforces its policy on the set.
    async fn pool_policy(&self) -> Option<PasswordPolicy> {
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

    /// One `Password Set` event per successful set, when a bus is configured. A failed
    /// publish is logged, audited and counted, and does not fail the request: the password
    /// has changed.
    async fn publish(
        &self,
        actor: &Actor,
        reason: &Option<password::Reason>,
        generated: bool,
        record: &mut AuditRecord,
    ) {
        let Some(events) = &self.events else {
            return;
        };
        let event = PasswordSetEvent {
            username: record.target_username.clone().unwrap_or_default(),
            user_pool_id: self.config.user_pool_id.clone(),
            permanent: record.permanent.unwrap_or(false),
            signed_out: record.signed_out == Some(true),
            generated,
            initiator: match actor {
                Actor::Admin(token) => Initiator::Admin(change_events::Actor {
                    username: Some(token.username.clone()),
                    sub: Some(token.sub.clone()),
                }),
                Actor::Workflow => Initiator::Workflow(record.requested_by.clone()),
            },
            reason: reason.clone(),
            correlation_id: record.correlation_id.clone(),
            request_ids: RequestIds {
                lambda: record.lambda_request_id.clone(),
                api: record.api_request_id.clone(),
            },
        };
        match events.publish(&event).await {
            Ok(()) => record.event_published = Some(true),
            Err(detail) => {
                tracing::warn!(detail = detail.as_str(), "the Password Set event was not published");
                record.event_published = Some(false);
                record.event_error = Some(detail);
            }
        }
    }
}

/// The answer for work abandoned at the Lambda deadline, from how far it got: before the set
/// a timeout, during it an unknown outcome, after it (in the sign-out) a success whose
/// sign-out did not happen.
fn abandoned_at_deadline(record: &mut AuditRecord) -> Result<Success, AppError> {
    let detail = "abandoned at the Lambda deadline before Cognito answered".to_owned();
    match record.password_set {
        PasswordSet::No => Err(AppError::Upstream {
            kind: UpstreamKind::Timeout,
            detail,
        }),
        PasswordSet::Unknown => Err(AppError::SetOutcomeUnknown { detail }),
        PasswordSet::Yes => {
            record.signed_out = Some(false);
            record.sign_out_error = Some("UpstreamError");
            record.detail = Some(format!("AdminUserGlobalSignOut: {detail}"));
            // A generated password is lost with the abandoned work: the admin must reset again.
            Ok(Success {
                username: record.target_username.clone().unwrap_or_default(),
                user_status: UserStatus::after_set(record.permanent.unwrap_or(false)),
                signed_out: Some(false),
                generated_password: None,
            })
        }
    }
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

/// A workflow-only deployment has no keys: an API event never gets this far there (the
/// entry point refuses it), and if one did, it would fail closed.
impl<K: KeySource + Sync> KeySource for Option<K> {
    async fn key(&self, kid: &str) -> Result<token::VerifyingKey, token::KeyError> {
        match self {
            Some(keys) => keys.key(kid).await,
            None => Err(token::KeyError::Unavailable(
                "no JWKS on a workflow-only deployment".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests;

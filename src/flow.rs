//! One invocation, top to bottom: prepare (parse the event for the configured entry points
//! and validate the request: pure, no I/O) -> authenticate (API callers: their token, then the
//! authorizer's claims against it; no Cognito call before that) -> the look-ups the policy
//! needs, concurrently -> the policy's decision -> `AdminSetUserPassword` -> the optional
//! sign-out -> the optional `Password Set` event. Each step returns a value; the whole ends in
//! one `Ended`, from which the audit line, the metrics document and the response are each
//! written once, before the Lambda deadline.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::Diagnostic;
use serde_json::Value;

use crate::audit::{AuditRecord, PasswordSet};
use crate::config::Config;
use crate::directory::{ChangeEvents, Directory, SecretStore, UserStatus};
use crate::error::{AppError, UpstreamKind};
use crate::event::{ApiContext, EntryShape};
use crate::metrics;
use crate::output::Output;
use crate::password::PasswordPolicy;
use crate::policy::{self, Actor};
use crate::request::{Command, FunctionHome, PasswordSource};
use crate::response::{self, Success};
use crate::token::{KeySource, VerifiedToken};
use prepare::record_failure;
use steps::{lock, Given};

mod prepare;
mod reset;
mod steps;

pub use prepare::{prepare, Invocation, Prepared, DEADLINE_MARGIN};

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
        let ended = self.invoke(raw_event, invocation).await;
        ended.record.emit(&self.output);
        self.output
            .write_line(&ended.metrics_line(&self.config.metrics_namespace));
        ended.response(self.config.cors_allow_origin.as_deref())
    }

    /// Prepares, then runs the rest until it ends or the deadline comes, whichever is first.
    async fn invoke(&self, raw_event: &str, invocation: &Invocation) -> Ended {
        let started = Instant::now();
        let prepared = prepare(&self.config, raw_event, invocation);
        if let Err(refusal) = policy::require_alias(&self.config, &invocation.function_arn) {
            let refused = Err(refusal.error());
            let mut ended = Ended::new(
                prepared.shape,
                prepared.record,
                Progress::default(),
                refused,
                started.elapsed(),
            );
            ended.record.detail = Some(refusal.detail());
            return ended;
        }
        let (shape, record) = (prepared.shape, &prepared.record);
        let progress = Mutex::default();
        let home = FunctionHome::from_function_arn(&invocation.function_arn);
        let work = self.run(shape, prepared.api, prepared.command, record, home.as_ref(), &progress);
        let (result, abandoned_in) = match tokio::time::timeout(invocation.budget(), work).await {
            Ok(result) => (result, None),
            Err(_) => {
                let progress = lock(&progress);
                (abandoned_at_deadline(&progress, record), Some(progress.phase))
            }
        };
        let progress = progress.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut ended = Ended::new(shape, prepared.record, progress, result, started.elapsed());
        ended.record.phase = abandoned_in;
        ended
    }

    /// Authenticates API callers, then executes. The token is verified before anything else
    /// is said: an unauthenticated caller learns nothing about their request's validity.
    async fn run(
        &self,
        shape: EntryShape,
        api: Option<ApiContext>,
        command: Result<Command, AppError>,
        asked: &AuditRecord,
        home: Option<&FunctionHome>,
        progress: &Mutex<Progress>,
    ) -> Result<Done, AppError> {
        let actor = match (shape.is_api(), api) {
            (false, _) => Actor::Workflow,
            // An API-shaped event that could not be read: nothing to verify.
            (true, None) => {
                return Err(command
                    .err()
                    .unwrap_or_else(|| AppError::invalid("event", "unreadable")))
            }
            (true, Some(api)) => {
                lock(progress).phase = "jwks";
                let token = self.authenticate(&api).await?;
                lock(progress).caller = Some(token.clone());
                policy::claims_agree(&token, api.claims.as_ref())?;
                policy::refuse_non_admin_token(&self.config, &token)?;
                Actor::Admin(token)
            }
        };
        let command = command?;
        policy::refuse_self_reset(&actor, command.username())?;
        let command = match command {
            Command::Set(command) => command,
            Command::Reset(reset) => return self.reset(&actor, reset, asked, progress).await,
        };
        let target = command.username.as_str();
        let generated = matches!(command.password, PasswordSource::Generate);

        lock(progress).phase = "look_up";
        let (facts, pool_policy, password) = self.look_up(&actor, target, command.password).await;
        if let Some(Ok(live)) = &facts.caller_groups {
            lock(progress).live_groups = Some(live.clone());
        }
        let resolved = match &facts.target_user {
            Some(Ok(user)) => Some((user.username.clone(), user.sub.clone())),
            _ => None,
        };
        let target = resolved.as_ref().map_or(target, |(username, _)| username.as_str());
        lock(progress).target.clone_from(&resolved);
        policy::decide(&self.config, &actor, facts)?;
        let given = password?;
        let from_secret = matches!(given, Given::Secret(_));
        if let Given::Secret(secret) = &given {
            lock(progress).secret_name = Some(secret.name.clone());
        }
        let password = self.password(given, pool_policy.as_ref(), target, home)?;
        lock(progress).phase = "set";
        let accepted = self.set(target, &password, command.permanent, progress).await;
        let accepted = accepted.map_err(|err| match err {
            // Cognito's policy, when the function could not read it: still the one answer.
            AppError::InvalidPassword(reason) if from_secret => AppError::SecretUnusable { detail: reason },
            err => err,
        })?;
        let expires_at = match command.permanent {
            false => pool_policy.map(|p| p.temporary_password_expires_at(SystemTime::now())),
            true => None,
        };
        let sign_out = match command.sign_out {
            true => {
                lock(progress).phase = "sign_out";
                Some(self.sign_out(target).await)
            }
            false => None,
        };
        let signed_out = sign_out.as_ref().map(Result::is_ok);
        lock(progress).phase = "publish";
        lock(progress).sign_out.clone_from(&sign_out);
        let published = self
            .publish(&actor, target, command.reason, generated, signed_out, asked)
            .await;
        Ok(Done {
            success: Success {
                username: target.to_owned(),
                user_status: UserStatus::after_set(command.permanent),
                signed_out,
                generated_password: generated.then_some(password),
                temporary_password_expires_at: expires_at,
            },
            oddity: accepted.oddity,
            sign_out_failure: sign_out.and_then(Result::err),
            published,
        })
    }
}

/// What the work has established that work abandoned at the Lambda deadline must still
/// report: who the caller is, how far it got, whether the password changed and how the
/// sign-out went. The steps note it as they go.
#[derive(Debug, Default)]
struct Progress {
    /// The phase in progress: `jwks` (the token check), `look_up`, `set`, `sign_out`,
    /// `publish`; empty before any.
    pub phase: &'static str,
    pub caller: Option<VerifiedToken>,
    /// The caller's live groups, when they were looked up.
    pub live_groups: Option<Vec<String>>,
    /// The target's username and `sub` as Cognito returned them.
    pub target: Option<(String, Option<String>)>,
    /// The name Secrets Manager reported for the secret read, if one was.
    pub secret_name: Option<String>,
    pub password_set: PasswordSet,
    /// The asked-for sign-out, once it ended.
    pub sign_out: Option<Result<(), (&'static str, String)>>,
}

/// A password set, and what came after it.
#[derive(Debug)]
struct Done {
    pub success: Success,
    /// What was odd about Cognito's answer to the set (a 200 it could not read), for `detail`.
    pub oddity: Option<String>,
    /// Why the asked-for sign-out did not happen: its error code and the log-only detail.
    pub sign_out_failure: Option<(&'static str, String)>,
    /// Whether the `Password Set` event reached the bus, when one is configured.
    pub published: Option<Result<(), String>>,
}

/// The answer for work abandoned at the Lambda deadline, from how far it got: before the set
/// a timeout, during it an unknown outcome, after it a success that says what became of the
/// sign-out (if asked for) and of the change event (if it was being published).
fn abandoned_at_deadline(progress: &Progress, asked: &AuditRecord) -> Result<Done, AppError> {
    let detail = "abandoned at the Lambda deadline before Cognito answered".to_owned();
    match progress.password_set {
        PasswordSet::No => Err(AppError::Upstream {
            kind: UpstreamKind::Timeout,
            detail,
        }),
        PasswordSet::Unknown => Err(AppError::SetOutcomeUnknown { detail }),
        // A generated password is lost with the abandoned work: the admin must reset again.
        PasswordSet::Yes => {
            let sign_out = match (asked.sign_out, &progress.sign_out) {
                (Some(true), None) => Some(Err(("UpstreamError", format!("AdminUserGlobalSignOut: {detail}")))),
                (_, ended) => ended.clone(),
            };
            let publishing = progress.phase == "publish";
            let target = progress.target.as_ref().map(|(username, _)| username.clone());
            Ok(Done {
                success: Success {
                    username: target.or_else(|| asked.target_username.clone()).unwrap_or_default(),
                    user_status: UserStatus::after_set(asked.permanent.unwrap_or(false)),
                    signed_out: sign_out.as_ref().map(Result::is_ok),
                    generated_password: None,
                    temporary_password_expires_at: None,
                },
                oddity: None,
                sign_out_failure: sign_out.and_then(Result::err),
                published: publishing.then(|| Err("PutEvents: abandoned at the Lambda deadline".to_owned())),
            })
        }
    }
}

/// One invocation's outcome: the audit record written from everything it established, and
/// the answer.
struct Ended {
    pub shape: EntryShape,
    pub record: AuditRecord,
    pub result: Result<Done, AppError>,
}

impl Ended {
    fn new(
        shape: EntryShape,
        mut record: AuditRecord,
        progress: Progress,
        result: Result<Done, AppError>,
        duration: Duration,
    ) -> Self {
        if let Some(token) = progress.caller {
            record.actor_sub = Some(token.sub);
            record.actor_username = Some(token.username);
            record.actor_groups = Some(progress.live_groups.unwrap_or(token.groups).join(","));
            record.claimed_username = None;
        }
        if let Some((username, sub)) = progress.target {
            record.target_username = Some(username);
            record.target_sub = sub;
        }
        record.password_set = progress.password_set;
        record.secret_name = progress.secret_name;
        match &result {
            Ok(done) => {
                record.signed_out = done.success.signed_out;
                record.detail = done.oddity.clone();
                if let Some((code, detail)) = &done.sign_out_failure {
                    record.sign_out_error = Some(*code);
                    record.detail = Some(match record.detail.take() {
                        Some(oddity) => format!("{oddity}; {detail}"),
                        None => detail.clone(),
                    });
                }
                record.event_published = done.published.as_ref().map(Result::is_ok);
                record.event_error = done.published.clone().and_then(Result::err);
            }
            Err(err) => record_failure(&mut record, err),
        }
        record.duration_ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        Self { shape, record, result }
    }

    /// The EMF metrics document, as one line.
    fn metrics_line(&self, namespace: &str) -> String {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let (r, publish_failed) = (&self.record, self.record.event_published == Some(false));
        metrics::emf_document(
            namespace,
            r.outcome,
            self.shape,
            r.action,
            r.code,
            publish_failed,
            now_ms,
        )
        .to_string()
    }

    /// The answer in the caller's shape, with the request id the caller can quote.
    fn response(&self, cors_allow_origin: Option<&str>) -> Result<Value, Diagnostic> {
        let request_id = self
            .record
            .api_request_id
            .as_ref()
            .unwrap_or(&self.record.lambda_request_id);
        let result = self.result.as_ref().map(|done| &done.success);
        response::render(self.shape, result, request_id, cors_allow_origin)
    }
}

//! admin-set-password: an authorised administrator sets a Cognito user's password.
//!
//! The handler runs event -> `prepare` (parse, authorise on claims, validate: pure, no I/O)
//! -> look-ups and live authorisation -> `AdminSetUserPassword` -> response, and writes one
//! audit record and one metrics document whatever happens.

use std::future::Future;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::Diagnostic;
use serde_json::Value;

pub mod audit;
pub mod auth;
pub mod change_events;
pub mod config;
pub mod directory;
pub mod error;
pub mod event;
mod json;
pub mod metrics;
pub mod password;
pub mod request;
pub mod response;
pub mod telemetry;
pub mod upstream;

pub use audit::{AuditRecord, Outcome, AUDIT_EVENT};
pub use config::{Config, ConfigError};
pub use directory::cognito::{CognitoDirectory, SecretsManagerStore};
pub use directory::{Directory, SecretStore, IAM_ACTIONS};
pub use error::AppError;
pub use metrics::MetricsSink;

use auth::{AuthorisedCaller, Facts, Lookups};
use directory::UserStatus;
use event::{EntryShape, ParsedEvent, RequestInput};
use request::{Password, PasswordSource, SetPassword};
use response::Success;

/// A request that passed every check that needs no I/O.
#[derive(Debug)]
pub struct Approved {
    pub command: SetPassword,
    /// The API caller (claims checked); `None` for direct invocations, which IAM authorised.
    pub caller: Option<AuthorisedCaller>,
}

/// The pure part of an invocation: what was asked, by whom, and whether it may go ahead.
#[derive(Debug)]
pub struct Prepared {
    pub shape: EntryShape,
    record: AuditRecord,
    pub decision: Result<Approved, AppError>,
}

impl Prepared {
    /// The audit record as it stands before any Cognito call (final if `decision` is an error).
    pub fn audit_record(&self) -> AuditRecord {
        let mut record = self.record.clone();
        if let Err(err) = &self.decision {
            record_failure(&mut record, err);
        }
        record
    }
}

/// Parses the event, authorises the caller on their claims and validates the request.
pub fn prepare(config: &Config, raw_event: &str, lambda_request_id: &str) -> Prepared {
    let parsed = event::parse_event(raw_event);
    let mut record = initial_record(config, &parsed, lambda_request_id);
    let shape = parsed.shape;
    let decision = decide(config, parsed, &mut record);
    Prepared {
        shape,
        record,
        decision,
    }
}

fn initial_record(config: &Config, parsed: &ParsedEvent, lambda_request_id: &str) -> AuditRecord {
    let api = parsed.api.as_ref();
    let caller = api.map(|a| &a.caller);
    AuditRecord {
        event: AUDIT_EVENT,
        outcome: Outcome::Success,
        code: None,
        reason: None,
        detail: None,
        entry: parsed.shape.audit_name(),
        actor_type: if parsed.shape.is_api() { "user" } else { "iam" },
        actor_sub: caller.and_then(|c| c.sub.clone()),
        actor_username: caller.and_then(|c| c.username.clone()),
        actor_groups: caller.and_then(|c| c.groups.as_ref()).map(|g| g.join(",")),
        source_ip: api.and_then(|a| a.source_ip.clone()),
        user_agent: api.and_then(|a| a.user_agent.clone()),
        requested_by: None,
        correlation_id: None,
        user_pool_id: config.user_pool_id.clone(),
        target_username: parsed.target_hint.clone(),
        permanent: None,
        sign_out: None,
        password_set: false,
        lambda_request_id: lambda_request_id.to_owned(),
        api_request_id: api.and_then(|a| a.request_id.clone()),
        duration_ms: 0,
    }
}

/// Claims first (an outsider learns nothing about the body's validity), then the request.
fn decide(config: &Config, parsed: ParsedEvent, record: &mut AuditRecord) -> Result<Approved, AppError> {
    let caller = match (parsed.shape.is_api(), &parsed.api) {
        (false, _) => None,
        (true, Some(api)) => Some(auth::authorise_claims(config, &api.caller)?),
        (true, None) => {
            return Err(parsed
                .input
                .err()
                .unwrap_or_else(|| AppError::Forbidden("no authorizer context".into())))
        }
    };
    let command = match parsed.input? {
        RequestInput::Api { path_username, body } => request::parse_api_body(path_username.as_deref(), &body)?,
        RequestInput::Direct(payload) => {
            let (command, iam) = request::parse_direct(config, &payload)?;
            record.requested_by = iam.requested_by.map(|s| event::audit_label(&s));
            record.correlation_id = iam.correlation_id.map(|s| event::audit_label(&s));
            command
        }
    };
    record.target_username = Some(command.username.as_str().to_owned());
    record.permanent = Some(command.permanent);
    record.sign_out = Some(command.sign_out);
    if let Some(caller) = &caller {
        auth::refuse_self_reset(caller, &command.username)?;
    }
    Ok(Approved { command, caller })
}

fn record_failure(record: &mut AuditRecord, err: &AppError) {
    record.outcome = err.outcome();
    record.code = Some(err.code());
    record.reason = Some(err.to_string());
    record.detail = err.detail().map(str::to_owned);
}

/// The function: configuration and the two ports, built once at init.
pub struct App<D, S> {
    pub config: Config,
    directory: D,
    secrets: S,
    metrics: MetricsSink,
}

impl<D: Directory + Sync, S: SecretStore + Sync> App<D, S> {
    pub fn new(config: Config, directory: D, secrets: S, metrics: MetricsSink) -> Self {
        Self {
            config,
            directory,
            secrets,
            metrics,
        }
    }

    /// Handles one raw event. API shapes always get `Ok(proxy response)`; direct invocations
    /// get `Ok(output)` or `Err(Diagnostic)` with the error code as `errorType`.
    pub async fn handle(&self, raw_event: &str, lambda_request_id: &str) -> Result<Value, Diagnostic> {
        let started = Instant::now();
        let Prepared {
            shape,
            mut record,
            decision,
        } = prepare(&self.config, raw_event, lambda_request_id);
        let result = match decision {
            Ok(approved) => self.execute(approved, &mut record).await,
            Err(err) => Err(err),
        };
        if let Err(err) = &result {
            record_failure(&mut record, err);
        }
        record.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        record.emit();
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        self.metrics.write(&metrics::emf_document(
            &self.config.metrics_namespace,
            record.outcome,
            shape,
            record.code,
            now_ms,
        ));
        let request_id = record.api_request_id.as_deref().unwrap_or(lambda_request_id);
        response::render(
            shape,
            result.as_ref(),
            request_id,
            self.config.cors_allow_origin.as_deref(),
        )
    }

    /// Look-ups (concurrently, only those the rules need), live authorisation, the set, and
    /// the optional sign-out: at most two sequential Cognito round trips before the sign-out.
    async fn execute(&self, approved: Approved, record: &mut AuditRecord) -> Result<Success, AppError> {
        let Approved { command, caller } = approved;
        let config = &self.config;
        let lookups = Lookups::needed(config, caller.as_ref());
        let target = command.username.as_str();
        let caller_name = caller.as_ref().map_or("", |c| c.username.as_str());

        let (caller_groups, target_groups, target_user, password) = tokio::join!(
            when(
                lookups.caller_groups,
                self.directory.list_groups(&config.admin_user_pool_id, caller_name)
            ),
            when(
                lookups.target_groups,
                self.directory.list_groups(&config.user_pool_id, target)
            ),
            when(
                lookups.target_user,
                self.directory.get_user(&config.user_pool_id, target)
            ),
            self.resolve_password(command.password),
        );

        // The caller's standing is settled before anything about the target is revealed.
        let caller_groups = caller_groups.transpose().map_err(|err| match err {
            AppError::UserNotFound => AppError::Forbidden("the caller is not a user of the admin user pool".into()),
            other => other,
        })?;
        auth::authorise_live_caller(config, caller.as_ref(), caller_groups.as_deref())?;
        let facts = Facts {
            caller_groups,
            target_groups: target_groups.transpose()?,
            target_user: target_user.transpose()?,
        };
        auth::authorise_target(config, caller.as_ref(), &facts)?;
        let password = password?;

        self.directory
            .set_password(&config.user_pool_id, target, &password, command.permanent)
            .await?;
        record.password_set = true;

        if command.sign_out {
            self.directory.global_sign_out(&config.user_pool_id, target).await?;
        }
        Ok(Success {
            username: target.to_owned(),
            user_status: UserStatus::after_set(command.permanent),
            signed_out: command.sign_out.then_some(true),
        })
    }

    async fn resolve_password(&self, source: PasswordSource) -> Result<Password, AppError> {
        match source {
            PasswordSource::Literal(password) => Ok(password),
            PasswordSource::SecretRef(secret_id) => self.secrets.password(&secret_id).await,
        }
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

#[cfg(test)]
mod tests;

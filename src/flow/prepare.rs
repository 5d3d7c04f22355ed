//! The first step, pure: what Lambda says about the invocation, the event parsed for the
//! configured entry points, the request validated, and the audit record as they describe it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::audit::AuditRecord;
use crate::config::Config;
use crate::error::AppError;
use crate::event::{self, ApiContext, EntryShape, ParsedEvent, RequestInput, Route};
use crate::request::{self, Command, FunctionHome, PasswordSource};

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

    /// How long the work may take: until the deadline, less the margin; no limit off Lambda.
    pub(crate) fn budget(&self) -> Duration {
        let left = |deadline: SystemTime| deadline.duration_since(SystemTime::now()).unwrap_or_default();
        self.deadline
            .map_or(Duration::MAX, |deadline| left(deadline).saturating_sub(DEADLINE_MARGIN))
    }
}

/// The pure part of an invocation: what was asked and in which shape, before any I/O.
#[derive(Debug)]
pub struct Prepared {
    pub shape: EntryShape,
    /// The API Gateway context, whose token still has to be verified.
    pub api: Option<ApiContext>,
    /// The validated command, or why the request is bad.
    pub command: Result<Command, AppError>,
    /// What the event and the request say, for the audit line and the change event.
    pub(crate) record: AuditRecord,
    /// The account and region of the ARN the function was invoked by: they bind secret ARNs.
    pub(crate) home: Option<FunctionHome>,
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
    let home = FunctionHome::from_function_arn(&invocation.function_arn);
    let mut record = asked(config, &parsed, &invocation.request_id);
    let ParsedEvent { shape, api, input, .. } = parsed;
    record.action = match &input {
        Ok(RequestInput::Api {
            route: Route::ResetPassword,
            ..
        }) => Some("reset_code"),
        Ok(_) => Some("set"),
        Err(_) => None,
    };
    let command = input.and_then(|input| match input {
        RequestInput::Api {
            route: Route::SetPassword,
            path_username,
            body,
        } => request::parse_api_body(config, path_username.as_deref(), &body).map(Command::Set),
        RequestInput::Api {
            route: Route::ResetPassword,
            path_username,
            body,
        } => request::parse_reset_body(config, path_username.as_deref(), &body).map(Command::Reset),
        RequestInput::Direct(payload) => {
            let iam = request::iam_labels(&payload);
            record.requested_by = iam.requested_by.map(|s| event::audit_label(&s));
            record.correlation_id = iam.correlation_id.map(|s| event::audit_label(&s));
            request::parse_direct(config, &payload, home.as_ref()).map(Command::Set)
        }
    });
    match &command {
        Ok(Command::Set(command)) => {
            record.target_username = Some(command.username.as_str().to_owned());
            record.permanent = Some(command.permanent);
            record.sign_out = Some(command.sign_out);
            record.change_reason = command.reason.as_ref().map(|r| r.as_str().to_owned());
            record.generated = matches!(command.password, PasswordSource::Generate).then_some(true);
        }
        Ok(Command::Reset(reset)) => {
            record.target_username = Some(reset.username.as_str().to_owned());
            record.sign_out = Some(reset.sign_out);
            record.change_reason = reset.reason.as_ref().map(|r| r.as_str().to_owned());
        }
        Err(_) => {}
    }
    Prepared {
        shape,
        api,
        command,
        record,
        home,
    }
}

/// The audit record as the event describes the request and its caller.
fn asked(config: &Config, parsed: &ParsedEvent, lambda_request_id: &str) -> AuditRecord {
    let api = parsed.api.as_ref();
    let claims = api.and_then(|a| a.claims.as_ref());
    AuditRecord {
        entry: parsed.shape.audit_name(),
        actor_type: if parsed.shape.is_api() { "user" } else { "iam" },
        claimed_username: claims.and_then(|c| c.cognito_username.clone().or_else(|| c.username.clone())),
        source_ip: api.and_then(|a| a.source_ip.clone()),
        user_agent: api.and_then(|a| a.user_agent.clone()),
        user_pool_id: config.user_pool_id.clone(),
        target_username: parsed.target_hint.clone(),
        lambda_request_id: lambda_request_id.to_owned(),
        api_request_id: api.and_then(|a| a.request_id.clone()),
        ..AuditRecord::default()
    }
}

/// Says in `record` why the invocation failed.
pub(crate) fn record_failure(record: &mut AuditRecord, err: &AppError) {
    record.outcome = err.outcome();
    record.code = Some(err.code());
    record.reason = Some(err.to_string());
    record.detail = err.detail().map(str::to_owned);
}

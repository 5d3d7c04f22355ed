//! How an invocation ends: what the steps noted on the way (`Progress`), what a finished set
//! or reset produced (`Done`), the answer for work abandoned at the deadline, and the one
//! `Ended` value from which the audit line, the metrics line and the response are rendered.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_runtime::Diagnostic;
use serde_json::Value;

use super::prepare::record_failure;
use crate::audit::{AuditRecord, PasswordSet};
use crate::directory::UserStatus;
use crate::error::{AppError, UpstreamKind};
use crate::event::EntryShape;
use crate::metrics;
use crate::response::{self, Success};
use crate::token::VerifiedToken;

/// What the work has established that work abandoned at the Lambda deadline must still
/// report: who the caller is, how far it got, whether the password changed and how the
/// sign-out went. The steps note it as they go.
#[derive(Debug, Default)]
pub(super) struct Progress {
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
    pub sign_out: Option<SignOut>,
}

/// A password set, and what came after it.
#[derive(Debug)]
pub(super) struct Done {
    pub success: Success,
    /// What was odd about Cognito's answer to the set (a 200 it could not read), for `detail`.
    pub oddity: Option<String>,
    /// Why the asked-for sign-out did not happen: its error code and the log-only detail.
    pub sign_out_failure: Option<(&'static str, String)>,
    /// Whether the `Password Set` event reached the bus, when one is configured.
    pub published: Option<Result<(), String>>,
}

impl Done {
    /// A finished change: the user's status after it, and what became of the asked-for
    /// sign-out and of the change event.
    pub(super) fn new(
        username: &str,
        status: UserStatus,
        sign_out: Option<SignOut>,
        published: Option<Result<(), String>>,
    ) -> Self {
        let success = Success {
            username: username.to_owned(),
            user_status: status,
            signed_out: sign_out.as_ref().map(Result::is_ok),
            generated_password: None,
            temporary_password_expires_at: None,
        };
        let sign_out_failure = sign_out.and_then(Result::err);
        Self {
            success,
            oddity: None,
            sign_out_failure,
            published,
        }
    }
}

/// How an asked-for sign-out ended: its error code and the log-only detail if it failed.
pub(super) type SignOut = Result<(), (&'static str, String)>;

/// The answer for work abandoned at the Lambda deadline, from how far it got: before the set
/// a timeout, during it an unknown outcome, after it a success that says what became of the
/// sign-out (if asked for) and of the change event (if it was being published).
pub(super) fn abandoned_at_deadline(progress: &Progress, asked: &AuditRecord) -> Result<Done, AppError> {
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
            let target = progress.target.as_ref().map(|(username, _)| username.clone());
            let username = target.or_else(|| asked.target_username.clone()).unwrap_or_default();
            let status = UserStatus::after_set(asked.permanent.unwrap_or(false));
            let publishing = progress.phase == "publish";
            let published = publishing.then(|| Err("PutEvents: abandoned at the Lambda deadline".to_owned()));
            Ok(Done::new(&username, status, sign_out, published))
        }
    }
}

/// One invocation's outcome: the audit record written from everything it established, and
/// the answer.
pub(super) struct Ended {
    pub shape: EntryShape,
    pub record: AuditRecord,
    pub result: Result<Done, AppError>,
}

impl Ended {
    pub(super) fn new(
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
    pub(super) fn metrics_line(&self, namespace: &str) -> String {
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
    pub(super) fn response(&self, cors_allow_origin: Option<&str>) -> Result<Value, Diagnostic> {
        let request_id = self
            .record
            .api_request_id
            .as_ref()
            .unwrap_or(&self.record.lambda_request_id);
        let result = self.result.as_ref().map(|done| &done.success);
        response::render(self.shape, result, request_id, cors_allow_origin)
    }
}

//! The audit trail: exactly one record per invocation, whatever the outcome, written as a
//! structured JSON log line (target `audit`, never filtered out by the log level).

use serde::Serialize;

/// The audit event name that queries and metric filters match on.
pub const AUDIT_EVENT: &str = "admin_set_user_password";

/// How an invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    /// A rule refused the caller (403, 409).
    Denied,
    /// The request was malformed or named something that does not exist (400, 404).
    Invalid,
    /// We or Cognito failed (429, 5xx).
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Denied => "denied",
            Self::Invalid => "invalid",
            Self::Failed => "failed",
        }
    }

    /// The metric this outcome counts towards.
    pub fn metric_name(self) -> &'static str {
        match self {
            Self::Success => "PasswordSet",
            Self::Denied => "Denied",
            Self::Invalid => "Rejected",
            Self::Failed => "Failed",
        }
    }
}

/// Everything the audit line says. Built up as the invocation proceeds; no field can hold
/// the password (there is no field of a secret type, and the error messages never quote it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub event: &'static str,
    pub outcome: Outcome,
    pub code: Option<&'static str>,
    /// The caller-facing reason for a refusal or failure.
    pub reason: Option<String>,
    /// Internal detail of a server-side failure; only ever logged.
    pub detail: Option<String>,
    pub entry: &'static str,
    /// `user` (API Gateway, claims) or `iam` (direct invocation).
    pub actor_type: &'static str,
    pub actor_sub: Option<String>,
    pub actor_username: Option<String>,
    pub actor_groups: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub requested_by: Option<String>,
    pub correlation_id: Option<String>,
    pub user_pool_id: String,
    pub target_username: Option<String>,
    pub permanent: Option<bool>,
    pub sign_out: Option<bool>,
    /// Whether Cognito accepted the new password (true even if a later sign-out failed).
    pub password_set: bool,
    pub lambda_request_id: String,
    pub api_request_id: Option<String>,
    pub duration_ms: u64,
}

impl AuditRecord {
    /// Writes the record as one log line through `tracing`.
    pub fn emit(&self) {
        macro_rules! audit_line {
            ($level:expr) => {
                tracing::event!(
                    target: "audit",
                    $level,
                    event = self.event,
                    outcome = self.outcome.as_str(),
                    code = self.code,
                    reason = self.reason.as_deref(),
                    detail = self.detail.as_deref(),
                    entry = self.entry,
                    actor_type = self.actor_type,
                    actor_sub = self.actor_sub.as_deref(),
                    actor_username = self.actor_username.as_deref(),
                    actor_groups = self.actor_groups.as_deref(),
                    source_ip = self.source_ip.as_deref(),
                    user_agent = self.user_agent.as_deref(),
                    requested_by = self.requested_by.as_deref(),
                    correlation_id = self.correlation_id.as_deref(),
                    user_pool_id = self.user_pool_id.as_str(),
                    target_username = self.target_username.as_deref(),
                    permanent = self.permanent,
                    sign_out = self.sign_out,
                    password_set = self.password_set,
                    lambda_request_id = self.lambda_request_id.as_str(),
                    api_request_id = self.api_request_id.as_deref(),
                    duration_ms = self.duration_ms,
                    "admin_set_user_password"
                )
            };
        }
        match self.outcome {
            Outcome::Success | Outcome::Invalid => audit_line!(tracing::Level::INFO),
            Outcome::Denied => audit_line!(tracing::Level::WARN),
            Outcome::Failed => audit_line!(tracing::Level::ERROR),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_name_their_metric() {
        let names: Vec<_> = [Outcome::Success, Outcome::Denied, Outcome::Invalid, Outcome::Failed]
            .map(|o| (o.as_str(), o.metric_name()))
            .into();
        assert_eq!(
            names,
            [
                ("success", "PasswordSet"),
                ("denied", "Denied"),
                ("invalid", "Rejected"),
                ("failed", "Failed")
            ]
        );
    }
}

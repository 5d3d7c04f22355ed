//! One error type for every failure, and the single table that maps it to an HTTP status,
//! a stable error code (the `errorType` Step Functions matches on) and an audit outcome.

use lambda_runtime::Diagnostic;

use crate::audit::Outcome;
use crate::password::Violation;

/// Why an upstream (Cognito, Secrets Manager) call failed; decides 502, 503 or 504.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamKind {
    /// The service answered with a server-side fault (`InternalErrorException`, 5xx, garbage).
    Fault,
    /// No connection could be made.
    Unreachable,
    /// A connect, attempt or operation timeout fired.
    Timeout,
}

/// Every way an invocation can fail. `Display` is the caller-facing message: variants that
/// map to 5xx keep their internal `detail` out of it, so it only reaches the log.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The event, body or a field is malformed. The message names the field and the reason.
    #[error("{0}")]
    InvalidRequest(String),
    /// The API caller's token is missing or failed verification. One message for every
    /// cause; `reason` (which check failed) goes to the audit line only.
    #[error("invalid or expired token")]
    Unauthorized { reason: &'static str },
    /// `passwordSecretId` names a secret Secrets Manager will not give us (missing, deleted,
    /// disabled, undecryptable). One message for all, so callers learn nothing about which
    /// secrets exist; why is in `detail`, for the log only. Code `InvalidRequest`.
    #[error("passwordSecretId: the secret cannot be used")]
    SecretUnusable { detail: String },
    /// The caller may not do this. The message says which rule refused it.
    #[error("{0}")]
    Forbidden(String),
    /// The target signs in through an external identity provider.
    #[error("the target user is federated (EXTERNAL_PROVIDER); set the password in the identity provider")]
    FederatedUser,
    /// The pool's password policy rejected the password (Cognito's message, sanitised).
    #[error("{0}")]
    InvalidPassword(String),
    /// The function's own check found every rule the password breaks (the pool's policy, the
    /// common-password blocklist, the username). The list is machine-readable: `violations`
    /// in API error bodies, the same JSON array in a direct invocation's message.
    #[error("the password does not meet the policy: {}", violation_list(.0))]
    PasswordRejected(Vec<Violation>),
    /// The pool's password history refused the password (`PasswordHistoryPolicyViolationException`).
    #[error("the password was used recently; choose another")]
    PasswordReused,
    /// Cognito rejected a parameter (Cognito's message, sanitised).
    #[error("{0}")]
    InvalidParameter(String),
    /// The target user does not exist in the pool.
    #[error("user not found")]
    UserNotFound,
    /// No route serves the request's path: API Gateway's own answer, without a Cognito call.
    #[error("not found: the routes are PUT /users/{{username}}/password and POST /users/{{username}}/password-reset")]
    RouteNotFound,
    /// The path is served, not with this method.
    #[error("method not allowed: {path} takes {allowed}")]
    MethodNotAllowed { path: &'static str, allowed: &'static str },
    /// A reset sends the code to a verified email or phone; the target has neither.
    #[error(
        "the user has no verified email or phone number to receive a reset code; set a temporary password instead"
    )]
    NoVerifiedContact,
    /// The target's status does not allow a reset (Cognito resets only confirmed users).
    #[error("{0}")]
    InvalidUserState(String),
    /// Cognito could not deliver the reset code (`CodeDeliveryFailureException`).
    #[error("the reset code could not be delivered to the user; check the user's contact details, or set a temporary password instead")]
    CodeDeliveryFailed { detail: String },
    /// Cognito throttled us, after the SDK's bounded retries.
    #[error("too many requests; retry after {RETRY_AFTER_SECONDS} s")]
    TooManyRequests,
    /// The function's role or pool setting is wrong (`NotAuthorizedException`, `ResourceNotFoundException`,
    /// IAM `AccessDeniedException`): only the operator can fix it.
    #[error("the function is misconfigured; the operator has the details in its log")]
    Configuration { detail: String },
    /// Cognito or Secrets Manager failed, could not be reached, or did not answer in time.
    #[error("the identity service is unavailable; retry later")]
    Upstream { kind: UpstreamKind, detail: String },
    /// `AdminSetUserPassword` was sent and no answer says what became of it (a timeout, the
    /// Lambda deadline, a 5xx, a connection lost after sending): the password may have changed,
    /// and a blind retry can fail on password history.
    #[error(
        "the identity service did not confirm the change; the password may have been set: check the user before retrying"
    )]
    SetOutcomeUnknown { detail: String },
    /// Anything we did not foresee.
    #[error("internal error")]
    Internal { detail: String },
}

fn violation_list(violations: &[Violation]) -> String {
    serde_json::to_string(violations).unwrap_or_default()
}

/// Seconds a throttled caller is told to wait (`Retry-After`).
pub const RETRY_AFTER_SECONDS: u32 = 2;

impl AppError {
    /// The stable code: `error.code` in API bodies and `errorType` for direct invocations.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) | Self::SecretUnusable { .. } => "InvalidRequest",
            Self::Unauthorized { .. } => "Unauthorized",
            Self::Forbidden(_) => "Forbidden",
            Self::FederatedUser => "FederatedUser",
            Self::InvalidPassword(_) | Self::PasswordRejected(_) => "InvalidPassword",
            Self::PasswordReused => "PasswordReused",
            Self::InvalidParameter(_) => "InvalidParameter",
            Self::UserNotFound => "UserNotFound",
            Self::RouteNotFound => "NotFound",
            Self::MethodNotAllowed { .. } => "MethodNotAllowed",
            Self::NoVerifiedContact => "NoVerifiedContact",
            Self::InvalidUserState(_) => "InvalidUserState",
            Self::CodeDeliveryFailed { .. } => "CodeDeliveryFailed",
            Self::TooManyRequests => "TooManyRequests",
            Self::Configuration { .. } => "ConfigurationError",
            Self::Upstream { .. } | Self::SetOutcomeUnknown { .. } => "UpstreamError",
            Self::Internal { .. } => "InternalError",
        }
    }

    /// The HTTP status for the API Gateway shapes.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidRequest(_)
            | Self::SecretUnusable { .. }
            | Self::InvalidPassword(_)
            | Self::PasswordRejected(_)
            | Self::PasswordReused
            | Self::InvalidParameter(_) => 400,
            Self::Unauthorized { .. } => 401,
            Self::Forbidden(_) => 403,
            Self::UserNotFound | Self::RouteNotFound => 404,
            Self::MethodNotAllowed { .. } => 405,
            Self::FederatedUser | Self::NoVerifiedContact | Self::InvalidUserState(_) => 409,
            Self::TooManyRequests => 429,
            Self::Configuration { .. } | Self::Internal { .. } => 500,
            Self::Upstream {
                kind: UpstreamKind::Fault,
                ..
            }
            | Self::CodeDeliveryFailed { .. } => 502,
            Self::Upstream {
                kind: UpstreamKind::Unreachable,
                ..
            } => 503,
            Self::Upstream {
                kind: UpstreamKind::Timeout,
                ..
            }
            | Self::SetOutcomeUnknown { .. } => 504,
        }
    }

    /// How the audit trail and the metrics count this failure.
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::Unauthorized { .. } | Self::Forbidden(_) | Self::FederatedUser => Outcome::Denied,
            Self::InvalidRequest(_)
            | Self::SecretUnusable { .. }
            | Self::InvalidPassword(_)
            | Self::PasswordRejected(_)
            | Self::PasswordReused
            | Self::InvalidParameter(_)
            | Self::UserNotFound
            | Self::RouteNotFound
            | Self::MethodNotAllowed { .. }
            | Self::NoVerifiedContact
            | Self::InvalidUserState(_) => Outcome::Invalid,
            Self::TooManyRequests
            | Self::Configuration { .. }
            | Self::Upstream { .. }
            | Self::SetOutcomeUnknown { .. }
            | Self::CodeDeliveryFailed { .. }
            | Self::Internal { .. } => Outcome::Failed,
        }
    }

    /// Internal detail for the log only; never part of a response.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Self::Unauthorized { reason } => Some(reason),
            Self::SecretUnusable { detail }
            | Self::Configuration { detail }
            | Self::Upstream { detail, .. }
            | Self::SetOutcomeUnknown { detail }
            | Self::CodeDeliveryFailed { detail }
            | Self::Internal { detail } => Some(detail),
            _ => None,
        }
    }

    /// A target whose status (when known) does not allow a reset, and what to do instead.
    pub fn reset_not_allowed(status: Option<&str>) -> Self {
        let status = status.map_or_else(|| "the user's status".to_owned(), |s| format!("status {s}"));
        Self::InvalidUserState(format!(
            "{status} does not allow a reset (only a CONFIRMED, enabled user can be sent a code); set a temporary password instead"
        ))
    }

    /// A field-named validation failure: `"<field>: <reason>"`.
    pub fn invalid(field: &str, reason: impl std::fmt::Display) -> Self {
        Self::InvalidRequest(format!("{field}: {reason}"))
    }
}

impl From<&AppError> for Diagnostic {
    fn from(err: &AppError) -> Self {
        Diagnostic {
            error_type: err.code().to_owned(),
            error_message: err.to_string(),
        }
    }
}

impl From<AppError> for Diagnostic {
    fn from(err: AppError) -> Self {
        Self::from(&err)
    }
}

/// Cuts a message from an upstream service down to something safe to show a caller:
/// printable characters only, bounded length.
pub(crate) fn sanitise_message(message: &str) -> String {
    const MAX_CHARS: usize = 256;
    message
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_CHARS)
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_variant() -> Vec<AppError> {
        let detail = || "secret internal detail".to_owned();
        vec![
            AppError::InvalidRequest("password: too short".into()),
            AppError::Unauthorized {
                reason: "secret internal detail",
            },
            AppError::SecretUnusable { detail: detail() },
            AppError::Forbidden("not an admin".into()),
            AppError::FederatedUser,
            AppError::InvalidPassword("Password does not conform to policy".into()),
            AppError::PasswordRejected(vec![Violation::MinimumLength, Violation::CommonPassword]),
            AppError::PasswordReused,
            AppError::InvalidParameter("bad parameter".into()),
            AppError::UserNotFound,
            AppError::RouteNotFound,
            AppError::MethodNotAllowed {
                path: "/users/{username}/password",
                allowed: "PUT",
            },
            AppError::NoVerifiedContact,
            AppError::InvalidUserState("set a temporary password instead".into()),
            AppError::CodeDeliveryFailed { detail: detail() },
            AppError::TooManyRequests,
            AppError::Configuration { detail: detail() },
            AppError::Upstream {
                kind: UpstreamKind::Fault,
                detail: detail(),
            },
            AppError::Upstream {
                kind: UpstreamKind::Unreachable,
                detail: detail(),
            },
            AppError::Upstream {
                kind: UpstreamKind::Timeout,
                detail: detail(),
            },
            AppError::SetOutcomeUnknown { detail: detail() },
            AppError::Internal { detail: detail() },
        ]
    }

    #[test]
    fn every_variant_maps_to_the_documented_code_status_and_outcome() {
        let expected = [
            ("InvalidRequest", 400, Outcome::Invalid),
            ("Unauthorized", 401, Outcome::Denied),
            ("InvalidRequest", 400, Outcome::Invalid),
            ("Forbidden", 403, Outcome::Denied),
            ("FederatedUser", 409, Outcome::Denied),
            ("InvalidPassword", 400, Outcome::Invalid),
            ("InvalidPassword", 400, Outcome::Invalid),
            ("PasswordReused", 400, Outcome::Invalid),
            ("InvalidParameter", 400, Outcome::Invalid),
            ("UserNotFound", 404, Outcome::Invalid),
            ("NotFound", 404, Outcome::Invalid),
            ("MethodNotAllowed", 405, Outcome::Invalid),
            ("NoVerifiedContact", 409, Outcome::Invalid),
            ("InvalidUserState", 409, Outcome::Invalid),
            ("CodeDeliveryFailed", 502, Outcome::Failed),
            ("TooManyRequests", 429, Outcome::Failed),
            ("ConfigurationError", 500, Outcome::Failed),
            ("UpstreamError", 502, Outcome::Failed),
            ("UpstreamError", 503, Outcome::Failed),
            ("UpstreamError", 504, Outcome::Failed),
            ("UpstreamError", 504, Outcome::Failed),
            ("InternalError", 500, Outcome::Failed),
        ];
        let variants = every_variant();
        assert_eq!(variants.len(), expected.len());
        for (err, (code, status, outcome)) in variants.iter().zip(expected) {
            assert_eq!(
                (err.code(), err.status(), err.outcome()),
                (code, status, outcome),
                "{err:?}"
            );
        }
    }

    #[test]
    fn error_table_in_docs_lists_every_code() {
        let table = include_str!("../docs/errors.md");
        for err in every_variant() {
            let row = format!("| `{}` | {} |", err.code(), err.status());
            assert!(table.contains(&row), "docs/errors.md lacks the row starting {row:?}");
        }
    }

    #[test]
    fn messages_never_carry_internal_detail() {
        for err in every_variant() {
            assert!(!err.to_string().contains("secret internal detail"), "{err:?}");
            if err.status() >= 500 || err.status() == 401 {
                assert!(err.detail().is_some(), "{err:?} must keep its detail for the log");
            }
        }
    }

    #[test]
    fn diagnostic_error_type_is_the_stable_code_not_a_rust_type_name() {
        for err in every_variant() {
            let code = err.code();
            let message = err.to_string();
            let diagnostic = Diagnostic::from(err);
            assert_eq!(diagnostic.error_type, code);
            assert_eq!(diagnostic.error_message, message);
        }
    }

    #[test]
    fn sanitise_message_drops_control_characters_and_bounds_length() {
        assert_eq!(sanitise_message("bad\r\nthing\u{0}"), "badthing");
        assert_eq!(sanitise_message(&"x".repeat(1000)).len(), 256);
    }
}

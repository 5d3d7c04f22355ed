//! Answers in the caller's shape: an API Gateway proxy response (status, JSON headers, body)
//! or, for direct invocations, the output document or a `Diagnostic` whose `errorType` is the code.

use lambda_runtime::Diagnostic;
use serde_json::{json, Value};

use crate::directory::UserStatus;
use crate::error::{AppError, RETRY_AFTER_SECONDS};
use crate::event::EntryShape;
use crate::request::Password;

/// What a successful invocation reports.
#[derive(Debug)]
pub struct Success {
    pub username: String,
    pub user_status: UserStatus,
    /// `Some(true)` when the caller asked for a global sign-out and it happened, `Some(false)`
    /// when the password was set but the sign-out failed.
    pub signed_out: Option<bool>,
    /// A password the function generated: returned to the admin this once, never logged.
    pub generated_password: Option<Password>,
    /// When a temporary password stops working (RFC 3339, UTC), when the pool's policy is known.
    pub temporary_password_expires_at: Option<String>,
}

impl Success {
    fn document(&self) -> Value {
        let mut doc = json!({"username": self.username, "userStatus": self.user_status.as_str()});
        if let Some(signed_out) = self.signed_out {
            doc["signedOut"] = json!(signed_out);
        }
        if let Some(password) = &self.generated_password {
            doc["password"] = json!(password.expose_to_caller());
        }
        if let Some(expires_at) = &self.temporary_password_expires_at {
            doc["temporaryPasswordExpiresAt"] = json!(expires_at);
        }
        doc
    }
}

/// Renders the outcome. `request_id` is the id the caller can quote to the operator.
pub fn render(
    shape: EntryShape,
    result: Result<&Success, &AppError>,
    request_id: &str,
    cors_allow_origin: Option<&str>,
) -> Result<Value, Diagnostic> {
    if !shape.is_api() {
        return match result {
            Ok(success) => Ok(success.document()),
            Err(err) => Err(Diagnostic::from(err)),
        };
    }
    let mut headers = json!({
        "content-type": "application/json",
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
    });
    if let Some(origin) = cors_allow_origin {
        headers["access-control-allow-origin"] = json!(origin);
        headers["vary"] = json!("Origin");
    }
    let (status, body) = match result {
        Ok(success) => (200, success.document()),
        Err(err) => {
            if matches!(err, AppError::TooManyRequests) {
                headers["retry-after"] = json!(RETRY_AFTER_SECONDS.to_string());
            }
            let mut body = json!({"error": {"code": err.code(), "message": err.to_string(), "requestId": request_id}});
            if let AppError::PasswordRejected(violations) = err {
                body["error"]["violations"] = json!(violations);
            }
            if matches!(err, AppError::Unauthorized { .. }) {
                headers["www-authenticate"] = json!("Bearer");
            }
            (err.status(), body)
        }
    };
    Ok(json!({
        "statusCode": status,
        "headers": headers,
        "body": body.to_string(),
        "isBase64Encoded": false,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn success() -> Success {
        Success {
            username: "bob".into(),
            user_status: UserStatus::ForceChangePassword,
            signed_out: None,
            generated_password: None,
            temporary_password_expires_at: None,
        }
    }

    #[test]
    fn api_success_is_200_json() {
        let response = render(EntryShape::RestApi, Ok(&success()), "r1", None).unwrap();
        assert_eq!(response["statusCode"], 200);
        assert_eq!(response["headers"]["content-type"], "application/json");
        let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
        assert_eq!(body, json!({"username": "bob", "userStatus": "FORCE_CHANGE_PASSWORD"}));
    }

    #[test]
    fn api_errors_carry_code_message_and_request_id() {
        let err = AppError::Forbidden("nope".into());
        let response = render(EntryShape::HttpApi, Err(&err), "api-req-9", None).unwrap();
        assert_eq!(response["statusCode"], 403);
        let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"error": {"code": "Forbidden", "message": "nope", "requestId": "api-req-9"}})
        );
    }

    #[test]
    fn throttling_tells_the_caller_when_to_retry() {
        let response = render(EntryShape::RestApi, Err(&AppError::TooManyRequests), "r", None).unwrap();
        assert_eq!(response["statusCode"], 429);
        assert_eq!(response["headers"]["retry-after"], RETRY_AFTER_SECONDS.to_string());
    }

    #[test]
    fn cors_origin_is_added_when_configured() {
        let response = render(
            EntryShape::RestApi,
            Ok(&success()),
            "r",
            Some("https://admin.example.com"),
        )
        .unwrap();
        assert_eq!(
            response["headers"]["access-control-allow-origin"],
            "https://admin.example.com"
        );
    }

    #[test]
    fn direct_invocations_get_the_document_or_a_typed_error() {
        let ok = Success {
            signed_out: Some(true),
            temporary_password_expires_at: Some("2026-12-13T12:00:00Z".into()),
            ..success()
        };
        assert_eq!(
            render(EntryShape::Direct, Ok(&ok), "r", None).unwrap(),
            json!({"username": "bob", "userStatus": "FORCE_CHANGE_PASSWORD", "signedOut": true,
                   "temporaryPasswordExpiresAt": "2026-12-13T12:00:00Z"})
        );
        let err = render(EntryShape::Direct, Err(&AppError::UserNotFound), "r", None).unwrap_err();
        assert_eq!(err.error_type, "UserNotFound");
    }
}

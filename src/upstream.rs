//! What the two AWS adapters (Cognito, Secrets Manager) share: one SDK configuration with
//! bounded timeouts and retries, and one translation of SDK failures into `AppError`.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader};
use aws_sdk_cognitoidentityprovider::error::{DisplayErrorContext, SdkError};
use aws_smithy_runtime_api::http::Response as HttpResponse;

use crate::config::UpstreamSettings;
use crate::error::{AppError, UpstreamKind};

/// Region, credentials and `AWS_ENDPOINT_URL` from the environment, with our timeouts and
/// retries, so a Cognito endpoint that never answers costs at most `operation_timeout` per
/// phase. Tests add an explicit endpoint and credentials to the same loader.
pub fn sdk_config_loader(settings: &UpstreamSettings) -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(settings.connect_timeout)
                .operation_attempt_timeout(settings.attempt_timeout)
                .operation_timeout(settings.operation_timeout)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(settings.max_attempts))
}

/// One HTTPS stack: hyper + rustls with ring (smaller than aws-lc and no jitter-entropy
/// seeding at the first handshake), trusting the system's root store. docs/performance.md.
fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// Maps an SDK failure of `operation`. The operation's own `match` (in the adapter) decides
/// its modelled service errors; the failures every operation shares (no answer, no
/// connection, an unreadable answer, a request we could not build) are decided here, once.
/// `service` gets the modelled error, the HTTP status it came with, and the log-only detail.
pub(crate) fn map_sdk_error<E>(
    operation: &'static str,
    err: SdkError<E, HttpResponse>,
    service: impl FnOnce(&E, u16, String) -> AppError,
) -> AppError
where
    E: std::error::Error + 'static,
{
    let detail = format!("{operation}: {}", DisplayErrorContext(&err));
    let upstream = |kind| AppError::Upstream {
        kind,
        detail: detail.clone(),
    };
    match &err {
        SdkError::ServiceError(context) => service(context.err(), context.raw().status().as_u16(), detail),
        // The operation (or attempt) timeout fired: the request may have reached Cognito.
        SdkError::TimeoutError(_) => upstream(UpstreamKind::Timeout),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => upstream(UpstreamKind::Timeout),
        // Connection refused or reset, DNS failure: the service could not be reached.
        SdkError::DispatchFailure(failure) if failure.is_io() => upstream(UpstreamKind::Unreachable),
        // The HTTP client refused the request we built: our bug, not the service's.
        SdkError::DispatchFailure(failure) if failure.is_user() => AppError::Internal { detail },
        // Any other transport failure (TLS, a closed connection) is the far side's fault.
        SdkError::DispatchFailure(_) => upstream(UpstreamKind::Fault),
        // An answer the SDK could not read: the service (or something in between) misbehaved.
        SdkError::ResponseError(_) => upstream(UpstreamKind::Fault),
        // The SDK could not build the request (a required field missing): our bug.
        SdkError::ConstructionFailure(_) => AppError::Internal { detail },
        // `SdkError` is `#[non_exhaustive]`: a kind a newer SDK adds is unforeseen until decided.
        _ => AppError::Internal { detail },
    }
}

/// A service error the operation's model does not list (the SDK's `Unhandled` variant):
/// errors every AWS JSON endpoint can return before the operation runs (IAM, signing,
/// throttling at the front door), decided by their documented codes. docs/errors.md.
pub(crate) fn unmodelled_service_error(code: Option<&str>, status: u16, detail: String) -> AppError {
    match code {
        Some(
            "AccessDeniedException"
            | "AccessDenied"
            | "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "InvalidSignatureException"
            | "SignatureDoesNotMatch"
            | "IncompleteSignature"
            | "MissingAuthenticationTokenException"
            | "ExpiredTokenException"
            // A web ACL (WAF) on the pool refused the call.
            | "ForbiddenException",
        ) => AppError::Configuration { detail },
        Some("ThrottlingException" | "LimitExceededException" | "RequestLimitExceeded") => AppError::TooManyRequests,
        _ if status >= 500 => AppError::Upstream {
            kind: UpstreamKind::Fault,
            detail,
        },
        _ => AppError::Internal { detail },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserError;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    type Err = SdkError<AdminGetUserError, HttpResponse>;

    fn map(err: Err) -> AppError {
        map_sdk_error("AdminGetUser", err, |_, _, _| panic!("not a service error"))
    }

    fn raw(status: u16) -> HttpResponse {
        HttpResponse::new(status.try_into().unwrap(), SdkBody::from("{}"))
    }

    #[test]
    fn transport_failures_are_decided_the_same_for_every_operation() {
        let cases: Vec<(Err, &str, u16)> = vec![
            (SdkError::timeout_error("operation timeout"), "UpstreamError", 504),
            (
                SdkError::dispatch_failure(ConnectorError::timeout("connect timeout".into())),
                "UpstreamError",
                504,
            ),
            (
                SdkError::dispatch_failure(ConnectorError::io("connection refused".into())),
                "UpstreamError",
                503,
            ),
            (
                SdkError::dispatch_failure(ConnectorError::user("bad request".into())),
                "InternalError",
                500,
            ),
            (
                SdkError::dispatch_failure(ConnectorError::other("tls alert".into(), None)),
                "UpstreamError",
                502,
            ),
            (SdkError::response_error("not JSON", raw(200)), "UpstreamError", 502),
            (SdkError::construction_failure("missing field"), "InternalError", 500),
        ];
        for (err, code, status) in cases {
            let shown = format!("{err:?}");
            let mapped = map(err);
            assert_eq!((mapped.code(), mapped.status()), (code, status), "{shown}");
            assert!(mapped.detail().unwrap().starts_with("AdminGetUser: "), "{mapped:?}");
        }
    }

    #[test]
    fn service_errors_go_to_the_operation_with_status_and_detail() {
        let err: Err = SdkError::service_error(
            AdminGetUserError::generic(ErrorMetadata::builder().code("Whatever").message("m").build()),
            raw(418),
        );
        let mapped = map_sdk_error("AdminGetUser", err, |_, status, detail| {
            assert_eq!(status, 418);
            assert!(detail.starts_with("AdminGetUser: "), "{detail}");
            AppError::UserNotFound
        });
        assert_eq!(mapped.code(), "UserNotFound");
    }

    #[test]
    fn unmodelled_codes_are_decided_by_the_documented_list_then_by_status() {
        let cases = [
            (Some("AccessDeniedException"), 400, "ConfigurationError", 500),
            (Some("UnrecognizedClientException"), 400, "ConfigurationError", 500),
            (Some("InvalidSignatureException"), 400, "ConfigurationError", 500),
            (Some("ExpiredTokenException"), 400, "ConfigurationError", 500),
            (Some("ForbiddenException"), 403, "ConfigurationError", 500),
            (Some("ThrottlingException"), 400, "TooManyRequests", 429),
            (Some("LimitExceededException"), 400, "TooManyRequests", 429),
            (Some("ServiceUnavailable"), 503, "UpstreamError", 502),
            (None, 500, "UpstreamError", 502),
            (Some("SomethingNew"), 400, "InternalError", 500),
            (None, 400, "InternalError", 500),
        ];
        for (code, status, expected_code, expected_status) in cases {
            let mapped = unmodelled_service_error(code, status, "detail".into());
            assert_eq!(
                (mapped.code(), mapped.status()),
                (expected_code, expected_status),
                "{code:?} with HTTP {status}"
            );
        }
    }
}

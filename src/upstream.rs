//! What the two AWS adapters (Cognito, Secrets Manager) share: one SDK configuration with
//! bounded timeouts and retries, and one translation of SDK failures into `AppError`.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader};
use aws_sdk_cognitoidentityprovider::error::{DisplayErrorContext, SdkError};
use aws_smithy_runtime_api::client::http::{http_client_fn, SharedHttpClient, SharedHttpConnector};
use aws_smithy_runtime_api::http::Response as HttpResponse;

use crate::config::UpstreamSettings;
use crate::error::{AppError, UpstreamKind};

pub mod https;

/// Region, credentials and `AWS_ENDPOINT_URL` from the environment, with our timeouts and
/// retries, so a Cognito endpoint that never answers costs at most `operation_timeout` per
/// phase. Tests add an explicit endpoint and credentials to the same loader.
pub fn sdk_config_loader(settings: &UpstreamSettings) -> ConfigLoader {
    sdk_config_loader_with(settings, &SharedHttps::new(settings))
}

/// The same configuration built straight from Lambda's environment, without aws-config's
/// provider chains: region from `AWS_REGION`, the execution role's credentials from the
/// environment (where Lambda puts them), `AWS_ENDPOINT_URL` if set. Nothing of aws-config's
/// profile files, SSO, STS web identity, ECS or IMDS providers is then reachable, so LTO
/// drops them from the binary (docs/performance.md, "Levers": the size lever). Errors name
/// the missing variable.
pub fn sdk_config_from_env(settings: &UpstreamSettings, https: &SharedHttps) -> Result<aws_config::SdkConfig, String> {
    use aws_sdk_cognitoidentityprovider::config::{Credentials, Region, SharedCredentialsProvider};
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let required = |name: &'static str| var(name).ok_or_else(|| format!("{name} is required but not set"));
    let credentials = Credentials::new(
        required("AWS_ACCESS_KEY_ID")?,
        required("AWS_SECRET_ACCESS_KEY")?,
        var("AWS_SESSION_TOKEN"),
        None,
        "lambda-environment",
    );
    let mut builder = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(required("AWS_REGION")?))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(https.http_client())
        .timeout_config(timeout_config(settings))
        .retry_config(RetryConfig::standard().with_max_attempts(settings.max_attempts));
    if let Some(endpoint) = var("AWS_ENDPOINT_URL") {
        builder = builder.endpoint_url(endpoint);
    }
    Ok(builder.build())
}

fn timeout_config(settings: &UpstreamSettings) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(settings.connect_timeout)
        .operation_attempt_timeout(settings.attempt_timeout)
        .operation_timeout(settings.operation_timeout)
        .build()
}

/// The same, with the SDK clients on `https`, so that whatever else uses `https` (the JWKS
/// fetch) shares their connection pool and root store.
pub fn sdk_config_loader_with(settings: &UpstreamSettings, https: &SharedHttps) -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https.http_client())
        .timeout_config(timeout_config(settings))
        .retry_config(RetryConfig::standard().with_max_attempts(settings.max_attempts))
}

/// One HTTPS stack (`https::HttpsConnector`: hyper + rustls with ring, HTTP/1.1), one
/// connector, so one connection pool and one root store for every client of it: the SDK
/// clients and the JWKS fetch. Built on first use, not at init, and the environment's roots
/// (`SSL_CERT_FILE`/`SSL_CERT_DIR`) are only read if set (docs/performance.md, "Levers").
#[derive(Clone)]
pub struct SharedHttps {
    connector: Arc<OnceLock<SharedHttpConnector>>,
    connect_timeout: Duration,
}

impl SharedHttps {
    pub fn new(settings: &UpstreamSettings) -> Self {
        Self::with_connect_timeout(settings.connect_timeout)
    }

    pub fn with_connect_timeout(connect_timeout: Duration) -> Self {
        Self {
            connector: Arc::new(OnceLock::new()),
            connect_timeout,
        }
    }

    /// The connector, built on the first call. Operation and attempt timeouts stay the SDK's
    /// (its orchestrator enforces them); the connector only bounds connecting.
    pub fn connector(&self) -> SharedHttpConnector {
        self.connector
            .get_or_init(|| {
                let (roots, _) = https::root_store(|name| std::env::var(name).ok());
                SharedHttpConnector::new(https::HttpsConnector::new(roots, self.connect_timeout))
            })
            .clone()
    }

    /// This connector as the SDK's HTTP client (whatever per-operation settings it asks with).
    pub fn http_client(&self) -> SharedHttpClient {
        let https = self.clone();
        http_client_fn(move |_settings, _components| https.connector())
    }
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

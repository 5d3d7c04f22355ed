//! What the two AWS adapters (Cognito, Secrets Manager) share: one SDK configuration with
//! bounded timeouts and retries, and one translation of SDK failures into `AppError`.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader};
use aws_sdk_cognitoidentityprovider::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
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

/// Maps an SDK failure. `service` gets first say on modelled service errors (by error code);
/// everything else is decided here the same way for every operation.
pub(crate) fn map_sdk_error<E>(
    operation: &str,
    err: SdkError<E, HttpResponse>,
    service: impl Fn(&str, &str) -> Option<AppError>,
) -> AppError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let detail = format!("{operation}: {}", DisplayErrorContext(&err));
    match &err {
        SdkError::ServiceError(context) => {
            let code = context.err().code().unwrap_or("");
            let message = context.err().message().unwrap_or("");
            if let Some(mapped) = service(code, message) {
                return mapped;
            }
            match code {
                "TooManyRequestsException" | "ThrottlingException" | "LimitExceededException" => {
                    AppError::TooManyRequests
                }
                "NotAuthorizedException"
                | "ResourceNotFoundException"
                | "AccessDeniedException"
                | "UnrecognizedClientException"
                | "InvalidSignatureException"
                | "ExpiredTokenException" => AppError::Configuration { detail },
                "InternalErrorException" | "InternalServiceError" | "InternalFailure" | "ServiceUnavailable" => {
                    AppError::Upstream {
                        kind: UpstreamKind::Fault,
                        detail,
                    }
                }
                _ if context.raw().status().is_server_error() => AppError::Upstream {
                    kind: UpstreamKind::Fault,
                    detail,
                },
                _ => AppError::Internal { detail },
            }
        }
        SdkError::TimeoutError(_) => AppError::Upstream {
            kind: UpstreamKind::Timeout,
            detail,
        },
        SdkError::DispatchFailure(failure) if failure.is_timeout() => AppError::Upstream {
            kind: UpstreamKind::Timeout,
            detail,
        },
        SdkError::DispatchFailure(failure) if failure.is_io() => AppError::Upstream {
            kind: UpstreamKind::Unreachable,
            detail,
        },
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => AppError::Upstream {
            kind: UpstreamKind::Fault,
            detail,
        },
        _ => AppError::Internal { detail },
    }
}

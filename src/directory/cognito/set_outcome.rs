//! What a failed `AdminSetUserPassword` tells about the password, and the retry rule that keeps
//! that knowable. docs/errors.md, "When the set fails".
//!
//! The status line decides: a 2xx is Cognito saying it set the password (even when the body
//! that follows cannot be read), a 4xx that it refused and changed nothing, a 5xx that it
//! failed where we cannot see, possibly after the change. Without a status line the question is
//! whether the request left: a connection that was never made (refused, DNS, connect timeout,
//! TLS handshake) or a request the HTTP client would not send changed nothing; a timeout, a reset
//! or a closed connection after sending may have changed it.
//!
//! The SDK retries 5xx answers, timeouts and broken connections. A set retried after an attempt
//! that took effect is refused by a pool with password history
//! (`PasswordHistoryPolicyViolationException`), and the caller would hear "choose another
//! password" about a password that is in fact set. So the set is retried only after an attempt
//! that certainly changed nothing.

use std::error::Error as StdError;

use aws_sdk_cognitoidentityprovider::error::{DisplayErrorContext, SdkError};
use aws_sdk_cognitoidentityprovider::operation::admin_set_user_password::AdminSetUserPasswordError;
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction, RetryClassifierPriority};
use aws_smithy_runtime_api::http::Response as HttpResponse;

use crate::directory::sdk_errors::admin_set_user_password_error;
use crate::directory::SetAccepted;
use crate::error::AppError;

/// What one failed attempt says about the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    /// Cognito answered 2xx.
    Set,
    /// Cognito refused (4xx), or the request never left.
    Unchanged,
    /// Sent, and either Cognito failed (5xx or another status) or no answer came.
    Unknown,
}

/// The rule, from the status line if one came and else from whether the request left.
fn known(status: Option<u16>, never_sent: bool) -> Known {
    match status {
        Some(200..=299) => Known::Set,
        Some(400..=499) => Known::Unchanged,
        Some(_) => Known::Unknown,
        None if never_sent => Known::Unchanged,
        None => Known::Unknown,
    }
}

/// Whether a transport failure happened before any byte of the request was written: the HTTP
/// client refused it, or its connector (TCP, DNS, TLS, the connect timeout) never produced a
/// connection. hyper's pooled client marks the latter `is_connect`, under ours and the SDK's
/// own connector alike.
fn never_sent(err: &ConnectorError) -> bool {
    let mut chain = std::iter::successors(Some(err as &(dyn StdError + 'static)), |&e| e.source());
    err.is_user()
        || chain.any(|e| {
            e.downcast_ref::<hyper_util::client::legacy::Error>()
                .is_some_and(|e| e.is_connect())
        })
}

/// The function's answer for a set the SDK reports as failed.
pub(super) fn after_failed_set(
    err: SdkError<AdminSetUserPasswordError, HttpResponse>,
) -> Result<SetAccepted, AppError> {
    let status = err.raw_response().map(|raw| raw.status().as_u16());
    let unsent = match &err {
        SdkError::DispatchFailure(failure) => failure.as_connector_error().is_some_and(never_sent),
        SdkError::ConstructionFailure(_) => true,
        _ => false,
    };
    let detail = || format!("AdminSetUserPassword: {}", DisplayErrorContext(&err));
    match known(status, unsent) {
        Known::Unchanged => Err(admin_set_user_password_error(err)),
        Known::Set => Ok(SetAccepted {
            oddity: Some(format!("{} (HTTP {}: set)", detail(), status.unwrap_or_default())),
        }),
        Known::Unknown => Err(AppError::SetOutcomeUnknown { detail: detail() }),
    }
}

/// The set's configuration override: the SDK's retry rules, except that an attempt which may
/// have changed the password is never repeated.
pub(super) fn retry_only_what_changed_nothing() -> aws_sdk_cognitoidentityprovider::config::Builder {
    aws_sdk_cognitoidentityprovider::config::Builder::default().retry_classifier(RetryOnlyWhatChangedNothing)
}

/// Runs after the SDK's own classifiers and forbids a retry unless the attempt was refused
/// (throttling included, which the SDK then retries) or never sent.
#[derive(Debug)]
struct RetryOnlyWhatChangedNothing;

impl ClassifyRetry for RetryOnlyWhatChangedNothing {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(err)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        let status = ctx.response().map(|raw| raw.status().as_u16());
        let unsent = err.as_connector_error().is_some_and(never_sent);
        match known(status, unsent) {
            Known::Unchanged => RetryAction::NoActionIndicated,
            Known::Set | Known::Unknown => RetryAction::RetryForbidden,
        }
    }

    fn name(&self) -> &'static str {
        "AdminSetUserPassword: retry only what changed nothing"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cognitoidentityprovider::types::error as cip;
    use aws_smithy_runtime_api::client::interceptors::context::{Error as ErasedError, Input};
    use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    type Err = SdkError<AdminSetUserPasswordError, HttpResponse>;

    fn raw(status: u16) -> HttpResponse {
        HttpResponse::new(status.try_into().unwrap(), SdkBody::from("{}"))
    }

    fn service(err: AdminSetUserPasswordError, status: u16) -> Err {
        SdkError::service_error(err, raw(status))
    }

    fn internal_error() -> AdminSetUserPasswordError {
        AdminSetUserPasswordError::InternalErrorException(cip::InternalErrorException::builder().message("m").build())
    }

    fn throttled() -> AdminSetUserPasswordError {
        AdminSetUserPasswordError::TooManyRequestsException(
            cip::TooManyRequestsException::builder().message("m").build(),
        )
    }

    /// A real connect failure from hyper's pooled client: a port nothing listens on.
    async fn refused_connection() -> ConnectorError {
        use hyper_util::client::legacy::{connect::HttpConnector, Client};
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = Client::builder(hyper_util::rt::TokioExecutor::new()).build::<_, SdkBody>(HttpConnector::new());
        let request = http::Request::get(format!("http://127.0.0.1:{port}/"))
            .body(SdkBody::empty())
            .unwrap();
        let err = client.request(request).await.expect_err("nothing listens there");
        assert!(err.is_connect(), "{err:?}");
        ConnectorError::io(err.into())
    }

    #[test]
    fn the_status_line_decides_and_without_one_whether_the_request_left() {
        let cases = [
            (Some(200), false, Known::Set),
            (Some(204), false, Known::Set),
            (Some(400), false, Known::Unchanged),
            (Some(429), false, Known::Unchanged),
            (Some(500), false, Known::Unknown),
            (Some(503), false, Known::Unknown),
            (Some(302), false, Known::Unknown),
            (None, true, Known::Unchanged),
            (None, false, Known::Unknown),
        ];
        for (status, never_sent, expected) in cases {
            assert_eq!(
                known(status, never_sent),
                expected,
                "{status:?} never_sent={never_sent}"
            );
        }
    }

    #[tokio::test]
    async fn each_failure_of_the_set_is_set_unchanged_or_unknown() {
        let refused = refused_connection().await;
        let cases: Vec<(&str, Err, &str)> = vec![
            (
                "InternalErrorException (500)",
                service(internal_error(), 500),
                "unknown",
            ),
            (
                "ServiceUnavailable (503)",
                service(
                    AdminSetUserPasswordError::generic(ErrorMetadata::builder().code("ServiceUnavailable").build()),
                    503,
                ),
                "unknown",
            ),
            (
                "attempt or operation timeout",
                SdkError::timeout_error("timed out"),
                "unknown",
            ),
            (
                "connection reset after sending",
                SdkError::dispatch_failure(ConnectorError::io("connection reset by peer".into())),
                "unknown",
            ),
            (
                "a truncated answer",
                SdkError::dispatch_failure(ConnectorError::other("incomplete message".into(), None)),
                "unknown",
            ),
            (
                "a 500 whose body cannot be read",
                SdkError::response_error("garbage", raw(500)),
                "unknown",
            ),
            (
                "a 200 whose body cannot be read",
                SdkError::response_error("not JSON", raw(200)),
                "set",
            ),
            (
                "a 200 the operation's deserialiser refused",
                service(AdminSetUserPasswordError::unhandled("not JSON"), 200),
                "set",
            ),
            ("TooManyRequestsException", service(throttled(), 400), "TooManyRequests"),
            (
                "InvalidPasswordException",
                service(
                    AdminSetUserPasswordError::InvalidPasswordException(
                        cip::InvalidPasswordException::builder().message("too short").build(),
                    ),
                    400,
                ),
                "InvalidPassword",
            ),
            (
                "PasswordHistoryPolicyViolationException",
                service(
                    AdminSetUserPasswordError::PasswordHistoryPolicyViolationException(
                        cip::PasswordHistoryPolicyViolationException::builder()
                            .message("m")
                            .build(),
                    ),
                    400,
                ),
                "PasswordReused",
            ),
            (
                "connection refused",
                SdkError::dispatch_failure(refused),
                "UpstreamError 503",
            ),
            (
                "the HTTP client refused the request",
                SdkError::dispatch_failure(ConnectorError::user("bad header".into())),
                "InternalError",
            ),
            (
                "the SDK could not build the request",
                SdkError::construction_failure("no username"),
                "InternalError",
            ),
        ];
        for (what, err, expected) in cases {
            let got = match after_failed_set(err) {
                Ok(SetAccepted { oddity: Some(oddity) }) => {
                    assert!(oddity.starts_with("AdminSetUserPassword: "), "{what}: {oddity}");
                    "set".to_owned()
                }
                Ok(accepted) => panic!("{what}: accepted without saying why: {accepted:?}"),
                Err(AppError::SetOutcomeUnknown { detail }) => {
                    assert!(detail.starts_with("AdminSetUserPassword: "), "{what}: {detail}");
                    "unknown".to_owned()
                }
                Err(err @ AppError::Upstream { .. }) => format!("{} {}", err.code(), err.status()),
                Err(err) => err.code().to_owned(),
            };
            assert_eq!(got, expected, "{what}");
        }
    }

    fn classify(status: Option<u16>, error: OrchestratorError<ErasedError>) -> RetryAction {
        let mut ctx = InterceptorContext::new(Input::erase(()));
        if let Some(status) = status {
            ctx.set_response(raw(status));
        }
        ctx.set_output_or_error(Err(error));
        RetryOnlyWhatChangedNothing.classify_retry(&ctx)
    }

    #[tokio::test]
    async fn only_an_attempt_that_changed_nothing_may_be_retried() {
        let operation = |err: AdminSetUserPasswordError| OrchestratorError::operation(ErasedError::erase(err));
        let may_retry = [
            ("throttled", Some(400), operation(throttled())),
            (
                "never connected",
                None,
                OrchestratorError::connector(refused_connection().await),
            ),
        ];
        for (what, status, error) in may_retry {
            assert_eq!(classify(status, error), RetryAction::NoActionIndicated, "{what}");
        }
        let never = [
            ("a 500", Some(500), operation(internal_error())),
            ("a timeout", None, OrchestratorError::timeout("attempt timeout".into())),
            (
                "a reset after sending",
                None,
                OrchestratorError::connector(ConnectorError::io("connection reset by peer".into())),
            ),
            (
                "an unreadable 200",
                Some(200),
                OrchestratorError::response("not JSON".into()),
            ),
            ("an unreadable 503", Some(503), OrchestratorError::other("not JSON")),
        ];
        for (what, status, error) in never {
            assert_eq!(classify(status, error), RetryAction::RetryForbidden, "{what}");
        }
    }

    #[test]
    fn it_overrides_the_sdk_classifiers() {
        assert!(
            RetryOnlyWhatChangedNothing.priority() > RetryClassifierPriority::transient_error_classifier()
                && RetryOnlyWhatChangedNothing.priority() > RetryClassifierPriority::modeled_as_retryable_classifier()
                && RetryOnlyWhatChangedNothing.priority() > RetryClassifierPriority::http_status_code_classifier()
        );
    }
}

//! What an SDK failure means for the caller. The failures every operation shares (no answer,
//! no connection, an unreadable answer) are decided once, in `map_sdk_error`; each operation's
//! modelled errors by its own function, a `match` that names every variant of the operation's
//! error enum. docs/errors.md has the same decisions as a table, and `tests` holds the two to
//! each other and to the SDK's variants.

use aws_sdk_cognitoidentityprovider::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserError;
use aws_sdk_cognitoidentityprovider::operation::admin_list_groups_for_user::AdminListGroupsForUserError;
use aws_sdk_cognitoidentityprovider::operation::admin_reset_user_password::AdminResetUserPasswordError;
use aws_sdk_cognitoidentityprovider::operation::admin_set_user_password::AdminSetUserPasswordError;
use aws_sdk_cognitoidentityprovider::operation::admin_user_global_sign_out::AdminUserGlobalSignOutError;
use aws_sdk_cognitoidentityprovider::operation::describe_user_pool::DescribeUserPoolError;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use aws_smithy_runtime_api::http::Response as HttpResponse;

use crate::error::{sanitise_message, AppError, UpstreamKind};

#[cfg(test)]
mod tests;

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
        // A 2xx whose body the operation could not read (some SDK crates report it as a service
        // error): an unreadable answer like `ResponseError`, never the caller's fault.
        SdkError::ServiceError(context) if context.raw().status().is_success() => upstream(UpstreamKind::Fault),
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

/// The function's role or its pool/secret settings are wrong; only the operator can fix it.
fn configuration(detail: String) -> AppError {
    AppError::Configuration { detail }
}

/// The service failed on its side; a retry may succeed.
fn fault(detail: String) -> AppError {
    AppError::Upstream {
        kind: UpstreamKind::Fault,
        detail,
    }
}

/// Cognito's message for the caller, cleaned, or `fallback` when it sent none.
fn caller_message(message: Option<&str>, fallback: &str) -> String {
    match message.map(sanitise_message) {
        Some(message) if !message.is_empty() => message,
        _ => fallback.to_owned(),
    }
}

/// A variant a newer SDK added that no arm names yet (the wildcard the compiler demands for a
/// `#[non_exhaustive]` enum). Decided like an unmodelled code until someone names it; the
/// completeness test fails meanwhile.
fn undecided(code: Option<&str>, status: u16, detail: String) -> AppError {
    unmodelled_service_error(code, status, detail)
}

pub(crate) fn admin_set_user_password_error(err: SdkError<AdminSetUserPasswordError, HttpResponse>) -> AppError {
    use AdminSetUserPasswordError as E;
    map_sdk_error("AdminSetUserPassword", err, |e, status, detail| match e {
        // Cognito failed on its side, perhaps after the change: cognito/set_outcome.rs.
        E::InternalErrorException(_) => AppError::SetOutcomeUnknown { detail },
        E::InvalidParameterException(e) => AppError::InvalidParameter(caller_message(e.message(), "invalid parameter")),
        E::InvalidPasswordException(e) => AppError::InvalidPassword(caller_message(
            e.message(),
            "the password does not satisfy the pool's password policy",
        )),
        // With IAM credentials this is about the pool (e.g. an app-client-only setting), not the caller.
        E::NotAuthorizedException(_) => configuration(detail),
        E::OperationNotEnabledException(_) => configuration(detail),
        E::PasswordHistoryPolicyViolationException(_) => AppError::PasswordReused,
        // The pool (USER_POOL_ID) is gone.
        E::ResourceNotFoundException(_) => configuration(detail),
        E::TooManyRequestsException(_) => AppError::TooManyRequests,
        E::UserNotFoundException(_) => AppError::UserNotFound,
        // A code outside this operation's model (IAM AccessDenied, signing, front-door throttling).
        #[allow(deprecated)]
        E::Unhandled(_) => unmodelled_service_error(e.code(), status, detail),
        _ => undecided(e.code(), status, detail),
    })
}

pub(crate) fn admin_get_user_error(err: SdkError<AdminGetUserError, HttpResponse>) -> AppError {
    use AdminGetUserError as E;
    map_sdk_error("AdminGetUser", err, |e, status, detail| match e {
        E::InternalErrorException(_) => fault(detail),
        E::InvalidParameterException(e) => AppError::InvalidParameter(caller_message(e.message(), "invalid parameter")),
        E::NotAuthorizedException(_) => configuration(detail),
        E::OperationNotEnabledException(_) => configuration(detail),
        E::ResourceNotFoundException(_) => configuration(detail),
        E::TooManyRequestsException(_) => AppError::TooManyRequests,
        E::UserNotFoundException(_) => AppError::UserNotFound,
        // A code outside this operation's model (IAM AccessDenied, signing, front-door throttling).
        #[allow(deprecated)]
        E::Unhandled(_) => unmodelled_service_error(e.code(), status, detail),
        _ => undecided(e.code(), status, detail),
    })
}

pub(crate) fn admin_list_groups_for_user_error(err: SdkError<AdminListGroupsForUserError, HttpResponse>) -> AppError {
    use AdminListGroupsForUserError as E;
    map_sdk_error("AdminListGroupsForUser", err, |e, status, detail| match e {
        E::InternalErrorException(_) => fault(detail),
        // Also for the caller's look-up: the handler turns it into a refusal there.
        E::InvalidParameterException(e) => AppError::InvalidParameter(caller_message(e.message(), "invalid parameter")),
        E::NotAuthorizedException(_) => configuration(detail),
        E::OperationNotEnabledException(_) => configuration(detail),
        // USER_POOL_ID or ADMIN_USER_POOL_ID is gone.
        E::ResourceNotFoundException(_) => configuration(detail),
        E::TooManyRequestsException(_) => AppError::TooManyRequests,
        E::UserNotFoundException(_) => AppError::UserNotFound,
        // A code outside this operation's model (IAM AccessDenied, signing, front-door throttling).
        #[allow(deprecated)]
        E::Unhandled(_) => unmodelled_service_error(e.code(), status, detail),
        _ => undecided(e.code(), status, detail),
    })
}

/// What the reset's refusals mean. The handler has already refused a target without a verified
/// contact or in a status other than `CONFIRMED`; Cognito's own answers to the same (the user
/// changed in between) are told apart by its message, which is all that distinguishes them
/// from the configuration errors sharing their variants.
pub(crate) fn admin_reset_user_password_error(err: SdkError<AdminResetUserPasswordError, HttpResponse>) -> AppError {
    use AdminResetUserPasswordError as E;
    map_sdk_error("AdminResetUserPassword", err, |e, status, detail| match e {
        E::InternalErrorException(_) => fault(detail),
        // The pool's SES or SNS set-up (role, trust, sandbox): only the operator can fix it.
        E::InvalidEmailRoleAccessPolicyException(_) => configuration(detail),
        E::InvalidSmsRoleAccessPolicyException(_) => configuration(detail),
        E::InvalidSmsRoleTrustRelationshipException(_) => configuration(detail),
        // The pool's custom-message trigger answered what Cognito cannot use, or failed.
        E::InvalidLambdaResponseException(_) => configuration(detail),
        E::UnexpectedLambdaException(_) => fault(detail),
        // The pool's trigger refused this reset on purpose.
        E::UserLambdaValidationException(e) => AppError::Forbidden(format!(
            "the user pool's trigger refused the reset: {}",
            caller_message(e.message(), "no reason given")
        )),
        E::InvalidParameterException(e) if says_no_verified_contact(e.message()) => AppError::NoVerifiedContact,
        E::InvalidParameterException(e) => AppError::InvalidParameter(caller_message(e.message(), "invalid parameter")),
        // Cognito's limit on codes sent to one user: a later retry may pass.
        E::LimitExceededException(_) => AppError::TooManyRequests,
        E::NotAuthorizedException(e) if says_invalid_state(e.message()) => AppError::reset_not_allowed(None),
        E::NotAuthorizedException(_) => configuration(detail),
        E::OperationNotEnabledException(_) => configuration(detail),
        E::ResourceNotFoundException(_) => configuration(detail),
        E::TooManyRequestsException(_) => AppError::TooManyRequests,
        E::UserNotFoundException(_) => AppError::UserNotFound,
        // Not in the operation's model, yet what Cognito answers when SES or SNS refused the code.
        #[allow(deprecated)]
        E::Unhandled(_) if e.code() == Some("CodeDeliveryFailureException") => AppError::CodeDeliveryFailed { detail },
        // A code outside this operation's model (IAM AccessDenied, signing, front-door throttling).
        #[allow(deprecated)]
        E::Unhandled(_) => unmodelled_service_error(e.code(), status, detail),
        _ => undecided(e.code(), status, detail),
    })
}

/// Cognito's `InvalidParameterException` message for a user with no verified email or phone.
fn says_no_verified_contact(message: Option<&str>) -> bool {
    message.is_some_and(|m| m.contains("verified email or phone"))
}

/// Cognito's `NotAuthorizedException` message for a status that cannot be reset (or a
/// disabled user).
fn says_invalid_state(message: Option<&str>) -> bool {
    message.is_some_and(|m| m.contains("current state") || m.contains("User is disabled"))
}

pub(crate) fn admin_user_global_sign_out_error(err: SdkError<AdminUserGlobalSignOutError, HttpResponse>) -> AppError {
    use AdminUserGlobalSignOutError as E;
    map_sdk_error("AdminUserGlobalSignOut", err, |e, status, detail| match e {
        E::InternalErrorException(_) => fault(detail),
        E::InvalidParameterException(e) => AppError::InvalidParameter(caller_message(e.message(), "invalid parameter")),
        E::NotAuthorizedException(_) => configuration(detail),
        E::OperationNotEnabledException(_) => configuration(detail),
        E::ResourceNotFoundException(_) => configuration(detail),
        E::TooManyRequestsException(_) => AppError::TooManyRequests,
        // Deleted between the set and the sign-out.
        E::UserNotFoundException(_) => AppError::UserNotFound,
        // A code outside this operation's model (IAM AccessDenied, signing, front-door throttling).
        #[allow(deprecated)]
        E::Unhandled(_) => unmodelled_service_error(e.code(), status, detail),
        _ => undecided(e.code(), status, detail),
    })
}

pub(crate) fn describe_user_pool_error(err: SdkError<DescribeUserPoolError, HttpResponse>) -> AppError {
    use DescribeUserPoolError as E;
    map_sdk_error("DescribeUserPool", err, |e, status, detail| match e {
        E::InternalErrorException(_) => fault(detail),
        // USER_POOL_ID is malformed: the operator set it.
        E::InvalidParameterException(_) => configuration(detail),
        E::NotAuthorizedException(_) => configuration(detail),
        E::OperationNotEnabledException(_) => configuration(detail),
        E::ResourceNotFoundException(_) => configuration(detail),
        E::TooManyRequestsException(_) => AppError::TooManyRequests,
        // About setting pool tags, which a describe never does: unforeseen.
        E::UserPoolTaggingException(_) => AppError::Internal { detail },
        // A code outside this operation's model (IAM AccessDenied, signing, front-door throttling).
        #[allow(deprecated)]
        E::Unhandled(_) => unmodelled_service_error(e.code(), status, detail),
        _ => undecided(e.code(), status, detail),
    })
}

/// No oracle: whether the named secret is missing, deleted, disabled or encrypted with a key we
/// may not use, the caller gets the same `SecretUnusable` answer; the reason is in the log.
/// Only a failure no caller can cause (our role may not read the prefix) pages the operator.
pub(crate) fn get_secret_value_error(err: SdkError<GetSecretValueError, HttpResponse>) -> AppError {
    use GetSecretValueError as E;
    map_sdk_error("GetSecretValue", err, |e, status, detail| match e {
        E::DecryptionFailure(_) => AppError::SecretUnusable { detail },
        E::InternalServiceError(_) => fault(detail),
        E::InvalidParameterException(_) => AppError::SecretUnusable { detail },
        // Scheduled for deletion, or the version asked for is not there.
        E::InvalidRequestException(_) => AppError::SecretUnusable { detail },
        E::ResourceNotFoundException(_) => AppError::SecretUnusable { detail },
        // AccessDeniedException (the role's grant or the key policy) is a configuration error;
        // throttling is 429. `request.rs` has already checked the name's prefix.
        #[allow(deprecated)]
        E::Unhandled(_) => unmodelled_service_error(e.code(), status, detail),
        _ => undecided(e.code(), status, detail),
    })
}

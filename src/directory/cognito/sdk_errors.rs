//! What each SDK operation's failure means for the caller: one function per operation, each a
//! `match` that names every modelled error of that operation. docs/errors.md has the same
//! decisions as a table.
//!
//! The SDK marks its error enums `#[non_exhaustive]`, so stable Rust insists on a wildcard arm
//! and cannot reject a variant a newer SDK adds. `tests::every_sdk_variant_is_decided_here_and_in_the_docs`
//! closes that gap: it reads the enums from the SDK sources in Cargo.lock and fails until each
//! variant is named in this file and in docs/errors.md.

use super::*;

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

/// A variant a newer SDK added that no arm names yet (the wildcard the compiler demands).
/// Decided like an unmodelled code until someone names it; the variant test fails meanwhile.
fn undecided(code: Option<&str>, status: u16, detail: String) -> AppError {
    unmodelled_service_error(code, status, detail)
}

pub(super) fn admin_set_user_password_error(err: SdkError<AdminSetUserPasswordError, HttpResponse>) -> AppError {
    use AdminSetUserPasswordError as E;
    map_sdk_error("AdminSetUserPassword", err, |e, status, detail| match e {
        // Cognito failed on its side, perhaps after the change: set_outcome.rs.
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

pub(super) fn admin_get_user_error(err: SdkError<AdminGetUserError, HttpResponse>) -> AppError {
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

pub(super) fn admin_list_groups_for_user_error(err: SdkError<AdminListGroupsForUserError, HttpResponse>) -> AppError {
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

pub(super) fn admin_user_global_sign_out_error(err: SdkError<AdminUserGlobalSignOutError, HttpResponse>) -> AppError {
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

pub(super) fn describe_user_pool_error(err: SdkError<DescribeUserPoolError, HttpResponse>) -> AppError {
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
pub(super) fn get_secret_value_error(err: SdkError<GetSecretValueError, HttpResponse>) -> AppError {
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cognitoidentityprovider::types::error as cip;
    use aws_sdk_secretsmanager::types::error as sm;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    const MESSAGE: &str = "injected\r\nmessage";
    const DOCS: &str = include_str!("../../../docs/errors.md");

    fn meta(code: &str) -> ErrorMetadata {
        ErrorMetadata::builder().code(code).message(MESSAGE).build()
    }

    /// Wraps a modelled error as the SDK would after an HTTP 400 (500 for server faults).
    fn service<E>(err: E, status: u16) -> SdkError<E, HttpResponse> {
        SdkError::service_error(err, HttpResponse::new(status.try_into().unwrap(), SdkBody::from("{}")))
    }

    /// One row: the variant's name, the mapped error, and the expected code and status.
    type Row = (&'static str, AppError, &'static str, u16);

    /// Checks each row's code and status, and that docs/errors.md has the same row.
    fn check(operation: &str, rows: Vec<Row>) {
        for (variant, mapped, code, status) in rows {
            if !variant.contains(' ') {
                let row = format!("| `{operation}` | `{variant}` | `{code}` | {status} |");
                assert!(DOCS.contains(&row), "docs/errors.md lacks the row starting {row:?}");
            }
            assert_eq!(
                (mapped.code(), mapped.status()),
                (code, status),
                "{variant} became {mapped:?}"
            );
            if mapped.status() >= 500 {
                assert!(
                    mapped.detail().is_some_and(|d| d.contains("injected")),
                    "{variant}: {mapped:?}"
                );
            }
        }
    }

    macro_rules! modelled {
        ($ty:ident) => {
            cip::$ty::builder()
                .message(MESSAGE)
                .meta(meta(stringify!($ty)))
                .build()
        };
    }

    #[test]
    fn admin_set_user_password_every_variant() {
        use AdminSetUserPasswordError as E;
        let map = |e: E, status| admin_set_user_password_error(service(e, status));
        check(
            "AdminSetUserPassword",
            vec![
                (
                    "InternalErrorException",
                    map(E::InternalErrorException(modelled!(InternalErrorException)), 500),
                    "UpstreamError",
                    504,
                ),
                (
                    "InvalidParameterException",
                    map(E::InvalidParameterException(modelled!(InvalidParameterException)), 400),
                    "InvalidParameter",
                    400,
                ),
                (
                    "InvalidPasswordException",
                    map(E::InvalidPasswordException(modelled!(InvalidPasswordException)), 400),
                    "InvalidPassword",
                    400,
                ),
                (
                    "NotAuthorizedException",
                    map(E::NotAuthorizedException(modelled!(NotAuthorizedException)), 400),
                    "ConfigurationError",
                    500,
                ),
                (
                    "OperationNotEnabledException",
                    map(
                        E::OperationNotEnabledException(modelled!(OperationNotEnabledException)),
                        400,
                    ),
                    "ConfigurationError",
                    500,
                ),
                (
                    "PasswordHistoryPolicyViolationException",
                    map(
                        E::PasswordHistoryPolicyViolationException(modelled!(PasswordHistoryPolicyViolationException)),
                        400,
                    ),
                    "PasswordReused",
                    400,
                ),
                (
                    "ResourceNotFoundException",
                    map(E::ResourceNotFoundException(modelled!(ResourceNotFoundException)), 400),
                    "ConfigurationError",
                    500,
                ),
                (
                    "TooManyRequestsException",
                    map(E::TooManyRequestsException(modelled!(TooManyRequestsException)), 400),
                    "TooManyRequests",
                    429,
                ),
                (
                    "UserNotFoundException",
                    map(E::UserNotFoundException(modelled!(UserNotFoundException)), 400),
                    "UserNotFound",
                    404,
                ),
                (
                    "Unhandled AccessDeniedException",
                    map(E::generic(meta("AccessDeniedException")), 400),
                    "ConfigurationError",
                    500,
                ),
                (
                    "Unhandled without a code",
                    map(E::unhandled("injected garbage"), 500),
                    "UpstreamError",
                    502,
                ),
            ],
        );
    }

    #[test]
    fn admin_get_user_every_variant() {
        use AdminGetUserError as E;
        let map = |e: E, status| admin_get_user_error(service(e, status));
        check(
            "AdminGetUser",
            vec![
                (
                    "InternalErrorException",
                    map(E::InternalErrorException(modelled!(InternalErrorException)), 500),
                    "UpstreamError",
                    502,
                ),
                (
                    "InvalidParameterException",
                    map(E::InvalidParameterException(modelled!(InvalidParameterException)), 400),
                    "InvalidParameter",
                    400,
                ),
                (
                    "NotAuthorizedException",
                    map(E::NotAuthorizedException(modelled!(NotAuthorizedException)), 400),
                    "ConfigurationError",
                    500,
                ),
                (
                    "OperationNotEnabledException",
                    map(
                        E::OperationNotEnabledException(modelled!(OperationNotEnabledException)),
                        400,
                    ),
                    "ConfigurationError",
                    500,
                ),
                (
                    "ResourceNotFoundException",
                    map(E::ResourceNotFoundException(modelled!(ResourceNotFoundException)), 400),
                    "ConfigurationError",
                    500,
                ),
                (
                    "TooManyRequestsException",
                    map(E::TooManyRequestsException(modelled!(TooManyRequestsException)), 400),
                    "TooManyRequests",
                    429,
                ),
                (
                    "UserNotFoundException",
                    map(E::UserNotFoundException(modelled!(UserNotFoundException)), 400),
                    "UserNotFound",
                    404,
                ),
                (
                    "Unhandled ThrottlingException",
                    map(E::generic(meta("ThrottlingException")), 400),
                    "TooManyRequests",
                    429,
                ),
                (
                    "Unhandled unknown 4xx code",
                    map(E::generic(meta("BrandNewException")), 400),
                    "InternalError",
                    500,
                ),
            ],
        );
    }

    #[test]
    fn admin_list_groups_for_user_every_variant() {
        use AdminListGroupsForUserError as E;
        let map = |e: E, status| admin_list_groups_for_user_error(service(e, status));
        check(
            "AdminListGroupsForUser",
            vec![
                (
                    "InternalErrorException",
                    map(E::InternalErrorException(modelled!(InternalErrorException)), 500),
                    "UpstreamError",
                    502,
                ),
                (
                    "InvalidParameterException",
                    map(E::InvalidParameterException(modelled!(InvalidParameterException)), 400),
                    "InvalidParameter",
                    400,
                ),
                (
                    "NotAuthorizedException",
                    map(E::NotAuthorizedException(modelled!(NotAuthorizedException)), 400),
                    "ConfigurationError",
                    500,
                ),
                (
                    "OperationNotEnabledException",
                    map(
                        E::OperationNotEnabledException(modelled!(OperationNotEnabledException)),
                        400,
                    ),
                    "ConfigurationError",
                    500,
                ),
                (
                    "ResourceNotFoundException",
                    map(E::ResourceNotFoundException(modelled!(ResourceNotFoundException)), 400),
                    "ConfigurationError",
                    500,
                ),
                (
                    "TooManyRequestsException",
                    map(E::TooManyRequestsException(modelled!(TooManyRequestsException)), 400),
                    "TooManyRequests",
                    429,
                ),
                (
                    "UserNotFoundException",
                    map(E::UserNotFoundException(modelled!(UserNotFoundException)), 400),
                    "UserNotFound",
                    404,
                ),
                (
                    "Unhandled AccessDeniedException",
                    map(E::generic(meta("AccessDeniedException")), 400),
                    "ConfigurationError",
                    500,
                ),
            ],
        );
    }

    #[test]
    fn admin_user_global_sign_out_every_variant() {
        use AdminUserGlobalSignOutError as E;
        let map = |e: E, status| admin_user_global_sign_out_error(service(e, status));
        check(
            "AdminUserGlobalSignOut",
            vec![
                (
                    "InternalErrorException",
                    map(E::InternalErrorException(modelled!(InternalErrorException)), 500),
                    "UpstreamError",
                    502,
                ),
                (
                    "InvalidParameterException",
                    map(E::InvalidParameterException(modelled!(InvalidParameterException)), 400),
                    "InvalidParameter",
                    400,
                ),
                (
                    "NotAuthorizedException",
                    map(E::NotAuthorizedException(modelled!(NotAuthorizedException)), 400),
                    "ConfigurationError",
                    500,
                ),
                (
                    "OperationNotEnabledException",
                    map(
                        E::OperationNotEnabledException(modelled!(OperationNotEnabledException)),
                        400,
                    ),
                    "ConfigurationError",
                    500,
                ),
                (
                    "ResourceNotFoundException",
                    map(E::ResourceNotFoundException(modelled!(ResourceNotFoundException)), 400),
                    "ConfigurationError",
                    500,
                ),
                (
                    "TooManyRequestsException",
                    map(E::TooManyRequestsException(modelled!(TooManyRequestsException)), 400),
                    "TooManyRequests",
                    429,
                ),
                (
                    "UserNotFoundException",
                    map(E::UserNotFoundException(modelled!(UserNotFoundException)), 400),
                    "UserNotFound",
                    404,
                ),
                (
                    "Unhandled ServiceUnavailable",
                    map(E::generic(meta("ServiceUnavailable")), 503),
                    "UpstreamError",
                    502,
                ),
            ],
        );
    }

    #[test]
    fn describe_user_pool_every_variant() {
        use DescribeUserPoolError as E;
        let map = |e: E, status| describe_user_pool_error(service(e, status));
        check(
            "DescribeUserPool",
            vec![
                (
                    "InternalErrorException",
                    map(E::InternalErrorException(modelled!(InternalErrorException)), 500),
                    "UpstreamError",
                    502,
                ),
                (
                    "InvalidParameterException",
                    map(E::InvalidParameterException(modelled!(InvalidParameterException)), 400),
                    "ConfigurationError",
                    500,
                ),
                (
                    "NotAuthorizedException",
                    map(E::NotAuthorizedException(modelled!(NotAuthorizedException)), 400),
                    "ConfigurationError",
                    500,
                ),
                (
                    "OperationNotEnabledException",
                    map(
                        E::OperationNotEnabledException(modelled!(OperationNotEnabledException)),
                        400,
                    ),
                    "ConfigurationError",
                    500,
                ),
                (
                    "ResourceNotFoundException",
                    map(E::ResourceNotFoundException(modelled!(ResourceNotFoundException)), 400),
                    "ConfigurationError",
                    500,
                ),
                (
                    "TooManyRequestsException",
                    map(E::TooManyRequestsException(modelled!(TooManyRequestsException)), 400),
                    "TooManyRequests",
                    429,
                ),
                (
                    "UserPoolTaggingException",
                    map(E::UserPoolTaggingException(modelled!(UserPoolTaggingException)), 400),
                    "InternalError",
                    500,
                ),
                (
                    "Unhandled AccessDeniedException",
                    map(E::generic(meta("AccessDeniedException")), 400),
                    "ConfigurationError",
                    500,
                ),
            ],
        );
    }

    #[test]
    fn get_secret_value_every_variant() {
        use GetSecretValueError as E;
        macro_rules! secret {
            ($ty:ident) => {
                sm::$ty::builder()
                    .message(MESSAGE)
                    .meta(meta(stringify!($ty)))
                    .build()
            };
        }
        let map = |e: E, status| get_secret_value_error(service(e, status));
        let rows = vec![
            (
                "DecryptionFailure",
                map(E::DecryptionFailure(secret!(DecryptionFailure)), 400),
                "InvalidRequest",
                400,
            ),
            (
                "InternalServiceError",
                map(E::InternalServiceError(secret!(InternalServiceError)), 500),
                "UpstreamError",
                502,
            ),
            (
                "InvalidParameterException",
                map(E::InvalidParameterException(secret!(InvalidParameterException)), 400),
                "InvalidRequest",
                400,
            ),
            (
                "InvalidRequestException",
                map(E::InvalidRequestException(secret!(InvalidRequestException)), 400),
                "InvalidRequest",
                400,
            ),
            (
                "ResourceNotFoundException",
                map(E::ResourceNotFoundException(secret!(ResourceNotFoundException)), 400),
                "InvalidRequest",
                400,
            ),
            (
                "Unhandled AccessDeniedException",
                map(E::generic(meta("AccessDeniedException")), 400),
                "ConfigurationError",
                500,
            ),
            (
                "Unhandled ThrottlingException",
                map(E::generic(meta("ThrottlingException")), 400),
                "TooManyRequests",
                429,
            ),
        ];
        // No oracle: every caller-side failure reads the same, and the reason stays in the log.
        for (variant, mapped, ..) in &rows {
            if mapped.code() == "InvalidRequest" {
                assert_eq!(
                    mapped.to_string(),
                    "passwordSecretId: the secret cannot be used",
                    "{variant}"
                );
                assert!(
                    mapped.detail().is_some_and(|d| d.contains(variant)),
                    "{variant}: {mapped:?}"
                );
            }
        }
        check("GetSecretValue", rows);
    }

    /// The SDK's source of `crate_name` as Cargo.lock pins it: the registry's unpacked copy
    /// under `CARGO_HOME` (which every build has), or a `vendor/` directory.
    fn sdk_source(crate_name: &str) -> std::path::PathBuf {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap();
        let version = lock
            .split("[[package]]")
            .find_map(|package| {
                let mut lines = package.lines().map(str::trim);
                lines.find(|l| *l == format!("name = \"{crate_name}\""))?;
                lines.find_map(|l| l.strip_prefix("version = \"")?.strip_suffix('"'))
            })
            .unwrap_or_else(|| panic!("{crate_name} is not in Cargo.lock"));
        let dir_name = format!("{crate_name}-{version}");
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"));
        let registries = std::fs::read_dir(cargo_home.join("registry/src"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path().join(&dir_name));
        registries
            .chain([root.join("vendor").join(crate_name)])
            .find(|dir| dir.is_dir())
            .unwrap_or_else(|| panic!("the source of {dir_name} was not found under {}", cargo_home.display()))
    }

    /// Variant names of `pub enum {enum_name}` in the SDK's `src/operation/{module}.rs`.
    fn sdk_variants(crate_name: &str, module: &str, enum_name: &str) -> Vec<String> {
        let path = sdk_source(crate_name).join(format!("src/operation/{module}.rs"));
        let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let start = format!("pub enum {enum_name} {{");
        let body = source
            .split_once(&start)
            .and_then(|(_, rest)| rest.split_once("\n}"))
            .unwrap_or_else(|| panic!("{} has no {start}", path.display()))
            .0;
        body.lines()
            .filter_map(|line| line.strip_prefix("    ")?.split_once('(').map(|(name, _)| name))
            .filter(|name| !name.is_empty() && name.chars().all(char::is_alphanumeric))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn every_sdk_variant_is_decided_here_and_in_the_docs() {
        let this_file = include_str!("sdk_errors.rs");
        let operations = [
            (
                "aws-sdk-cognitoidentityprovider",
                "AdminSetUserPassword",
                "admin_set_user_password",
            ),
            ("aws-sdk-cognitoidentityprovider", "AdminGetUser", "admin_get_user"),
            (
                "aws-sdk-cognitoidentityprovider",
                "AdminListGroupsForUser",
                "admin_list_groups_for_user",
            ),
            (
                "aws-sdk-cognitoidentityprovider",
                "AdminUserGlobalSignOut",
                "admin_user_global_sign_out",
            ),
            (
                "aws-sdk-cognitoidentityprovider",
                "DescribeUserPool",
                "describe_user_pool",
            ),
            ("aws-sdk-secretsmanager", "GetSecretValue", "get_secret_value"),
        ];
        for (crate_name, operation, module) in operations {
            let variants = sdk_variants(crate_name, module, &format!("{operation}Error"));
            assert!(
                variants.contains(&"Unhandled".to_owned()),
                "{operation}: parsed {variants:?}"
            );
            // The mapping function of this operation, up to the next one.
            let function = this_file
                .split(&format!("fn {module}_error("))
                .nth(1)
                .and_then(|rest| rest.split("\n}\n").next())
                .unwrap();
            let doc_rows: Vec<&str> = DOCS
                .lines()
                .filter(|line| line.starts_with(&format!("| `{operation}` | `")))
                .collect();
            for variant in &variants {
                assert!(
                    function.contains(&format!("E::{variant}(")),
                    "{operation}Error::{variant} (in the SDK) has no arm in {module}_error"
                );
                assert!(
                    doc_rows
                        .iter()
                        .any(|row| row.starts_with(&format!("| `{operation}` | `{variant}` |"))),
                    "docs/errors.md has no row for {operation} {variant}"
                );
            }
            assert_eq!(
                doc_rows.len(),
                variants.len(),
                "docs/errors.md rows for {operation} vs the SDK's {variants:?}"
            );
        }
    }

    #[test]
    fn caller_facing_messages_are_sanitised() {
        let err = admin_set_user_password_error(service(
            AdminSetUserPasswordError::InvalidPasswordException(
                cip::InvalidPasswordException::builder()
                    .message("Password did not conform with policy:\n too short")
                    .build(),
            ),
            400,
        ));
        assert_eq!(err.to_string(), "Password did not conform with policy: too short");
        let err = admin_get_user_error(service(
            AdminGetUserError::InvalidParameterException(cip::InvalidParameterException::builder().build()),
            400,
        ));
        assert_eq!(err.to_string(), "invalid parameter");
    }
}

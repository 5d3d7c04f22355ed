//! docs/errors.md is the one statement of what every SDK error becomes; these tests hold the
//! mapping functions, and the SDK's variants, to it.
//!
//! - `every_documented_variant_maps_as_documented`: each row of the per-operation table is
//!   played through the real SDK: a client whose HTTP answer is the AWS JSON error the row
//!   names, so the SDK's own deserialiser picks the variant (the test fails if it parses as
//!   anything else, e.g. a row naming a variant the operation does not have), then the
//!   operation's mapping function, whose code and status must be the row's.
//! - `every_sdk_variant_has_a_row`: completeness. The SDK's error enums are `#[non_exhaustive]`,
//!   so on stable Rust no `match` outside the SDK can be exhaustive (the wildcard is mandatory
//!   and the lint that would flag an unnamed variant is nightly-only), and no API lists a
//!   variant's siblings. The one place the list exists is the SDK source cargo compiled, so the
//!   test asks `cargo metadata` where that is (whatever CARGO_HOME, vendoring or source
//!   replacement) and reads the enum there. After an SDK upgrade that adds a variant, it fails
//!   until docs/errors.md has a row for it, and the first test then until the code agrees.

use std::path::PathBuf;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_cognitoidentityprovider::config::{Credentials, Region, SharedCredentialsProvider};
use aws_sdk_cognitoidentityprovider::types::error as cip;
use aws_smithy_runtime_api::client::http::{http_client_fn, HttpConnector, HttpConnectorFuture, SharedHttpConnector};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::ErrorMetadata;

use super::*;

const DOCS: &str = include_str!("../../../docs/errors.md");
const MESSAGE: &str = "injected\r\nmessage";

/// Each operation the adapters call: its SDK crate, and its module there.
const OPERATIONS: [(&str, &str, &str); 7] = [
    (
        "AdminResetUserPassword",
        "aws-sdk-cognitoidentityprovider",
        "admin_reset_user_password",
    ),
    (
        "AdminSetUserPassword",
        "aws-sdk-cognitoidentityprovider",
        "admin_set_user_password",
    ),
    ("AdminGetUser", "aws-sdk-cognitoidentityprovider", "admin_get_user"),
    (
        "AdminListGroupsForUser",
        "aws-sdk-cognitoidentityprovider",
        "admin_list_groups_for_user",
    ),
    (
        "AdminUserGlobalSignOut",
        "aws-sdk-cognitoidentityprovider",
        "admin_user_global_sign_out",
    ),
    (
        "DescribeUserPool",
        "aws-sdk-cognitoidentityprovider",
        "describe_user_pool",
    ),
    ("GetSecretValue", "aws-sdk-secretsmanager", "get_secret_value"),
];

/// The per-operation table's rows: operation, SDK variant, code, HTTP status.
fn documented() -> Vec<[&'static str; 4]> {
    let header = "| operation | SDK variant | code | HTTP | why |\n|---|---|---|---|---|\n";
    let table = DOCS
        .split(header)
        .nth(1)
        .expect("docs/errors.md has the per-operation table");
    let table = table.split("\n\n").next().unwrap();
    table
        .lines()
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(|cell| cell.trim().trim_matches('`')).collect();
            assert_eq!(cells.len(), 7, "not a row of five cells: {line}");
            [cells[1], cells[2], cells[3], cells[4]]
        })
        .collect()
}

/// An SDK configuration whose every call is answered, once, with the AWS JSON error `error_type`.
fn refusing(error_type: &str) -> SdkConfig {
    refusing_with(error_type, MESSAGE)
}

/// The same, with Cognito's own `message`.
fn refusing_with(error_type: &str, message: &str) -> SdkConfig {
    #[derive(Debug)]
    struct Refusal(String, String);
    impl HttpConnector for Refusal {
        fn call(&self, _: HttpRequest) -> HttpConnectorFuture {
            let body = serde_json::json!({"__type": self.0, "message": self.1}).to_string();
            HttpConnectorFuture::ready(Ok(HttpResponse::new(400.try_into().unwrap(), SdkBody::from(body))))
        }
    }
    let connector = SharedHttpConnector::new(Refusal(error_type.to_owned(), message.to_owned()));
    let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(http_client_fn(move |_, _| connector.clone()))
        .retry_config(RetryConfig::disabled())
        .build()
}

/// `map`'s answer to `err`, once the SDK is seen to have parsed it as `variant`.
fn mapped<E: std::fmt::Debug>(
    variant: &str,
    err: SdkError<E, HttpResponse>,
    map: fn(SdkError<E, HttpResponse>) -> AppError,
) -> AppError {
    let parsed = format!("{:?}", err.as_service_error().expect("a service error"));
    assert!(
        parsed.starts_with(&format!("{variant}(")),
        "the SDK parsed {variant} as {parsed}"
    );
    map(err)
}

#[tokio::test]
async fn every_documented_variant_maps_as_documented() {
    for [operation, variant, code, status] in documented() {
        if variant == "Unhandled" {
            continue; // decided by code: `unmodelled_codes_map_as_documented`
        }
        let sdk = refusing(variant);
        let cognito = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
        let (pool, user) = ("us-east-1_Example", "bob");
        let err = match operation {
            "AdminSetUserPassword" => {
                let call = cognito
                    .admin_set_user_password()
                    .user_pool_id(pool)
                    .username(user)
                    .password("x");
                mapped(variant, call.send().await.unwrap_err(), admin_set_user_password_error)
            }
            "AdminResetUserPassword" => {
                let call = cognito.admin_reset_user_password().user_pool_id(pool).username(user);
                mapped(variant, call.send().await.unwrap_err(), admin_reset_user_password_error)
            }
            "AdminGetUser" => {
                let call = cognito.admin_get_user().user_pool_id(pool).username(user);
                mapped(variant, call.send().await.unwrap_err(), admin_get_user_error)
            }
            "AdminListGroupsForUser" => {
                let call = cognito.admin_list_groups_for_user().user_pool_id(pool).username(user);
                mapped(
                    variant,
                    call.send().await.unwrap_err(),
                    admin_list_groups_for_user_error,
                )
            }
            "AdminUserGlobalSignOut" => {
                let call = cognito.admin_user_global_sign_out().user_pool_id(pool).username(user);
                mapped(
                    variant,
                    call.send().await.unwrap_err(),
                    admin_user_global_sign_out_error,
                )
            }
            "DescribeUserPool" => {
                let call = cognito.describe_user_pool().user_pool_id(pool);
                mapped(variant, call.send().await.unwrap_err(), describe_user_pool_error)
            }
            "GetSecretValue" => {
                let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
                let call = secrets.get_secret_value().secret_id("admin-set-password/bob");
                mapped(variant, call.send().await.unwrap_err(), get_secret_value_error)
            }
            other => panic!("docs/errors.md documents {other}, which no adapter calls"),
        };
        let row = format!("{operation} {variant}");
        assert_eq!(
            (err.code(), err.status().to_string().as_str()),
            (code, status),
            "{row}: {err:?}"
        );
        // What the caller reads is clean; what only the log reads keeps the service's words.
        assert!(!err.to_string().contains(['\r', '\n']), "{row}: {err}");
        if let Some(detail) = err.detail() {
            assert!(
                detail.contains("injected") && detail.contains(variant),
                "{row}: {detail}"
            );
        }
        // No oracle: every secret the caller cannot use reads the same.
        if code == "InvalidRequest" {
            assert_eq!(err.to_string(), "passwordSecretId: the secret cannot be used", "{row}");
        }
    }
}

/// The source of each SDK crate, where cargo has the version Cargo.lock pins.
fn sdk_sources() -> serde_json::Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args(["metadata", "--format-version=1", "--locked", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Variant names of `pub enum {name}` in `source`.
fn variants<'a>(source: &'a str, name: &str) -> Vec<&'a str> {
    let body = source
        .split_once(&format!("pub enum {name} {{"))
        .and_then(|(_, rest)| rest.split_once("\n}"))
        .unwrap_or_else(|| panic!("no enum {name}"))
        .0;
    body.lines()
        .filter_map(|line| line.strip_prefix("    ")?.split_once('(').map(|(name, _)| name))
        .filter(|name| !name.is_empty() && name.chars().all(char::is_alphanumeric))
        .collect()
}

#[test]
fn every_sdk_variant_has_a_row() {
    let metadata = sdk_sources();
    let documented = documented();
    for (operation, krate, module) in OPERATIONS {
        let package = metadata["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == krate)
            .unwrap();
        let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap());
        let path = manifest.with_file_name(format!("src/operation/{module}.rs"));
        let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut in_sdk = variants(&source, &format!("{operation}Error"));
        assert!(in_sdk.contains(&"Unhandled"), "{operation}: parsed {in_sdk:?}");
        let mut in_docs: Vec<&str> = documented
            .iter()
            .filter(|row| row[0] == operation)
            .map(|row| row[1])
            .collect();
        in_sdk.sort_unstable();
        in_docs.sort_unstable();
        assert_eq!(
            in_docs,
            in_sdk,
            "docs/errors.md rows for {operation} against the SDK's {}",
            path.display()
        );
    }
}

/// The table of codes outside an operation's model: each listed code, then any other by status.
#[test]
fn unmodelled_codes_map_as_documented() {
    let table = DOCS
        .split("| error code | code | HTTP |\n|---|---|---|\n")
        .nth(1)
        .unwrap();
    for line in table.split("\n\n").next().unwrap().lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (codes, expected) = (cells[1], (cells[2].trim_matches('`'), cells[3]));
        let cases: Vec<(Option<&str>, u16)> = if codes.contains("5xx") {
            vec![(Some("ServiceUnavailable"), 503), (None, 500)]
        } else if codes.contains("4xx") {
            vec![(Some("SomethingNew"), 400), (None, 400)]
        } else {
            let listed = codes.split('`').skip(1).step_by(2);
            listed.map(|code| (Some(code), 400)).collect()
        };
        assert!(!cases.is_empty(), "{line}");
        for (code, status) in cases {
            let err = unmodelled_service_error(code, status, "detail".into());
            assert_eq!(
                (err.code(), err.status().to_string().as_str()),
                expected,
                "{code:?} with HTTP {status}"
            );
        }
    }
}

/// Cognito's answers about the target to a reset, told apart from the configuration errors
/// that share their variants by Cognito's message; and the delivery failure its model omits.
#[tokio::test]
async fn a_resets_refusals_about_the_user_are_told_apart_by_cognitos_message() {
    let cases = [
        (
            "InvalidParameterException",
            "Cannot reset password for the user as there is no registered/verified email or phone_number",
            ("NoVerifiedContact", 409),
        ),
        (
            "NotAuthorizedException",
            "User password cannot be reset in the current state.",
            ("InvalidUserState", 409),
        ),
        ("NotAuthorizedException", "User is disabled", ("InvalidUserState", 409)),
        ("NotAuthorizedException", "Access denied", ("ConfigurationError", 500)),
        (
            "CodeDeliveryFailureException",
            "Unable to deliver the code",
            ("CodeDeliveryFailed", 502),
        ),
    ];
    for (error_type, message, expected) in cases {
        let cognito = aws_sdk_cognitoidentityprovider::Client::new(&refusing_with(error_type, message));
        let call = cognito
            .admin_reset_user_password()
            .user_pool_id("us-east-1_Example")
            .username("bob");
        let err = admin_reset_user_password_error(call.send().await.unwrap_err());
        assert_eq!((err.code(), err.status()), expected, "{error_type}: {message}");
    }
}

type Err = SdkError<AdminGetUserError, HttpResponse>;

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
        let mapped = map_sdk_error("AdminGetUser", err, |_, _, _| panic!("not a service error"));
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
fn caller_facing_messages_are_sanitised_or_replaced() {
    let err = admin_set_user_password_error(SdkError::service_error(
        AdminSetUserPasswordError::InvalidPasswordException(
            cip::InvalidPasswordException::builder()
                .message("Password did not conform with policy:\n too short")
                .build(),
        ),
        raw(400),
    ));
    assert_eq!(err.to_string(), "Password did not conform with policy: too short");
    let err = admin_get_user_error(SdkError::service_error(
        AdminGetUserError::InvalidParameterException(cip::InvalidParameterException::builder().build()),
        raw(400),
    ));
    assert_eq!(err.to_string(), "invalid parameter");
}

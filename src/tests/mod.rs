//! Handler decisions against the in-memory twin: which outcome, which Cognito calls (none
//! before the token is verified, none for anything refused before the look-ups), and what
//! the audit line says.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};

use crate::directory::memory::{Failure, MemoryChangeEvents, MemoryDirectory, MemorySecrets};
use crate::directory::UserStatus;
use crate::error::{AppError, UpstreamKind};
use crate::testing::{self, authenticate, config, TestKeys, POOL};
use crate::{App, Config, Invocation};

mod features;
mod hostile;
mod reset;
mod trust;

/// The twin's users: alice and carol (admins), bob (staff, CONFIRMED), newbie (staff,
/// FORCE_CHANGE_PASSWORD), rooty (root), erin (staff, CONFIRMED, a verified contact: the
/// sample reset's target), a federated user. Alice's `sub` is the sample
/// events' (`0d9c1f5e-alice`).
fn pool() -> MemoryDirectory {
    MemoryDirectory::default()
        .with_user(POOL, "alice", UserStatus::Confirmed, &["admins", "helpdesk"])
        .with_sub(POOL, "alice", "0d9c1f5e-alice")
        .with_user(POOL, "bob", UserStatus::Confirmed, &["staff"])
        .with_user(POOL, "newbie", UserStatus::ForceChangePassword, &["staff"])
        .with_user(POOL, "carol", UserStatus::Confirmed, &["admins"])
        .with_user(POOL, "rooty", UserStatus::Confirmed, &["root"])
        .with_user(POOL, "erin", UserStatus::Confirmed, &["staff"])
        .with_user(POOL, "fed_user", UserStatus::ExternalProvider, &[])
}

struct Run {
    response: Result<Value, lambda_runtime::Diagnostic>,
    events: Option<Arc<MemoryChangeEvents>>,
    calls: Vec<String>,
    audit: Value,
    output: Vec<String>,
    directory: Arc<MemoryDirectory>,
    elapsed: Duration,
}

fn invocation() -> Invocation {
    Invocation {
        request_id: "lambda-req-1".into(),
        function_arn: "arn:aws:lambda:us-east-1:123456789012:function:admin-set-password".into(),
        deadline: None,
    }
}

/// Runs one event through the handler with its output captured.
async fn run_with(config: Config, directory: MemoryDirectory, event: &str) -> Run {
    run_invocation(config, directory, event, invocation()).await
}

async fn run_invocation(config: Config, directory: MemoryDirectory, event: &str, invocation: Invocation) -> Run {
    run_all(config, directory, event, invocation, None).await
}

/// Runs one event with a change-event bus (the in-memory one) when `events` is given.
async fn run_all(
    config: Config,
    directory: MemoryDirectory,
    event: &str,
    invocation: Invocation,
    events: Option<Arc<MemoryChangeEvents>>,
) -> Run {
    let output = testing::buffer();
    let directory = Arc::new(directory);
    let secrets = MemorySecrets(HashMap::from([
        ("onboarding/bob".to_owned(), "Secret-Passw0rd!9".to_owned()),
        ("onboarding/newbie".to_owned(), "Secret-Passw0rd!9".to_owned()),
        ("onboarding/short".to_owned(), "Ab1!x".to_owned()),
        ("onboarding/padded".to_owned(), " Padded-Passw0rd!1".to_owned()),
        ("onboarding/weak".to_owned(), "all-lowercase-password".to_owned()),
        ("onboarding/named".to_owned(), "Named-Passw0rd!1".to_owned()),
        ("onboarding/newbie-smith1".to_owned(), "Other-Passw0rd!1".to_owned()),
    ]));
    let app = App::new(
        config,
        SharedDirectory(directory.clone()),
        secrets,
        TestKeys,
        events.clone(),
        output.clone(),
    );
    let started = Instant::now();
    let response = app.handle(event, &invocation).await;
    let elapsed = started.elapsed();
    let audit_lines = testing::audit_lines(&output);
    assert_eq!(
        audit_lines.len(),
        1,
        "exactly one audit line per invocation:\n{:?}",
        testing::lines(&output)
    );
    Run {
        response,
        events,
        calls: directory.calls(),
        audit: audit_lines[0].clone(),
        output: testing::lines(&output),
        directory,
        elapsed,
    }
}

async fn run(event: &str) -> Run {
    run_with(config(&[]), pool(), event).await
}

/// Lets the test keep a handle on the twin the app owns.
struct SharedDirectory(Arc<MemoryDirectory>);

impl crate::Directory for SharedDirectory {
    async fn password_policy(&self, pool_id: &str) -> Result<crate::password::PasswordPolicy, AppError> {
        self.0.password_policy(pool_id).await
    }
    async fn list_groups(&self, pool_id: &str, username: &str) -> Result<Vec<String>, AppError> {
        self.0.list_groups(pool_id, username).await
    }
    async fn get_user(&self, pool_id: &str, username: &str) -> Result<crate::directory::UserRecord, AppError> {
        self.0.get_user(pool_id, username).await
    }
    async fn set_password(
        &self,
        pool_id: &str,
        username: &str,
        password: &crate::request::Password,
        permanent: bool,
    ) -> Result<crate::directory::SetAccepted, AppError> {
        self.0.set_password(pool_id, username, password, permanent).await
    }
    async fn reset_password(&self, pool_id: &str, username: &str) -> Result<(), AppError> {
        self.0.reset_password(pool_id, username).await
    }
    async fn global_sign_out(&self, pool_id: &str, username: &str) -> Result<(), AppError> {
        self.0.global_sign_out(pool_id, username).await
    }
}

fn sample_value(name: &str) -> Value {
    let text =
        std::fs::read_to_string(format!("{}/events/{name}.json", env!("CARGO_MANIFEST_DIR"))).expect("sample event");
    serde_json::from_str(&text).unwrap()
}

/// A sample event as is (API samples carry a placeholder token).
fn sample_raw(name: &str) -> String {
    sample_value(name).to_string()
}

/// A sample event; API samples get a valid token that agrees with their claims.
fn sample(name: &str) -> String {
    sample_with(name, |_| {})
}

/// A sample event with JSON-level edits applied, then authenticated (API samples).
fn sample_with(name: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut event = sample_value(name);
    edit(&mut event);
    if event.get("requestContext").is_some() {
        authenticate(&mut event);
    }
    event.to_string()
}

fn api_status_and_body(run: &Run) -> (u64, Value) {
    let response = run.response.as_ref().expect("API shapes always answer with a response");
    let body = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    (response["statusCode"].as_u64().unwrap(), body)
}

/// Takes `temporaryPasswordExpiresAt` out of `body`, checking it is `days` from now.
fn take_expiry(body: &mut Value, days: u64) {
    use aws_smithy_types::date_time::{DateTime, Format};
    let at = body
        .as_object_mut()
        .and_then(|b| b.remove("temporaryPasswordExpiresAt"))
        .expect("a temporary set says when the password expires");
    let at = DateTime::from_str(at.as_str().unwrap(), Format::DateTime).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let ahead = u64::try_from(at.secs()).unwrap().abs_diff(now + days * 86_400);
    assert!(ahead <= 5, "{at} is not {days} days from now");
}

fn set_calls(run: &Run) -> usize {
    run.calls
        .iter()
        .filter(|c| c.starts_with("AdminSetUserPassword"))
        .count()
}

fn assert_no_password_in(run: &Run, password: &str) {
    assert!(
        !run.output.concat().contains(password),
        "password leaked into the output:\n{:?}",
        run.output
    );
    assert!(
        !format!("{:?}", run.response).contains(password),
        "password leaked into the response"
    );
}

#[tokio::test]
async fn rest_admin_sets_a_temporary_password_after_one_concurrent_round() {
    let run = run(&sample("rest-set-temporary")).await;
    let (status, mut body) = api_status_and_body(&run);
    take_expiry(&mut body, 7);
    assert_eq!(
        (status, body),
        (200, json!({"username": "bob", "userStatus": "FORCE_CHANGE_PASSWORD"}))
    );
    assert_eq!(
        run.calls,
        [
            "AdminListGroupsForUser alice",
            "AdminGetUser alice",
            "AdminListGroupsForUser bob",
            "AdminGetUser bob",
            "DescribeUserPool us-east-1_Example",
            "AdminSetUserPassword bob"
        ]
    );
    let bob = run.directory.user(POOL, "bob").unwrap();
    assert_eq!(
        (bob.status, bob.password.as_deref()),
        (UserStatus::ForceChangePassword, Some("Temp-Passw0rd!2026"))
    );
    let audit = &run.audit;
    assert_eq!(audit["outcome"], "success");
    assert_eq!(audit["entry"], "rest");
    assert_eq!(audit["actor_username"], "alice");
    assert_eq!(audit["actor_sub"], "0d9c1f5e-alice");
    assert_eq!(audit["actor_groups"], "admins,helpdesk");
    assert!(
        audit.get("claimed_username").is_none(),
        "verified: an actor, not a claim"
    );
    assert_eq!(audit["source_ip"], "203.0.113.10");
    assert_eq!(audit["target_username"], "bob");
    assert_eq!(audit["permanent"], false);
    assert_eq!(audit["password_set"], true);
    assert_eq!(audit["lambda_request_id"], "lambda-req-1");
    assert_eq!(audit["api_request_id"], "rest-set-temporary");
    assert!(audit["timestamp"].is_string());
    assert!(audit.get("code").is_none());
    assert_no_password_in(&run, "Temp-Passw0rd!2026");
    let metrics: Vec<Value> = run
        .output
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("_aws").is_some())
        .collect();
    assert_eq!(
        (metrics[0]["PasswordSet"].clone(), metrics[0]["EntryShape"].clone()),
        (json!(1), json!("RestApi"))
    );
}

#[tokio::test]
async fn http_admin_and_permanent_sign_out_reach_cognito() {
    let run = run(&sample("http-set-temporary")).await;
    assert_eq!(api_status_and_body(&run).0, 200);
    assert_eq!(run.audit["entry"], "http");

    let run = super::tests::run(&sample("rest-set-permanent-sign-out")).await;
    let (status, body) = api_status_and_body(&run);
    assert_eq!(
        (status, body),
        (
            200,
            json!({"username": "bob", "userStatus": "CONFIRMED", "signedOut": true})
        )
    );
    assert_eq!(run.calls.last().unwrap(), "AdminUserGlobalSignOut bob");
    assert_eq!(run.directory.user(POOL, "bob").unwrap().status, UserStatus::Confirmed);
    assert_eq!(run.audit["signed_out"], true);
}

#[tokio::test]
async fn bad_requests_from_a_verified_admin_make_no_cognito_call() {
    let cases: Vec<(String, u64, &str, &str)> = vec![
        (sample("rest-self-reset"), 403, "Forbidden", "denied"),
        (sample("rest-unknown-field"), 400, "InvalidRequest", "invalid"),
        (
            sample_with("rest-set-temporary", |e| e["body"] = json!("{\"password\":\"short\"}")),
            400,
            "InvalidRequest",
            "invalid",
        ),
        (
            sample_with("rest-set-temporary", |e| {
                e["pathParameters"]["username"] = json!("../carol")
            }),
            400,
            "InvalidRequest",
            "invalid",
        ),
        (
            sample_with("rest-set-temporary", |e| e["httpMethod"] = json!("DELETE")),
            405,
            "MethodNotAllowed",
            "invalid",
        ),
        (
            sample_with("rest-set-temporary", |e| e["resource"] = json!("/users/{username}")),
            404,
            "NotFound",
            "invalid",
        ),
    ];
    for (event, status, code, outcome) in cases {
        let run = run(&event).await;
        let (got_status, body) = api_status_and_body(&run);
        assert_eq!(
            (got_status, body["error"]["code"].as_str().unwrap()),
            (status, code),
            "{event}"
        );
        assert!(run.calls.is_empty(), "no Cognito call expected, got {:?}", run.calls);
        assert_eq!(
            (run.audit["outcome"].as_str(), run.audit["code"].as_str()),
            (Some(outcome), Some(code))
        );
        assert_eq!(run.audit["actor_username"], "alice", "the verified caller is audited");
    }
}

#[tokio::test]
async fn workflow_onboards_a_new_user_from_a_secret() {
    let run = run(&sample("direct-secret-reference")).await;
    let mut response = run.response.as_ref().unwrap().clone();
    take_expiry(&mut response, 7);
    assert_eq!(
        response,
        json!({"username": "newbie", "userStatus": "FORCE_CHANGE_PASSWORD", "signedOut": true})
    );
    assert_eq!(
        run.calls,
        [
            "AdminListGroupsForUser newbie",
            "AdminGetUser newbie",
            "DescribeUserPool us-east-1_Example",
            "AdminSetUserPassword newbie",
            "AdminUserGlobalSignOut newbie"
        ]
    );
    assert_eq!(
        run.directory.user(POOL, "newbie").unwrap().password.as_deref(),
        Some("Secret-Passw0rd!9")
    );
    assert_eq!(run.audit["actor_type"], "iam");
    assert_eq!(run.audit["requested_by"], "onboarding-workflow");
    assert!(run.audit.get("actor_username").is_none());
    assert_no_password_in(&run, "Secret-Passw0rd!9");
}

#[tokio::test]
async fn workflow_defaults_protect_established_accounts() {
    let (protected, unknown, invalid) = (
        sample_raw("direct-protected-target"),
        sample_raw("direct-unknown-user"),
        sample_raw("direct-invalid"),
    );
    let cases = [
        // bob is CONFIRMED: a workflow may not take over an established account.
        (r#"{"username":"bob","passwordSecretId":"onboarding/bob"}"#, "Forbidden"),
        // A literal password would land in Step Functions' history.
        (
            r#"{"username":"newbie","password":"Direct-Passw0rd!2026"}"#,
            "InvalidRequest",
        ),
        // A secret is bound to its user.
        (
            r#"{"username":"newbie","passwordSecretId":"onboarding/bob"}"#,
            "InvalidRequest",
        ),
        (protected.as_str(), "Forbidden"),
        (unknown.as_str(), "UserNotFound"),
        (invalid.as_str(), "InvalidRequest"),
        ("[]", "InvalidRequest"),
        ("null", "InvalidRequest"),
    ];
    for (event, code) in cases {
        let run = run(event).await;
        let err = run.response.as_ref().expect_err(event);
        assert_eq!(err.error_type, code, "{event}");
        assert_eq!(run.audit["code"], code);
        assert_eq!(set_calls(&run), 0, "{event}");
    }
    let opened = config(&[
        ("WORKFLOW_TARGET_STATUSES", "*"),
        ("WORKFLOW_LITERAL_PASSWORDS", "true"),
    ]);
    let run = run_with(
        opened,
        pool(),
        r#"{"username":"bob","password":"Direct-Passw0rd!2026","permanent":true,"correlationId":"exec-0001"}"#,
    )
    .await;
    assert_eq!(run.response.unwrap()["userStatus"], "CONFIRMED");
    assert_eq!(run.audit["correlation_id"], "exec-0001");
}

/// Whatever makes a secret unusable, the workflow's caller gets one answer; the reason is in
/// the audit line's `detail` only, and nothing is set.
#[tokio::test]
async fn every_unusable_secret_gets_one_answer_the_reason_only_in_the_audit() {
    let directory = || {
        let users = ["short", "padded", "weak", "named", "missing"];
        users.into_iter().fold(pool(), |pool, user| {
            pool.with_user(POOL, user, UserStatus::ForceChangePassword, &[])
        })
    };
    let elsewhere = Invocation {
        function_arn: "arn:aws:lambda:eu-west-1:123456789012:function:admin-set-password:live".into(),
        ..invocation()
    };
    let partial = "arn:aws:secretsmanager:us-east-1:123456789012:secret:onboarding/newbie-smith1";
    let cases = [
        ("short", "onboarding/short".to_owned(), invocation(), "6 to 256"),
        ("padded", "onboarding/padded".to_owned(), invocation(), "whitespace"),
        ("weak", "onboarding/weak".to_owned(), invocation(), "requireUppercase"),
        ("named", "onboarding/named".to_owned(), invocation(), "containsUsername"),
        (
            "missing",
            "onboarding/missing".to_owned(),
            invocation(),
            "ResourceNotFoundException",
        ),
        ("newbie", partial.to_owned(), invocation(), "not the target's"),
        (
            "newbie",
            "onboarding/newbie".to_owned(),
            elsewhere,
            "account and region",
        ),
    ];
    for (user, secret_id, invocation, reason) in cases {
        let event = json!({"username": user, "passwordSecretId": secret_id}).to_string();
        let run = run_invocation(config(&[]), directory(), &event, invocation).await;
        let err = run.response.as_ref().expect_err(&event);
        assert_eq!(
            (err.error_type.as_str(), err.error_message.as_str()),
            ("InvalidRequest", "passwordSecretId: the secret cannot be used"),
            "{event}"
        );
        let detail = run.audit["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(reason), "{event}: {}", run.audit);
        assert_eq!(set_calls(&run), 0, "{event}");
    }
    // A literal password keeps its precise answer (the API caller typed it).
    let opened = config(&[("WORKFLOW_LITERAL_PASSWORDS", "true")]);
    let run = run_with(
        opened,
        pool(),
        r#"{"username":"newbie","password":"all-lowercase-password"}"#,
    )
    .await;
    assert_eq!(run.response.as_ref().unwrap_err().error_type, "InvalidPassword");
}

#[tokio::test]
async fn live_membership_and_a_live_caller_decide() {
    let cases: Vec<(&str, MemoryDirectory)> = vec![
        (
            "removed from the admin groups",
            pool()
                .with_user(POOL, "alice", UserStatus::Confirmed, &["staff"])
                .with_sub(POOL, "alice", "0d9c1f5e-alice"),
        ),
        ("disabled", pool().disabled(POOL, "alice")),
        (
            "deleted and re-created under the same name",
            pool().with_sub(POOL, "alice", "another-sub"),
        ),
        (
            "deleted",
            MemoryDirectory::default().with_user(POOL, "bob", UserStatus::Confirmed, &[]),
        ),
    ];
    for (name, directory) in cases {
        let run = run_with(config(&[]), directory, &sample("rest-set-temporary")).await;
        let (status, body) = api_status_and_body(&run);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("Forbidden")),
            "{name}"
        );
        assert_eq!(set_calls(&run), 0, "{name}");
    }
}

#[tokio::test]
async fn a_caller_unknown_to_cognito_is_forbidden_even_when_the_target_is_missing() {
    let run = run_with(config(&[]), MemoryDirectory::default(), &sample("rest-unknown-user")).await;
    let (status, body) = api_status_and_body(&run);
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("Forbidden")));
}

#[tokio::test]
async fn protected_targets_need_a_super_admin_and_self_reset_by_alias_is_refused() {
    let run = run(&sample("rest-protected-target")).await;
    let (status, body) = api_status_and_body(&run);
    assert_eq!(status, 403);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("protected group admins"));

    let root_pool = pool()
        .with_user(POOL, "alice", UserStatus::Confirmed, &["admins", "root"])
        .with_sub(POOL, "alice", "0d9c1f5e-alice");
    let run = run_with(
        config(&[("SUPER_ADMIN_GROUPS", "root")]),
        root_pool,
        &sample("rest-protected-target"),
    )
    .await;
    assert_eq!(api_status_and_body(&run).0, 200);

    // An admin may not reset a super admin who is in no admin group (protected by default).
    let event = sample_with("rest-set-temporary", |e| {
        e["pathParameters"]["username"] = json!("rooty")
    });
    let run = run_with(config(&[("SUPER_ADMIN_GROUPS", "root")]), pool(), &event).await;
    assert_eq!(api_status_and_body(&run).0, 403);

    // "bob" resolves to a user whose sub is the caller's: an alias of the caller.
    let run = run_with(
        config(&[]),
        pool().with_sub(POOL, "bob", "0d9c1f5e-alice"),
        &sample("rest-set-temporary"),
    )
    .await;
    let (status, body) = api_status_and_body(&run);
    assert_eq!(status, 403);
    assert!(body["error"]["message"].as_str().unwrap().contains("own password"));
}

#[tokio::test]
async fn cognito_failures_map_to_the_error_table() {
    let cases: [(Failure, u64, &str, Value); 7] = [
        (|| AppError::TooManyRequests, 429, "TooManyRequests", json!(false)),
        (
            || AppError::InvalidPassword("Password did not conform with policy".into()),
            400,
            "InvalidPassword",
            json!(false),
        ),
        (
            || AppError::Configuration {
                detail: "NotAuthorizedException: role".into(),
            },
            500,
            "ConfigurationError",
            json!(false),
        ),
        (
            || AppError::SetOutcomeUnknown {
                detail: "operation timed out".into(),
            },
            504,
            "UpstreamError",
            json!("unknown"),
        ),
        // A connect timeout: the request never left, so nothing changed.
        (
            || AppError::Upstream {
                kind: UpstreamKind::Timeout,
                detail: "connect timeout".into(),
            },
            504,
            "UpstreamError",
            json!(false),
        ),
        (
            || AppError::Upstream {
                kind: UpstreamKind::Unreachable,
                detail: "connection refused".into(),
            },
            503,
            "UpstreamError",
            json!(false),
        ),
        (
            || AppError::Internal { detail: "weird".into() },
            500,
            "InternalError",
            json!(false),
        ),
    ];
    for (failure, status, code, password_set) in cases {
        let run = run_with(
            config(&[]),
            pool().failing("AdminSetUserPassword", failure),
            &sample("rest-set-temporary"),
        )
        .await;
        let (got, body) = api_status_and_body(&run);
        assert_eq!((got, body["error"]["code"].as_str().unwrap()), (status, code));
        assert_eq!(run.audit["code"], code);
        assert_eq!(run.audit["password_set"], password_set, "{code} {status}");
        if status >= 500 {
            assert!(run.audit["detail"].is_string(), "detail is logged");
            assert!(
                !body.to_string().contains(run.audit["detail"].as_str().unwrap()),
                "but never returned"
            );
        }
        let may_have_been_set = body["error"]["message"].as_str().unwrap().contains("may have been set");
        assert_eq!(may_have_been_set, password_set == "unknown", "{code} {status}");
        if code == "TooManyRequests" {
            assert_eq!(run.response.as_ref().unwrap()["headers"]["retry-after"], "2");
        }
    }
}

#[tokio::test]
async fn a_failed_sign_out_after_a_set_is_a_success_that_says_so() {
    let directory = pool().failing("AdminUserGlobalSignOut", || AppError::Upstream {
        kind: UpstreamKind::Fault,
        detail: "InternalErrorException".into(),
    });
    let run = run_with(config(&[]), directory, &sample("rest-set-permanent-sign-out")).await;
    let (status, body) = api_status_and_body(&run);
    assert_eq!(
        (status, body),
        (
            200,
            json!({"username": "bob", "userStatus": "CONFIRMED", "signedOut": false})
        )
    );
    assert_eq!(run.audit["outcome"], "success");
    assert_eq!(run.audit["password_set"], true);
    assert_eq!(run.audit["signed_out"], false);
    assert_eq!(run.audit["sign_out_error"], "UpstreamError");
}

fn with_deadline(after: Duration) -> Invocation {
    Invocation {
        deadline: Some(SystemTime::now() + after),
        ..invocation()
    }
}

#[tokio::test]
async fn the_lambda_deadline_is_honoured_whatever_cognito_does() {
    let deadline = Duration::from_millis(900);
    let cases: [(&'static str, &str, Value, &str, &str); 3] = [
        (
            "AdminGetUser",
            "rest-set-temporary",
            json!(false),
            "UpstreamError",
            "look_up",
        ),
        (
            "AdminSetUserPassword",
            "rest-set-temporary",
            json!("unknown"),
            "UpstreamError",
            "set",
        ),
        (
            "AdminUserGlobalSignOut",
            "rest-set-permanent-sign-out",
            json!(true),
            "",
            "sign_out",
        ),
    ];
    for (operation, event, password_set, code, phase) in cases {
        let run = run_invocation(
            config(&[]),
            pool().hanging(operation),
            &sample(event),
            with_deadline(deadline),
        )
        .await;
        assert!(run.elapsed < deadline, "{operation}: answered after {:?}", run.elapsed);
        assert_eq!(run.audit["password_set"], password_set, "{operation}");
        assert_eq!(run.audit["phase"], phase, "{operation}");
        let (status, body) = api_status_and_body(&run);
        if code.is_empty() {
            assert_eq!((status, body["signedOut"].clone()), (200, json!(false)), "{operation}");
        } else {
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (504, Some(code)),
                "{operation}"
            );
        }
    }
}

#[test]
fn a_deadline_already_past_on_arrival_counts_as_none() {
    let now = SystemTime::now();
    let in_ten_s = now.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64 + 10_000;
    assert!(Invocation::deadline_from_runtime(in_ten_s, now).is_some());
    assert_eq!(
        Invocation::deadline_from_runtime(600_000, now),
        None,
        "cargo lambda watch's fixed value"
    );
}

#[test]
fn prepare_is_pure_and_reports_the_audit_record() {
    let prepared = crate::prepare(&config(&[]), &sample("rest-unknown-field"), &invocation());
    let record = prepared.audit_record();
    assert_eq!(
        (record.outcome, record.code),
        (crate::Outcome::Invalid, Some("InvalidRequest"))
    );
    let prepared = crate::prepare(&config(&[]), &sample("rest-set-temporary"), &invocation());
    assert!(prepared.command.is_ok());
    assert_eq!(prepared.audit_record().target_username.as_deref(), Some("bob"));
    let _ = testing::now();
}

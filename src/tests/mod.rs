//! Handler decisions against the in-memory twin: which outcome, which Cognito calls (none for
//! anything refused before the look-ups), and what the audit line says.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use tracing::level_filters::LevelFilter;

use crate::directory::memory::{Failure, MemoryDirectory, MemorySecrets};
use crate::directory::UserStatus;
use crate::error::{AppError, UpstreamKind};
use crate::telemetry::{self, CapturedLogs};
use crate::{App, Config, MetricsSink};

mod hostile;

const POOL: &str = "us-east-1_Example";

fn config(extra: &[(&str, &str)]) -> Config {
    let mut vars = vec![
        ("USER_POOL_ID", POOL),
        ("ADMIN_GROUPS", "admins,helpdesk"),
        ("PASSWORD_SECRET_PREFIX", "onboarding/"),
    ];
    vars.extend_from_slice(extra);
    Config::from_lookup(|k| vars.iter().rev().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())).unwrap()
}

fn pool() -> MemoryDirectory {
    MemoryDirectory::default()
        .with_user(POOL, "alice", UserStatus::Confirmed, &["admins"])
        .with_user(POOL, "bob", UserStatus::Confirmed, &["staff"])
        .with_user(POOL, "carol", UserStatus::Confirmed, &["admins"])
        .with_user(POOL, "fed_user", UserStatus::ExternalProvider, &[])
}

struct Run {
    response: Result<Value, lambda_runtime::Diagnostic>,
    calls: Vec<String>,
    audit: Value,
    logs: String,
    metrics: Vec<String>,
    directory: Arc<MemoryDirectory>,
}

/// Runs one event through the handler with logs and metrics captured.
async fn run_with(config: Config, directory: MemoryDirectory, event: &str) -> Run {
    let logs = CapturedLogs::default();
    let metrics = Arc::new(Mutex::new(Vec::new()));
    let directory = Arc::new(directory);
    let secrets = MemorySecrets(HashMap::from([(
        "onboarding/bob".to_owned(),
        "Secret-Passw0rd!9".to_owned(),
    )]));
    let app = App::new(
        config,
        SharedDirectory(directory.clone()),
        secrets,
        MetricsSink::Buffer(metrics.clone()),
    );
    let response = {
        let _guard = tracing::subscriber::set_default(telemetry::subscriber(logs.clone(), LevelFilter::TRACE, true));
        app.handle(event, "lambda-req-1").await
    };
    let audit_lines = logs.audit_lines();
    assert_eq!(
        audit_lines.len(),
        1,
        "exactly one audit line per invocation:\n{}",
        logs.contents()
    );
    Run {
        response,
        calls: directory.calls(),
        audit: audit_lines[0].clone(),
        logs: logs.contents(),
        metrics: metrics.lock().map(|m| m.clone()).unwrap(),
        directory,
    }
}

async fn run(event: &str) -> Run {
    run_with(config(&[]), pool(), event).await
}

/// Lets the test keep a handle on the twin the app owns.
struct SharedDirectory(Arc<MemoryDirectory>);

impl crate::Directory for SharedDirectory {
    async fn list_groups(&self, pool_id: &str, username: &str) -> Result<Vec<String>, AppError> {
        self.0.list_groups(pool_id, username).await
    }
    async fn get_user(&self, pool_id: &str, username: &str) -> Result<crate::directory::TargetUser, AppError> {
        self.0.get_user(pool_id, username).await
    }
    async fn set_password(
        &self,
        pool_id: &str,
        username: &str,
        password: &crate::request::Password,
        permanent: bool,
    ) -> Result<(), AppError> {
        self.0.set_password(pool_id, username, password, permanent).await
    }
    async fn global_sign_out(&self, pool_id: &str, username: &str) -> Result<(), AppError> {
        self.0.global_sign_out(pool_id, username).await
    }
}

fn sample(name: &str) -> String {
    std::fs::read_to_string(format!("{}/events/{name}.json", env!("CARGO_MANIFEST_DIR"))).expect("sample event")
}

/// A sample event with JSON-level edits applied.
fn sample_with(name: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut event: Value = serde_json::from_str(&sample(name)).unwrap();
    edit(&mut event);
    event.to_string()
}

fn api_status_and_body(run: &Run) -> (u64, Value) {
    let response = run.response.as_ref().expect("API shapes always answer with a response");
    let body = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    (response["statusCode"].as_u64().unwrap(), body)
}

fn assert_no_password_in(run: &Run, password: &str) {
    assert!(!run.logs.contains(password), "password leaked into logs:\n{}", run.logs);
    assert!(
        !format!("{:?}", run.response).contains(password),
        "password leaked into the response"
    );
    assert!(!run.metrics.concat().contains(password));
}

#[tokio::test]
async fn rest_admin_sets_a_temporary_password_after_concurrent_lookups() {
    let run = run(&sample("rest-set-temporary")).await;
    let (status, body) = api_status_and_body(&run);
    assert_eq!(
        (status, body),
        (200, json!({"username": "bob", "userStatus": "FORCE_CHANGE_PASSWORD"}))
    );
    assert_eq!(
        run.calls,
        [
            "AdminListGroupsForUser alice",
            "AdminListGroupsForUser bob",
            "AdminGetUser bob",
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
    assert_eq!(audit["source_ip"], "203.0.113.10");
    assert_eq!(audit["target_username"], "bob");
    assert_eq!(audit["permanent"], false);
    assert_eq!(audit["password_set"], true);
    assert_eq!(audit["lambda_request_id"], "lambda-req-1");
    assert_eq!(audit["api_request_id"], "rest-set-temporary");
    assert!(audit["timestamp"].is_string());
    assert!(audit.get("code").is_none());
    assert_no_password_in(&run, "Temp-Passw0rd!2026");
    let metrics: Value = serde_json::from_str(run.metrics[0].trim()).unwrap();
    assert_eq!(
        (metrics["PasswordSet"].clone(), metrics["EntryShape"].clone()),
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
}

#[tokio::test]
async fn refusals_before_the_lookups_make_no_cognito_call() {
    let cases: Vec<(String, u64, &str, &str)> = vec![
        (sample("rest-not-admin"), 403, "Forbidden", "denied"),
        (sample("http-forged-groups"), 403, "Forbidden", "denied"),
        (sample("rest-self-reset"), 403, "Forbidden", "denied"),
        (sample("rest-unknown-field"), 400, "InvalidRequest", "invalid"),
        (
            sample_with("rest-set-temporary", |e| e["requestContext"]["authorizer"] = json!({})),
            403,
            "Forbidden",
            "denied",
        ),
        (
            sample_with("rest-set-temporary", |e| {
                e["requestContext"]["authorizer"]["claims"]["iss"] =
                    json!("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other")
            }),
            403,
            "Forbidden",
            "denied",
        ),
        (
            sample_with("rest-set-temporary", |e| {
                e["requestContext"]["authorizer"]["claims"]["cognito:groups"] = json!(" admins ")
            }),
            403,
            "Forbidden",
            "denied",
        ),
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
            sample_with("http-set-temporary", |e| {
                e["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"] = json!("[admins\n]")
            }),
            403,
            "Forbidden",
            "denied",
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
        assert!(body["error"]["message"].as_str().unwrap().len() > 5);
    }
}

#[tokio::test]
async fn an_unauthorised_caller_with_a_bad_body_learns_only_forbidden() {
    let event = sample_with("rest-not-admin", |e| e["body"] = json!("not json"));
    let (status, _) = api_status_and_body(&run(&event).await);
    assert_eq!(status, 403);
}

#[tokio::test]
async fn direct_invocation_sets_the_password_and_records_the_workflow() {
    let run = run(&sample("direct-set-permanent")).await;
    assert_eq!(
        run.response.as_ref().unwrap(),
        &json!({"username": "bob", "userStatus": "CONFIRMED"})
    );
    assert_eq!(
        run.calls,
        [
            "AdminListGroupsForUser bob",
            "AdminGetUser bob",
            "AdminSetUserPassword bob"
        ]
    );
    assert_eq!(run.audit["actor_type"], "iam");
    assert_eq!(run.audit["requested_by"], "onboarding-workflow");
    assert_eq!(run.audit["correlation_id"], "exec-0001");
    assert_no_password_in(&run, "Direct-Passw0rd!2026");
}

#[tokio::test]
async fn direct_invocation_failures_are_typed_errors() {
    let cases = [
        (sample("direct-unknown-user"), "UserNotFound"),
        (sample("direct-protected-target"), "Forbidden"),
        (sample("direct-invalid"), "InvalidRequest"),
        ("[]".to_owned(), "InvalidRequest"),
        ("null".to_owned(), "InvalidRequest"),
        (
            r#"{"username":"fed_user","password":"Direct-Passw0rd!2026"}"#.to_owned(),
            "FederatedUser",
        ),
    ];
    for (event, code) in cases {
        let run = run(&event).await;
        let err = run.response.as_ref().expect_err(&event);
        assert_eq!(err.error_type, code, "{event}");
        assert_eq!(run.audit["code"], code);
        assert!(!run.calls.contains(&"AdminSetUserPassword carol".to_owned()));
    }
}

#[tokio::test]
async fn secret_references_are_resolved_and_never_logged() {
    let run = run(&sample("direct-secret-reference")).await;
    assert_eq!(
        run.response.as_ref().unwrap(),
        &json!({"username": "bob", "userStatus": "FORCE_CHANGE_PASSWORD", "signedOut": true})
    );
    assert_eq!(
        run.directory.user(POOL, "bob").unwrap().password.as_deref(),
        Some("Secret-Passw0rd!9")
    );
    assert_no_password_in(&run, "Secret-Passw0rd!9");

    let missing = super::tests::run(r#"{"username":"bob","passwordSecretId":"onboarding/nobody"}"#).await;
    assert_eq!(missing.response.unwrap_err().error_type, "InvalidRequest");
    assert!(!missing.calls.iter().any(|c| c.starts_with("AdminSetUserPassword")));
}

#[tokio::test]
async fn stale_tokens_are_refused_on_live_membership() {
    let demoted = MemoryDirectory::default()
        .with_user(POOL, "alice", UserStatus::Confirmed, &["staff"])
        .with_user(POOL, "bob", UserStatus::Confirmed, &[]);
    let run = run_with(config(&[]), demoted, &sample("rest-set-temporary")).await;
    assert_eq!(api_status_and_body(&run).0, 403);
    assert!(!run.calls.iter().any(|c| c.starts_with("AdminSetUserPassword")));

    let unverified = MemoryDirectory::default()
        .with_user(POOL, "alice", UserStatus::Confirmed, &["staff"])
        .with_user(POOL, "bob", UserStatus::Confirmed, &[]);
    let run = run_with(
        config(&[("VERIFY_CALLER_GROUPS", "false")]),
        unverified,
        &sample("rest-set-temporary"),
    )
    .await;
    assert_eq!(
        api_status_and_body(&run).0,
        200,
        "with verification off the token decides"
    );
    assert!(!run.calls.contains(&"AdminListGroupsForUser alice".to_owned()));
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

    let root_pool = pool().with_user(POOL, "alice", UserStatus::Confirmed, &["admins", "root"]);
    let run = run_with(
        config(&[("SUPER_ADMIN_GROUPS", "root")]),
        root_pool,
        &sample("rest-protected-target"),
    )
    .await;
    assert_eq!(api_status_and_body(&run).0, 200);

    // "bob" resolves to a user whose sub is the caller's: an alias of the caller.
    let event = sample_with("rest-set-temporary", |e| {
        e["requestContext"]["authorizer"]["claims"]["sub"] = json!("sub-bob")
    });
    let run = super::tests::run(&event).await;
    assert_eq!(api_status_and_body(&run).0, 403);
}

#[tokio::test]
async fn cognito_failures_map_to_the_error_table() {
    let cases: [(Failure, u64, &str); 5] = [
        (|| AppError::TooManyRequests, 429, "TooManyRequests"),
        (
            || AppError::InvalidPassword("Password did not conform with policy".into()),
            400,
            "InvalidPassword",
        ),
        (
            || AppError::Configuration {
                detail: "NotAuthorizedException: role".into(),
            },
            500,
            "ConfigurationError",
        ),
        (
            || AppError::Upstream {
                kind: UpstreamKind::Timeout,
                detail: "operation timed out".into(),
            },
            504,
            "UpstreamError",
        ),
        (|| AppError::Internal { detail: "weird".into() }, 500, "InternalError"),
    ];
    for (failure, status, code) in cases {
        let run = run_with(
            config(&[]),
            pool().failing("AdminSetUserPassword", failure),
            &sample("rest-set-temporary"),
        )
        .await;
        let (got, body) = api_status_and_body(&run);
        assert_eq!((got, body["error"]["code"].as_str().unwrap()), (status, code));
        assert_eq!(run.audit["code"], code);
        if status >= 500 {
            assert!(run.audit["detail"].is_string(), "detail is logged");
            assert!(
                !body.to_string().contains(run.audit["detail"].as_str().unwrap()),
                "but never returned"
            );
        }
        if code == "TooManyRequests" {
            assert_eq!(run.response.as_ref().unwrap()["headers"]["retry-after"], "2");
        }
    }
}

#[tokio::test]
async fn a_failed_sign_out_after_a_set_is_recorded_as_such() {
    let directory = pool().failing("AdminUserGlobalSignOut", || AppError::Upstream {
        kind: UpstreamKind::Fault,
        detail: "InternalErrorException".into(),
    });
    let run = run_with(config(&[]), directory, &sample("rest-set-permanent-sign-out")).await;
    assert_eq!(api_status_and_body(&run).0, 502);
    assert_eq!(
        (run.audit["password_set"].clone(), run.audit["outcome"].clone()),
        (json!(true), json!("failed"))
    );
}

#[test]
fn prepare_is_pure_and_reports_the_audit_record() {
    let prepared = crate::prepare(&config(&[]), &sample("rest-not-admin"), "r1");
    let record = prepared.audit_record();
    assert_eq!(
        (record.outcome, record.code),
        (crate::Outcome::Denied, Some("Forbidden"))
    );
    let prepared = crate::prepare(&config(&[]), &sample("rest-set-temporary"), "r1");
    assert!(prepared.decision.is_ok());
    assert_eq!(prepared.audit_record().target_username.as_deref(), Some("bob"));
}

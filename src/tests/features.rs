//! Password features at the handler: generated temporary passwords, every policy rule at once, the
//! blocklist, reasons and change events — decided after authorisation, never leaked.

use std::sync::Arc;

use serde_json::{json, Value};

use super::{
    api_status_and_body, config, invocation, pool, run, run_all, run_with, sample_with, set_calls, SharedDirectory,
};
use crate::directory::memory::{MemoryChangeEvents, MemoryDirectory, MemorySecrets};
use crate::directory::UserStatus;
use crate::error::AppError;
use crate::password::{PasswordPolicy, Violation};
use crate::testing::{TestKeys, POOL};
use crate::App;

fn with_body(body: Value) -> String {
    sample_with("rest-set-temporary", |e| e["body"] = json!(body.to_string()))
}

#[tokio::test]
async fn a_generated_password_is_returned_once_and_meets_the_policy() {
    let run = run(&with_body(json!({"generate": true, "reason": "INC-4711"}))).await;
    let (status, body) = api_status_and_body(&run);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["userStatus"], "FORCE_CHANGE_PASSWORD");
    let password = body["password"].as_str().expect("the generated password").to_owned();
    let policy = PasswordPolicy {
        minimum_length: 10,
        ..PasswordPolicy::COGNITO_DEFAULT
    };
    assert!(crate::password::check(&password, "bob", Some(&policy), true).is_empty());
    assert_eq!(run.response.as_ref().unwrap()["headers"]["cache-control"], "no-store");
    let bob = run.directory.user(POOL, "bob").unwrap();
    assert_eq!(
        (bob.status, bob.password.as_deref()),
        (UserStatus::ForceChangePassword, Some(password.as_str()))
    );
    assert!(
        !run.output.concat().contains(&password),
        "never in the audit line or metrics"
    );
    assert_eq!(run.audit["generated"], true);
    assert_eq!(run.audit["change_reason"], "INC-4711");
}

#[tokio::test]
async fn every_broken_rule_is_listed_before_cognito_is_asked() {
    let cases = [
        (
            "password",
            vec![
                Violation::MinimumLength,
                Violation::RequireUppercase,
                Violation::RequireNumbers,
                Violation::RequireSymbols,
                Violation::CommonPassword,
            ],
        ),
        ("Short-1", vec![Violation::MinimumLength]),
        (
            "Password1234",
            vec![Violation::RequireSymbols, Violation::CommonPassword],
        ),
    ];
    for (password, expected) in cases {
        let run = run(&with_body(json!({"password": password}))).await;
        let (status, body) = api_status_and_body(&run);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("InvalidPassword")),
            "{password}"
        );
        assert_eq!(body["error"]["violations"], json!(expected), "{password}");
        assert_eq!(set_calls(&run), 0);
    }
    let lenient = || {
        pool().with_policy(PasswordPolicy {
            minimum_length: 8,
            require_uppercase: false,
            require_lowercase: false,
            require_numbers: false,
            require_symbols: false,
            ..PasswordPolicy::COGNITO_DEFAULT
        })
    };
    let run = run_with(config(&[]), lenient(), &with_body(json!({"password": "PASSWORD1234"}))).await;
    assert_eq!(
        api_status_and_body(&run).1["error"]["violations"],
        json!(["commonPassword"]),
        "case-insensitive"
    );
    let run = run_with(
        config(&[("PASSWORD_BLOCKLIST", "false")]),
        lenient(),
        &with_body(json!({"password": "password1234"})),
    )
    .await;
    assert_eq!(
        api_status_and_body(&run).0,
        200,
        "PASSWORD_BLOCKLIST=false turns the blocklist off"
    );
}

#[tokio::test]
async fn a_password_containing_the_username_is_refused_and_direct_callers_get_the_list_too() {
    let opened = || config(&[("WORKFLOW_LITERAL_PASSWORDS", "true")]);
    let run = run_with(
        opened(),
        pool(),
        r#"{"username":"newbie","password":"My-Newbie-Passw0rd!"}"#,
    )
    .await;
    let err = run.response.as_ref().unwrap_err();
    assert_eq!(err.error_type, "InvalidPassword");
    assert!(
        err.error_message.ends_with(r#"["containsUsername"]"#),
        "{}",
        err.error_message
    );
}

#[tokio::test]
async fn an_unauthorised_caller_learns_nothing_about_the_password() {
    let event = sample_with("rest-not-admin", |e| {
        e["body"] = json!(json!({"password": "password"}).to_string())
    });
    let run = run(&event).await;
    assert_eq!(api_status_and_body(&run).0, 403);
}

#[tokio::test]
async fn without_the_pools_policy_cognito_checks_it_and_the_blocklist_still_applies() {
    let failing = || pool().failing("DescribeUserPool", || AppError::TooManyRequests);
    let run = run_with(
        config(&[]),
        failing(),
        &with_body(json!({"password": "Temp-Passw0rd!2026"})),
    )
    .await;
    assert_eq!(api_status_and_body(&run).0, 200);
    let run = run_with(config(&[]), failing(), &with_body(json!({"password": "Password1234"}))).await;
    let (status, body) = api_status_and_body(&run);
    assert_eq!(
        (status, body["error"]["violations"].clone()),
        (400, json!(["commonPassword"]))
    );
    let run = run_with(config(&[]), failing(), &with_body(json!({"generate": true}))).await;
    let (status, body) = api_status_and_body(&run);
    assert_eq!(status, 200);
    assert!(
        body["password"].as_str().unwrap().chars().count() >= 24,
        "the fallback policy is long"
    );
}

#[tokio::test]
async fn the_pools_policy_is_read_once_per_process_in_the_lookup_round() {
    let directory = Arc::new(pool());
    let app = App::new(
        config(&[]),
        SharedDirectory(directory.clone()),
        MemorySecrets::default(),
        TestKeys,
        None::<MemoryChangeEvents>,
        crate::testing::buffer(),
    );
    for _ in 0..2 {
        let response = app
            .handle(&with_body(json!({"password": "Temp-Passw0rd!2026"})), &invocation())
            .await;
        assert_eq!(response.unwrap()["statusCode"], 200);
    }
    let describes = directory
        .calls()
        .iter()
        .filter(|c| c.starts_with("DescribeUserPool"))
        .count();
    assert_eq!(describes, 1, "{:?}", directory.calls());
}

#[tokio::test]
async fn reasons_can_be_required() {
    let run = run_with(
        config(&[("REQUIRE_REASON", "true")]),
        pool(),
        &with_body(json!({"password": "Temp-Passw0rd!2026"})),
    )
    .await;
    let (status, body) = api_status_and_body(&run);
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("InvalidRequest")));
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("reason: is required"));
    assert!(run.calls.is_empty());
}

#[tokio::test]
async fn each_success_publishes_one_event_and_refusals_none() {
    let bus = || Some(Arc::new(MemoryChangeEvents::default()));
    let run = run_all(
        config(&[]),
        pool(),
        &with_body(json!({"generate": true, "reason": "INC-1"})),
        invocation(),
        bus(),
    )
    .await;
    let published = run.events.as_ref().unwrap().published.lock().unwrap().clone();
    assert_eq!(published.len(), 1);
    let event = serde_json::to_value(&published[0]).unwrap();
    assert_eq!(event["username"], "bob");
    assert_eq!(event["generated"], true);
    assert_eq!(event["reason"], "INC-1");
    assert_eq!(event["actor"], json!({"username": "alice", "sub": "0d9c1f5e-alice"}));
    let password = api_status_and_body(&run).1["password"].as_str().unwrap().to_owned();
    assert!(!event.to_string().contains(&password), "never a password in an event");
    assert_eq!(run.audit["event_published"], true);

    let refused = run_all(
        config(&[]),
        pool(),
        &with_body(json!({"password": "password"})),
        invocation(),
        bus(),
    )
    .await;
    assert!(refused.events.as_ref().unwrap().published.lock().unwrap().is_empty());
    assert!(refused.audit.get("event_published").is_none());
}

#[tokio::test]
async fn a_failed_publish_does_not_fail_the_request_but_is_audited_and_counted() {
    let bus = Some(Arc::new(MemoryChangeEvents {
        fail_with: Some("PutEvents: AccessDenied".into()),
        ..Default::default()
    }));
    let run = run_all(
        config(&[]),
        pool(),
        &with_body(json!({"password": "Temp-Passw0rd!2026"})),
        invocation(),
        bus,
    )
    .await;
    assert_eq!(api_status_and_body(&run).0, 200);
    assert_eq!(run.audit["event_published"], false);
    assert_eq!(run.audit["event_error"], "PutEvents: AccessDenied");
    let metrics = run.output.iter().find(|l| l.contains("\"_aws\"")).unwrap();
    assert!(metrics.contains("\"EventPublishFailed\":1"), "{metrics}");
    let _ = MemoryDirectory::default();
}

//! Password features against moto: generated passwords sign in with NEW_PASSWORD_REQUIRED and meet the
//! pool's real policy (read with DescribeUserPool), every broken rule is listed, the
//! blocklist and the username rule apply on a lenient pool, reasons are recorded and can be
//! required, and a bus with a rule to SQS receives exactly one event per success.

mod support;

use aws_sdk_cognitoidentityprovider::types::PasswordPolicyType;
use serde_json::{json, Value};
use support::events::BusToQueue;
use support::{Harness, Pool, SignIn, INITIAL_PASSWORD};

fn strict() -> PasswordPolicyType {
    PasswordPolicyType::builder()
        .minimum_length(14)
        .require_uppercase(true)
        .require_lowercase(true)
        .require_numbers(true)
        .require_symbols(true)
        .build()
}

fn lenient() -> PasswordPolicyType {
    PasswordPolicyType::builder()
        .minimum_length(8)
        .require_uppercase(false)
        .require_lowercase(false)
        .require_numbers(false)
        .require_symbols(false)
        .build()
}

async fn with_body(pool: &Pool, target: &str, body: Value) -> Value {
    let mut event = pool.api_event("rest-set-temporary").await;
    event["pathParameters"]["username"] = json!(target);
    event["body"] = json!(body.to_string());
    event
}

#[tokio::test]
async fn generated_passwords_meet_the_strict_policy_and_force_a_change() {
    let pool = Pool::seeded_with(strict()).await;
    let mut h = Harness::new("generated", &pool.endpoint, pool.config(&[])).await;
    let policy = admin_set_password::password::PasswordPolicy {
        minimum_length: 14,
        ..admin_set_password::password::PasswordPolicy::COGNITO_DEFAULT
    };
    for round in 0..5 {
        let run = h
            .invoke(&with_body(&pool, "bob", json!({"generate": true})).await)
            .await;
        let (status, body) = run.api();
        assert_eq!(status, 200, "round {round}: {body}");
        let password = body["password"].as_str().unwrap();
        assert!(admin_set_password::password::check(password, "bob", Some(&policy), true).is_empty());
        assert_eq!(
            pool.sign_in("bob", password).await,
            SignIn::Challenge("NEW_PASSWORD_REQUIRED".into()),
            "round {round}"
        );
        assert_eq!(run.audit["generated"], true);
    }
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn every_rule_of_the_strict_policy_is_listed_at_once() {
    let pool = Pool::seeded_with(strict()).await;
    let mut h = Harness::new("violations", &pool.endpoint, pool.config(&[])).await;
    let run = h
        .invoke(&with_body(&pool, "bob", json!({"password": "shortpass"})).await)
        .await;
    let (status, body) = run.api();
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("InvalidPassword")));
    assert_eq!(
        body["error"]["violations"],
        json!(["minimumLength", "requireUppercase", "requireNumbers", "requireSymbols"])
    );
    assert_eq!(pool.sign_in("bob", INITIAL_PASSWORD).await, SignIn::Tokens);
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn the_blocklist_and_the_username_rule_apply_on_a_lenient_pool() {
    let pool = Pool::seeded_with(lenient()).await;
    let mut h = Harness::new("blocklist", &pool.endpoint, pool.config(&[])).await;
    for (password, violation) in [
        ("iloveyou1", "commonPassword"),
        ("PASSWORD1234", "commonPassword"),
        ("newbie-2026x", "containsUsername"),
    ] {
        let run = h
            .invoke(&with_body(&pool, "newbie", json!({"password": password})).await)
            .await;
        let (status, body) = run.api();
        assert_eq!(
            (status, body["error"]["violations"].clone()),
            (400, json!([violation])),
            "{password}"
        );
    }
    assert_eq!(pool.status("newbie").await, "FORCE_CHANGE_PASSWORD");
    let run = h
        .invoke(&with_body(&pool, "newbie", json!({"password": "plain but long"})).await)
        .await;
    assert_eq!(run.api().0, 200, "{}", run.audit);

    let mut off = Harness::new(
        "blocklist_off",
        &pool.endpoint,
        pool.config(&[("PASSWORD_BLOCKLIST", "false")]),
    )
    .await;
    let run = off
        .invoke(&with_body(&pool, "bob", json!({"password": "iloveyou1"})).await)
        .await;
    assert_eq!(run.api().0, 200, "the blocklist is off");
    h.assert_no_secret_leaked();
    off.assert_no_secret_leaked();
}

#[tokio::test]
async fn reasons_are_recorded_and_required_when_configured() {
    let pool = Pool::seeded().await;
    let mut h = Harness::new(
        "reason_required",
        &pool.endpoint,
        pool.config(&[("REQUIRE_REASON", "true")]),
    )
    .await;
    let run = h
        .invoke(&with_body(&pool, "bob", json!({"password": "Temp-Passw0rd!2026"})).await)
        .await;
    assert_eq!(run.api().1["error"]["code"], "InvalidRequest");
    let run = h
        .invoke(
            &with_body(
                &pool,
                "bob",
                json!({"password": "Temp-Passw0rd!2026", "reason": "INC-4711"}),
            )
            .await,
        )
        .await;
    assert_eq!(run.api().0, 200);
    assert_eq!(run.audit["change_reason"], "INC-4711");
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn each_success_puts_exactly_one_event_on_the_bus_and_no_password() {
    let pool = Pool::seeded().await;
    let target = BusToQueue::create().await;
    let mut h = Harness::new(
        "events",
        &pool.endpoint,
        pool.config(&[("EVENT_BUS_NAME", &target.bus)]),
    )
    .await;
    let run = h
        .invoke(
            &with_body(
                &pool,
                "bob",
                json!({"generate": true, "signOut": true, "reason": "INC-9"}),
            )
            .await,
        )
        .await;
    let (status, body) = run.api();
    assert_eq!(status, 200, "{body}");
    let password = body["password"].as_str().unwrap().to_owned();
    assert_eq!(run.audit["event_published"], true);
    // Refusals publish nothing.
    let refused = h
        .invoke(&with_body(&pool, "carol", json!({"password": "Temp-Passw0rd!2026"})).await)
        .await;
    assert_eq!(refused.api().0, 403);
    let weak = h
        .invoke(&with_body(&pool, "bob", json!({"password": "qwertyuiop"})).await)
        .await;
    assert_eq!(weak.api().0, 400);

    let messages = target.drain().await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let detail = &messages[0]["detail"];
    assert_eq!(messages[0]["source"], "admin-set-password");
    assert_eq!(messages[0]["detail-type"], "Password Set");
    assert_eq!(
        (
            detail["username"].clone(),
            detail["generated"].clone(),
            detail["signedOut"].clone(),
            detail["reason"].clone()
        ),
        (json!("bob"), json!(true), json!(true), json!("INC-9"))
    );
    assert_eq!(detail["actor"]["username"], "alice");
    assert!(!messages[0].to_string().contains(&password), "no password in any event");
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn a_bus_that_fails_does_not_fail_the_set() {
    let pool = Pool::seeded().await;
    let mut h = Harness::new(
        "events_fail",
        &pool.endpoint,
        pool.config(&[("EVENT_BUS_NAME", "no-such-bus")]),
    )
    .await;
    let run = h
        .invoke(&with_body(&pool, "bob", json!({"password": "Temp-Passw0rd!2026"})).await)
        .await;
    assert_eq!(run.api().0, 200);
    assert_eq!(run.audit["event_published"], false);
    assert!(run.audit["event_error"].as_str().unwrap().starts_with("PutEvents"));
    assert_eq!(
        pool.sign_in("bob", "Temp-Passw0rd!2026").await,
        SignIn::Challenge("NEW_PASSWORD_REQUIRED".into())
    );
    h.assert_no_secret_leaked();
}

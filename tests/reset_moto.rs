//! The reset end to end against moto: real tokens, the real SDK adapters, and the user's
//! status in moto afterwards. Moto sets `RESET_REQUIRED` but, unlike Cognito, still accepts
//! the old password, so these tests check the status, not a sign-in. And the expiry every
//! temporary set reports, from the pool's `TemporaryPasswordValidityDays`.

mod support;

use aws_sdk_cognitoidentityprovider::types::PasswordPolicyType;
use aws_smithy_types::date_time::{DateTime, Format};
use serde_json::{json, Value};
use support::{claims_mut, Harness, Pool};

async fn harness(name: &str, pool: &Pool) -> Harness {
    Harness::new(name, &pool.endpoint, pool.config(&[])).await
}

/// The sample reset (alice resets erin, with `signOut` and a reason), aimed at `target`.
async fn reset_of(pool: &Pool, target: &str) -> Value {
    let mut event = pool.event("rest-password-reset");
    event["pathParameters"]["username"] = json!(target);
    event["path"] = json!(format!("/users/{target}/password-reset"));
    let token = pool.id_token("alice").await;
    support::authorize_as(&mut event, &token);
    event
}

/// Seconds from now to `at` (RFC 3339), as whole days, after checking it is within a minute
/// of a whole number of days.
fn days_ahead(at: &Value) -> u64 {
    let at = DateTime::from_str(at.as_str().expect("an RFC 3339 string"), Format::DateTime).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let ahead = u64::try_from(at.secs()).unwrap().saturating_sub(now);
    let days = (ahead + 60) / 86_400;
    assert!(
        ahead.abs_diff(days * 86_400) <= 60,
        "{at} is not a whole number of days ahead"
    );
    days
}

#[tokio::test]
async fn a_confirmed_user_with_a_verified_email_is_sent_a_code() {
    let pool = Pool::seeded().await;
    let mut h = harness("reset_sent", &pool).await;
    assert_eq!(pool.status("erin").await, "CONFIRMED");
    let run = h.invoke(&pool.api_event("rest-password-reset").await).await;
    assert_eq!(
        run.api(),
        (
            200,
            json!({"username": "erin", "userStatus": "RESET_REQUIRED", "signedOut": true})
        )
    );
    assert_eq!(pool.status("erin").await, "RESET_REQUIRED");
    assert_eq!(run.audit["action"], "reset_code");
    assert_eq!(run.audit["outcome"], "success");
    assert_eq!(run.audit["password_set"], false);
    assert_eq!(run.audit["actor_username"], "alice");
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn the_http_api_serves_the_reset_without_a_body() {
    let pool = Pool::seeded().await;
    let mut h = harness("reset_http", &pool).await;
    let mut event = pool.event("http-set-temporary");
    event["routeKey"] = json!("POST /users/{username}/password-reset");
    event["requestContext"]["http"]["method"] = json!("POST");
    event["pathParameters"]["username"] = json!("erin");
    event["body"] = Value::Null;
    support::authorize_as(&mut event, &pool.id_token("alice").await);
    let run = h.invoke(&event).await;
    assert_eq!(
        run.api(),
        (200, json!({"username": "erin", "userStatus": "RESET_REQUIRED"}))
    );
    assert_eq!(pool.status("erin").await, "RESET_REQUIRED");
}

#[tokio::test]
async fn a_user_without_a_verified_contact_or_not_confirmed_is_refused_unchanged() {
    let pool = Pool::seeded().await;
    let mut h = harness("reset_refused", &pool).await;
    // bob is CONFIRMED with no email at all.
    let run = h.invoke(&reset_of(&pool, "bob").await).await;
    let (status, body) = run.api();
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("NoVerifiedContact"))
    );
    assert_eq!(pool.status("bob").await, "CONFIRMED");

    // newbie was created by an admin and never signed in.
    pool.verify_email("newbie").await;
    let run = h.invoke(&reset_of(&pool, "newbie").await).await;
    let (status, body) = run.api();
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("InvalidUserState"))
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("set a temporary password instead"),
        "{body}"
    );
    assert_eq!(pool.status("newbie").await, "FORCE_CHANGE_PASSWORD");
    assert_eq!(run.audit["action"], "reset_code");
}

#[tokio::test]
async fn the_sets_rules_refuse_a_reset_with_no_change() {
    let pool = Pool::seeded().await;
    let mut h = harness("reset_rules", &pool).await;
    for user in ["carol", "alice"] {
        pool.verify_email(user).await;
    }
    // carol is an admin, so protected; alice is the caller.
    for target in ["carol", "alice"] {
        let run = h.invoke(&reset_of(&pool, target).await).await;
        let (status, body) = run.api();
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("Forbidden")),
            "{target}"
        );
        assert_eq!(pool.status(target).await, "CONFIRMED", "{target}");
    }
    // bob is no admin: his real token is refused before any look-up.
    let mut event = pool.event("rest-password-reset");
    claims_mut(&mut event)["cognito:username"] = json!("bob");
    support::authorize_as(&mut event, &pool.id_token("bob").await);
    let run = h.invoke(&event).await;
    assert_eq!(run.api().0, 403);
    assert_eq!(pool.status("erin").await, "CONFIRMED");
}

#[tokio::test]
async fn a_temporary_set_says_when_the_password_expires() {
    let pool = Pool::seeded().await;
    let mut h = harness("expiry_default", &pool).await;
    let run = h.invoke(&pool.api_event("rest-set-temporary").await).await;
    let (status, body) = run.api();
    assert_eq!(status, 200);
    assert_eq!(days_ahead(&body["temporaryPasswordExpiresAt"]), 7, "{body}");

    let permanent = h.invoke(&pool.api_event("rest-set-permanent-sign-out").await).await;
    assert!(permanent.api().1.get("temporaryPasswordExpiresAt").is_none());

    let three_days = PasswordPolicyType::builder()
        .minimum_length(10)
        .require_uppercase(true)
        .require_lowercase(true)
        .require_numbers(true)
        .require_symbols(true)
        .temporary_password_validity_days(3)
        .build();
    let pool = Pool::seeded_with(three_days).await;
    let mut h = harness("expiry_three_days", &pool).await;
    let run = h.invoke(&pool.api_event("rest-set-temporary").await).await;
    let (status, body) = run.api();
    assert_eq!(status, 200);
    assert_eq!(days_ahead(&body["temporaryPasswordExpiresAt"]), 3, "{body}");
}

#[tokio::test]
async fn another_method_or_path_is_answered_as_api_gateway_would_without_a_change() {
    let pool = Pool::seeded().await;
    let mut h = harness("reset_routes", &pool).await;
    let mut wrong_method = reset_of(&pool, "erin").await;
    wrong_method["httpMethod"] = json!("PUT");
    let run = h.invoke(&wrong_method).await;
    assert_eq!(run.api().0, 405);
    assert_eq!(run.api().1["error"]["code"], "MethodNotAllowed");
    let mut unknown_path = reset_of(&pool, "erin").await;
    unknown_path["resource"] = json!("/users/{username}/password/reset");
    let run = h.invoke(&unknown_path).await;
    assert_eq!(run.api().1["error"]["code"], "NotFound");
    assert!(run.audit.get("action").is_none(), "{}", run.audit);
    assert_eq!(pool.status("erin").await, "CONFIRMED");
}

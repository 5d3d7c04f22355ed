//! End to end against moto: the handler with the real SDK adapters, checked on the pool's
//! real state (user status, sign-in with the new and the old password), not only the response.

mod support;

use serde_json::json;
use support::{Harness, Pool, SignIn, INITIAL_PASSWORD};

async fn harness(name: &str, pool: &Pool, extra: &[(&str, &str)]) -> Harness {
    Harness::new(name, &pool.endpoint, pool.config(extra)).await
}

#[tokio::test]
async fn rest_temporary_password_forces_a_change_at_next_sign_in() {
    let pool = Pool::seeded().await;
    let mut h = harness("rest_temporary", &pool, &[]).await;
    let run = h.invoke(&pool.event("rest-set-temporary")).await;
    assert_eq!(
        run.api(),
        (200, json!({"username": "bob", "userStatus": "FORCE_CHANGE_PASSWORD"}))
    );
    assert_eq!(pool.status("bob").await, "FORCE_CHANGE_PASSWORD");
    assert_eq!(
        pool.sign_in("bob", "Temp-Passw0rd!2026").await,
        SignIn::Challenge("NEW_PASSWORD_REQUIRED".into())
    );
    assert_eq!(run.audit["outcome"], "success");
    assert_eq!(run.audit["user_pool_id"], pool.id.as_str());
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn rest_permanent_password_confirms_and_signs_out() {
    let pool = Pool::seeded().await;
    let mut h = harness("rest_permanent", &pool, &[]).await;
    let run = h.invoke(&pool.event("rest-set-permanent-sign-out")).await;
    assert_eq!(
        run.api(),
        (
            200,
            json!({"username": "bob", "userStatus": "CONFIRMED", "signedOut": true})
        )
    );
    assert_eq!(pool.status("bob").await, "CONFIRMED");
    assert_eq!(pool.sign_in("bob", "Perm-Passw0rd!2026").await, SignIn::Tokens);
    assert!(
        matches!(pool.sign_in("bob", INITIAL_PASSWORD).await, SignIn::Refused(_)),
        "old password must stop working"
    );
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn http_api_v2_sets_a_temporary_password() {
    let pool = Pool::seeded().await;
    let mut h = harness("http_temporary", &pool, &[]).await;
    let run = h.invoke(&pool.event("http-set-temporary")).await;
    assert_eq!(run.api().0, 200);
    assert_eq!(run.audit["entry"], "http");
    assert_eq!(
        pool.sign_in("bob", "Http-Passw0rd!2026").await,
        SignIn::Challenge("NEW_PASSWORD_REQUIRED".into())
    );
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn direct_invocation_sets_a_permanent_password() {
    let pool = Pool::seeded().await;
    let mut h = harness("direct_permanent", &pool, &[]).await;
    let run = h.invoke(&pool.event("direct-set-permanent")).await;
    assert_eq!(
        run.response.as_ref().unwrap(),
        &json!({"username": "bob", "userStatus": "CONFIRMED"})
    );
    assert_eq!(pool.sign_in("bob", "Direct-Passw0rd!2026").await, SignIn::Tokens);
    assert_eq!(
        (run.audit["actor_type"].as_str(), run.audit["requested_by"].as_str()),
        (Some("iam"), Some("onboarding-workflow"))
    );
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn non_admins_are_refused_and_the_old_password_still_works() {
    let pool = Pool::seeded().await;
    let mut h = harness("non_admin", &pool, &[]).await;
    for event in ["rest-not-admin", "http-forged-groups"] {
        let run = h.invoke(&pool.event(event)).await;
        assert_eq!(
            (run.api().0, run.audit["outcome"].as_str()),
            (403, Some("denied")),
            "{event}"
        );
    }
    assert_eq!(pool.sign_in("bob", INITIAL_PASSWORD).await, SignIn::Tokens);
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn pool_policy_rejects_a_weak_password_with_cognitos_message() {
    let pool = Pool::seeded().await;
    let mut h = harness("weak_password", &pool, &[]).await;
    let run = h.invoke(&pool.event("rest-weak-password")).await;
    let (status, body) = run.api();
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("InvalidPassword")));
    assert!(
        body["error"]["message"].as_str().unwrap().contains("password policy"),
        "{body}"
    );
    assert_eq!(pool.sign_in("bob", INITIAL_PASSWORD).await, SignIn::Tokens);
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn unknown_users_are_not_found_in_every_shape() {
    let pool = Pool::seeded().await;
    let mut h = harness("unknown_user", &pool, &[]).await;
    let run = h.invoke(&pool.event("rest-unknown-user")).await;
    assert_eq!((run.api().0, run.audit["code"].as_str()), (404, Some("UserNotFound")));
    let run = h.invoke(&pool.event("direct-unknown-user")).await;
    assert_eq!(run.error_type(), "UserNotFound");
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn an_admin_removed_from_the_group_is_refused_despite_the_token() {
    let pool = Pool::seeded().await;
    pool.remove_from_group("alice", "admins").await;
    let mut h = harness("stale_token", &pool, &[]).await;
    let run = h.invoke(&pool.event("rest-set-temporary")).await;
    let (status, body) = run.api();
    assert_eq!(status, 403);
    assert!(
        body["error"]["message"].as_str().unwrap().contains("no longer"),
        "{body}"
    );
    assert_eq!(pool.sign_in("bob", INITIAL_PASSWORD).await, SignIn::Tokens);
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn protected_targets_need_a_super_admin() {
    let pool = Pool::seeded().await;
    let mut h = harness("protected", &pool, &[("SUPER_ADMIN_GROUPS", "root")]).await;
    let run = h.invoke(&pool.event("rest-protected-target")).await;
    assert_eq!(run.api().0, 403);
    assert_eq!(pool.sign_in("carol", INITIAL_PASSWORD).await, SignIn::Tokens);

    let mut as_root = pool.event("rest-protected-target");
    as_root["requestContext"]["authorizer"]["claims"]["cognito:username"] = json!("rooty");
    as_root["requestContext"]["authorizer"]["claims"]["cognito:groups"] = json!("root");
    let run = h.invoke(&as_root).await;
    assert_eq!(run.api().0, 200);
    assert_eq!(pool.status("carol").await, "FORCE_CHANGE_PASSWORD");

    let run = h.invoke(&pool.event("direct-protected-target")).await;
    assert_eq!(run.error_type(), "Forbidden", "direct invocations obey the rule too");
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn callers_cannot_reset_themselves_by_name_or_by_sub() {
    let pool = Pool::seeded().await;
    let mut h = harness("self_reset", &pool, &[]).await;
    assert_eq!(h.invoke(&pool.event("rest-self-reset")).await.api().0, 403);

    let mut alias = pool.event("rest-set-temporary");
    alias["requestContext"]["authorizer"]["claims"]["sub"] = json!(pool.sub("bob").await);
    assert_eq!(h.invoke(&alias).await.api().0, 403, "target's sub equals the caller's");
    assert_eq!(pool.sign_in("bob", INITIAL_PASSWORD).await, SignIn::Tokens);
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn tokens_from_another_pool_are_refused_and_a_separate_admin_pool_works() {
    let pool = Pool::seeded().await;
    let admin_pool = Pool::seeded().await;
    let mut h = harness("issuer", &pool, &[("ADMIN_USER_POOL_ID", &admin_pool.id)]).await;
    let run = h.invoke(&pool.event("rest-set-temporary")).await;
    assert_eq!(run.api().0, 403, "iss names the target pool, not the admin pool");

    let event = serde_json::to_string(&pool.event("rest-set-temporary"))
        .unwrap()
        .replace(
            &format!("amazonaws.com/{}", pool.id),
            &format!("amazonaws.com/{}", admin_pool.id),
        );
    let run = h.invoke(&serde_json::from_str(&event).unwrap()).await;
    assert_eq!(run.api().0, 200, "alice is an admin in the admin pool: {:?}", run.audit);
    assert_eq!(pool.status("bob").await, "FORCE_CHANGE_PASSWORD");
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn secret_references_keep_the_password_out_of_the_payload() {
    let pool = Pool::seeded().await;
    let mut h = harness("secret_reference", &pool, &[]).await;
    pool.create_secret("onboarding/bob", r#"{"password":"Secret-Passw0rd!9"}"#)
        .await;
    h.uses_secret("Secret-Passw0rd!9");
    let run = h.invoke(&pool.event("direct-secret-reference")).await;
    assert_eq!(
        run.response.as_ref().unwrap(),
        &json!({"username": "bob", "userStatus": "FORCE_CHANGE_PASSWORD", "signedOut": true})
    );
    assert_eq!(
        pool.sign_in("bob", "Secret-Passw0rd!9").await,
        SignIn::Challenge("NEW_PASSWORD_REQUIRED".into())
    );

    let arn = pool
        .create_secret("onboarding/bob-plain", "Plain-Secret-Passw0rd!8")
        .await;
    h.uses_secret("Plain-Secret-Passw0rd!8");
    let run = h
        .invoke(&json!({"username": "bob", "passwordSecretId": arn, "permanent": true}))
        .await;
    assert!(run.response.is_ok(), "{:?}", run.response);
    assert_eq!(pool.sign_in("bob", "Plain-Secret-Passw0rd!8").await, SignIn::Tokens);

    let run = h
        .invoke(&json!({"username": "bob", "passwordSecretId": "onboarding/missing"}))
        .await;
    // No oracle: the caller is not told the secret does not exist; the audit line is.
    let err = run.response.as_ref().unwrap_err();
    assert_eq!(
        (err.error_type.as_str(), err.error_message.as_str()),
        ("InvalidRequest", "passwordSecretId: the secret cannot be used")
    );
    assert!(
        run.audit["detail"]
            .as_str()
            .is_some_and(|d| d.contains("ResourceNotFoundException")),
        "{}",
        run.audit
    );
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn a_wrong_pool_id_is_a_configuration_error_without_detail_for_the_caller() {
    let pool = Pool::seeded().await;
    let mut h = harness("wrong_pool", &pool, &[("USER_POOL_ID", "us-east-1_DoesNotExist")]).await;
    let run = h
        .invoke(&json!({"username": "bob", "password": "Direct-Passw0rd!2026"}))
        .await;
    assert_eq!(run.error_type(), "ConfigurationError");
    let message = &run.response.as_ref().unwrap_err().error_message;
    assert!(!message.contains("ResourceNotFound"), "{message}");
    assert!(
        run.audit["detail"].as_str().unwrap().contains("ResourceNotFound"),
        "{}",
        run.audit
    );
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn invalid_requests_get_a_clear_400_and_an_audit_line() {
    let pool = Pool::seeded().await;
    let mut h = harness("invalid_request", &pool, &[]).await;
    let run = h.invoke(&pool.event("rest-unknown-field")).await;
    let (status, body) = run.api();
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("InvalidRequest")));
    assert!(body["error"]["message"].as_str().unwrap().contains("role"), "{body}");
    assert_eq!(run.audit["outcome"], "invalid");
    assert_eq!(
        h.invoke(&pool.event("direct-invalid")).await.error_type(),
        "InvalidRequest"
    );
    assert_eq!(pool.sign_in("bob", INITIAL_PASSWORD).await, SignIn::Tokens);
    h.assert_no_secret_leaked();
}

//! End to end against moto: the handler with the real SDK adapters and a real moto ID token
//! (the function fetches moto's JWKS and verifies it), checked on the pool's real state (user
//! status, sign-in with the new and the old password), not only the response.

mod support;

use serde_json::json;
use support::{claims_mut, Harness, Pool, SignIn, INITIAL_PASSWORD};

async fn harness(name: &str, pool: &Pool, extra: &[(&str, &str)]) -> Harness {
    Harness::new(name, &pool.endpoint, pool.config(extra)).await
}

#[tokio::test]
async fn rest_temporary_password_forces_a_change_at_next_sign_in() {
    let pool = Pool::seeded().await;
    let mut h = harness("rest_temporary", &pool, &[]).await;
    let run = h.invoke(&pool.api_event("rest-set-temporary").await).await;
    let (status, mut body) = run.api();
    let expires_at = body.as_object_mut().unwrap().remove("temporaryPasswordExpiresAt");
    assert!(
        expires_at.is_some_and(|at| at.is_string()),
        "a temporary set says when it expires"
    );
    assert_eq!(
        (status, body),
        (200, json!({"username": "bob", "userStatus": "FORCE_CHANGE_PASSWORD"}))
    );
    assert_eq!(pool.status("bob").await, "FORCE_CHANGE_PASSWORD");
    assert_eq!(
        pool.sign_in("bob", "Temp-Passw0rd!2026").await,
        SignIn::Challenge("NEW_PASSWORD_REQUIRED".into())
    );
    assert_eq!(run.audit["outcome"], "success");
    assert_eq!(run.audit["actor_username"], "alice");
    assert_eq!(run.audit["actor_sub"], pool.sub("alice").await.as_str());
    assert_eq!(run.audit["user_pool_id"], pool.id.as_str());
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn rest_permanent_password_confirms_and_signs_out() {
    let pool = Pool::seeded().await;
    let mut h = harness("rest_permanent", &pool, &[]).await;
    let run = h.invoke(&pool.api_event("rest-set-permanent-sign-out").await).await;
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
    let run = h.invoke(&pool.api_event("http-set-temporary").await).await;
    assert_eq!(run.api().0, 200, "{}", run.audit);
    assert_eq!(run.audit["entry"], "http");
    assert_eq!(
        pool.sign_in("bob", "Http-Passw0rd!2026").await,
        SignIn::Challenge("NEW_PASSWORD_REQUIRED".into())
    );
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn workflow_onboards_a_new_user_from_a_secret() {
    let pool = Pool::seeded().await;
    let mut h = harness("workflow_onboarding", &pool, &[]).await;
    pool.create_secret("onboarding/newbie", r#"{"password":"Secret-Passw0rd!9"}"#)
        .await;
    h.uses_secret("Secret-Passw0rd!9");
    let run = h.invoke(&pool.event("direct-set-permanent")).await;
    assert_eq!(
        run.response.as_ref().unwrap(),
        &json!({"username": "newbie", "userStatus": "CONFIRMED"})
    );
    assert_eq!(pool.sign_in("newbie", "Secret-Passw0rd!9").await, SignIn::Tokens);
    assert_eq!(
        (run.audit["actor_type"].as_str(), run.audit["requested_by"].as_str()),
        (Some("iam"), Some("onboarding-workflow"))
    );
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn workflow_defaults_refuse_takeovers_literals_and_foreign_secrets() {
    let pool = Pool::seeded().await;
    let mut h = harness("workflow_defaults", &pool, &[]).await;
    pool.create_secret("onboarding/bob", "Bob-Secret-Passw0rd!7").await;
    pool.create_secret("onboarding/newbie", "Newbie-Secret-Passw0rd!7")
        .await;
    h.uses_secret("Bob-Secret-Passw0rd!7");
    h.uses_secret("Newbie-Secret-Passw0rd!7");
    let cases = [
        (pool.event("direct-established-user"), "Forbidden"),
        (pool.event("direct-literal-password"), "InvalidRequest"),
        (
            json!({"username": "newbie", "passwordSecretId": pool.secret_id("bob")}),
            "InvalidRequest",
        ),
        (pool.event("direct-protected-target"), "Forbidden"),
    ];
    for (event, code) in cases {
        let run = h.invoke(&event).await;
        assert_eq!(run.error_type(), code, "{event}");
        assert_eq!(run.audit["password_set"], false);
    }
    assert_eq!(
        pool.sign_in("bob", INITIAL_PASSWORD).await,
        SignIn::Tokens,
        "bob untouched"
    );
    assert_eq!(pool.status("newbie").await, "FORCE_CHANGE_PASSWORD");

    let mut opened = harness(
        "workflow_opened",
        &pool,
        &[
            ("WORKFLOW_TARGET_STATUSES", "*"),
            ("WORKFLOW_LITERAL_PASSWORDS", "true"),
        ],
    )
    .await;
    let run = opened
        .invoke(&json!({"username": "bob", "password": "Direct-Passw0rd!2026", "permanent": true}))
        .await;
    assert!(run.response.is_ok(), "{:?}", run.response);
    assert_eq!(pool.sign_in("bob", "Direct-Passw0rd!2026").await, SignIn::Tokens);
    h.assert_no_secret_leaked();
    opened.assert_no_secret_leaked();
}

#[tokio::test]
async fn non_admins_are_refused_and_the_old_password_still_works() {
    let pool = Pool::seeded().await;
    let mut h = harness("non_admin", &pool, &[]).await;
    let mut forged = pool.api_event("http-forged-groups").await;
    claims_mut(&mut forged)["cognito:groups"] = json!("[admins");
    for event in [pool.api_event("rest-not-admin").await, forged] {
        let run = h.invoke(&event).await;
        assert_eq!(
            (run.api().0, run.audit["outcome"].as_str()),
            (403, Some("denied")),
            "{event}: {}",
            run.audit
        );
    }
    assert_eq!(pool.sign_in("bob", INITIAL_PASSWORD).await, SignIn::Tokens);
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn the_pools_real_policy_refuses_a_weak_password_listing_every_rule() {
    // The policy comes from moto's DescribeUserPool (length 10, every class); Cognito's own
    // InvalidPasswordException, for when the policy cannot be read, is in tests/faults.rs.
    let pool = Pool::seeded().await;
    let mut h = harness("weak_password", &pool, &[]).await;
    let run = h.invoke(&pool.api_event("rest-weak-password").await).await;
    let (status, body) = run.api();
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("InvalidPassword")));
    assert!(
        body["error"]["violations"].as_array().is_some_and(|v| !v.is_empty()),
        "{body}"
    );
    assert_eq!(pool.sign_in("bob", INITIAL_PASSWORD).await, SignIn::Tokens);
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn unknown_users_are_not_found_in_every_shape() {
    let pool = Pool::seeded().await;
    let mut h = harness("unknown_user", &pool, &[]).await;
    let run = h.invoke(&pool.api_event("rest-unknown-user").await).await;
    assert_eq!((run.api().0, run.audit["code"].as_str()), (404, Some("UserNotFound")));
    let run = h.invoke(&pool.event("direct-unknown-user")).await;
    assert_eq!(run.error_type(), "UserNotFound");
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn the_live_caller_decides_not_the_token() {
    let pool = Pool::seeded().await;
    let mut h = harness("live_caller", &pool, &[]).await;

    // Removed from the group after the token was issued.
    let event = pool.api_event("rest-set-temporary").await;
    pool.remove_from_group("alice", "admins").await;
    let run = h.invoke(&event).await;
    let (status, body) = run.api();
    assert_eq!(status, 403);
    assert!(
        body["error"]["message"].as_str().unwrap().contains("not a member"),
        "{body}"
    );

    // Disabled after the token was issued.
    let event = {
        let mut e = pool.event("rest-set-temporary");
        claims_mut(&mut e)["cognito:username"] = json!("carol");
        let token = pool.id_token("carol").await;
        support::authorize_as(&mut e, &token);
        e
    };
    pool.disable("carol").await;
    let run = h.invoke(&event).await;
    assert_eq!(run.api().0, 403);
    assert!(run.api().1["error"]["message"].as_str().unwrap().contains("disabled"));

    // Deleted and re-created under the same name: the old token's sub is someone else's.
    // (An admin when the token was issued, or the token alone would be refused.)
    pool.recreate("rooty", &["root", "admins"]).await;
    let mut event = pool.event("rest-set-temporary");
    claims_mut(&mut event)["cognito:username"] = json!("rooty");
    let token = pool.id_token("rooty").await;
    support::authorize_as(&mut event, &token);
    pool.recreate("rooty", &["root", "admins"]).await;
    let run = h.invoke(&event).await;
    assert_eq!(run.api().0, 403);
    assert!(run.api().1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no longer exists"));

    assert_eq!(pool.sign_in("bob", INITIAL_PASSWORD).await, SignIn::Tokens);
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn protected_targets_need_a_super_admin() {
    let pool = Pool::seeded().await;
    let mut h = harness("protected", &pool, &[("SUPER_ADMIN_GROUPS", "root")]).await;
    let run = h.invoke(&pool.api_event("rest-protected-target").await).await;
    assert_eq!(run.api().0, 403);
    assert_eq!(pool.sign_in("carol", INITIAL_PASSWORD).await, SignIn::Tokens);

    let mut as_root = pool.event("rest-protected-target");
    claims_mut(&mut as_root)["cognito:username"] = json!("rooty");
    let token = pool.id_token("rooty").await;
    support::authorize_as(&mut as_root, &token);
    let run = h.invoke(&as_root).await;
    assert_eq!(run.api().0, 200, "{}", run.audit);
    assert_eq!(pool.status("carol").await, "FORCE_CHANGE_PASSWORD");

    // An admin may not reset a super admin who is in no admin group (protected by default).
    let mut at_root = pool.api_event("rest-set-temporary").await;
    at_root["pathParameters"]["username"] = json!("rooty");
    assert_eq!(h.invoke(&at_root).await.api().0, 403);
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn callers_cannot_reset_themselves() {
    let pool = Pool::seeded().await;
    let mut h = harness("self_reset", &pool, &[]).await;
    assert_eq!(h.invoke(&pool.api_event("rest-self-reset").await).await.api().0, 403);
    assert_eq!(pool.sign_in("alice", INITIAL_PASSWORD).await, SignIn::Tokens);
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn a_separate_admin_pool_issues_the_tokens() {
    let pool = Pool::seeded().await;
    let admin_pool = Pool::seeded().await;
    let mut h = harness(
        "admin_pool",
        &pool,
        &[
            ("ADMIN_USER_POOL_ID", &admin_pool.id),
            ("ADMIN_CLIENT_IDS", &admin_pool.client_id),
            ("PROTECTED_GROUPS", "NONE"),
        ],
    )
    .await;
    // A token of the target pool is not an admin token.
    let run = h.invoke(&pool.api_event("rest-set-temporary").await).await;
    assert_eq!(run.api().0, 401, "{}", run.audit);

    let mut event = pool.event("rest-set-temporary");
    let token = admin_pool.id_token("alice").await;
    support::authorize_as(&mut event, &token);
    let run = h.invoke(&event).await;
    assert_eq!(run.api().0, 200, "alice is an admin in the admin pool: {}", run.audit);
    assert_eq!(pool.status("bob").await, "FORCE_CHANGE_PASSWORD");
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn secret_references_keep_the_password_out_of_the_payload() {
    let pool = Pool::seeded().await;
    let mut h = harness("secret_reference", &pool, &[]).await;
    pool.create_secret("onboarding/newbie", r#"{"password":"Secret-Passw0rd!9"}"#)
        .await;
    h.uses_secret("Secret-Passw0rd!9");
    let run = h.invoke(&pool.event("direct-secret-reference")).await;
    let mut response = run.response.as_ref().unwrap().clone();
    let expires_at = response.as_object_mut().unwrap().remove("temporaryPasswordExpiresAt");
    assert!(
        expires_at.is_some(),
        "the workflow is told when the temporary password expires"
    );
    assert_eq!(
        response,
        json!({"username": "newbie", "userStatus": "FORCE_CHANGE_PASSWORD", "signedOut": true})
    );
    assert_eq!(
        pool.sign_in("newbie", "Secret-Passw0rd!9").await,
        SignIn::Challenge("NEW_PASSWORD_REQUIRED".into())
    );

    // A secret ARN of this account and region, named for the user.
    pool.add_new_user("newbie2", &[]).await;
    let arn = pool
        .create_secret("onboarding/newbie2", "Plain-Secret-Passw0rd!8")
        .await;
    h.uses_secret("Plain-Secret-Passw0rd!8");
    let run = h
        .invoke(&json!({"username": "newbie2", "passwordSecretId": arn, "permanent": true}))
        .await;
    assert!(run.response.is_ok(), "{:?} {}", run.response, run.audit);
    assert_eq!(pool.sign_in("newbie2", "Plain-Secret-Passw0rd!8").await, SignIn::Tokens);

    pool.add_new_user("missing", &[]).await;
    let run = h
        .invoke(&json!({"username": "missing", "passwordSecretId": pool.secret_id("missing")}))
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
        .invoke(&json!({"username": "newbie", "passwordSecretId": pool.secret_id("newbie")}))
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
    let run = h.invoke(&pool.api_event("rest-unknown-field").await).await;
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

/// Users `john` and `john-smith1`, both new: a partial ARN naming `john-smith1`'s secret is
/// refused for `john` (Secrets Manager resolves it to the longer name), with the name read in
/// the audit line; a name, a full ARN and a partial ARN of one's own secret work.
#[tokio::test]
async fn secrets_bind_by_the_name_secrets_manager_reports() {
    let pool = Pool::seeded().await;
    let mut h = harness("secret_binding", &pool, &[]).await;
    for user in ["john", "john-smith1", "jane"] {
        pool.add_new_user(user, &[]).await;
    }
    let john_arn = pool.create_secret("onboarding/john", "Kestrel-Passw0rd!1").await;
    let smith_arn = pool.create_secret("onboarding/john-smith1", "Osprey-Passw0rd!1").await;
    pool.create_secret("onboarding/jane", "Falcon-Passw0rd!1").await;
    for used in ["Kestrel-Passw0rd!1", "Osprey-Passw0rd!1", "Falcon-Passw0rd!1"] {
        h.uses_secret(used);
    }
    let partial = |arn: &str| arn[..arn.len() - 7].to_owned();

    let attack = json!({"username": "john", "passwordSecretId": partial(&smith_arn), "permanent": true});
    let run = h.invoke(&attack).await;
    let err = run.response.as_ref().unwrap_err();
    assert_eq!(
        (err.error_type.as_str(), err.error_message.as_str()),
        ("InvalidRequest", "passwordSecretId: the secret cannot be used"),
        "{}",
        run.audit
    );
    assert_eq!(run.audit["secret_name"], pool.secret_id("john-smith1"));
    assert!(
        run.audit["detail"].as_str().unwrap().contains("not the target's"),
        "{}",
        run.audit
    );
    assert_eq!(run.audit["password_set"], false);
    assert_eq!(
        pool.sign_in("john", "Osprey-Passw0rd!1").await,
        SignIn::Refused("NotAuthorizedException".into())
    );

    for (user, id, password) in [
        ("john", partial(&john_arn), "Kestrel-Passw0rd!1"),
        ("john-smith1", smith_arn.clone(), "Osprey-Passw0rd!1"),
        ("jane", pool.secret_id("jane"), "Falcon-Passw0rd!1"),
    ] {
        let run = h
            .invoke(&json!({"username": user, "passwordSecretId": id, "permanent": true}))
            .await;
        assert!(run.response.is_ok(), "{user} by {id}: {:?} {}", run.response, run.audit);
        assert_eq!(run.audit["secret_name"], pool.secret_id(user));
        assert_eq!(pool.sign_in(user, password).await, SignIn::Tokens, "{user}");
    }
    h.assert_no_secret_leaked();
}

/// Four unusable secrets and a missing one: one answer for all, the reason only in the
/// audit line's `detail`, and no password changed.
#[tokio::test]
async fn every_unusable_secret_gets_the_same_answer() {
    let pool = Pool::seeded().await;
    let mut h = harness("unusable_secrets", &pool, &[]).await;
    let cases = [
        ("short", Some("Ab1!x"), "6 to 256"),
        ("padded", Some(" Padded-Passw0rd!1 "), "whitespace"),
        ("nokey", Some(r#"{"pwd":"Nokey-Passw0rd!1"}"#), "\"password\" key"),
        ("weak", Some("all-lowercase-password"), "requireUppercase"),
        ("missing", None, "ResourceNotFoundException"),
    ];
    let mut answers = Vec::new();
    for (user, value, reason) in cases {
        pool.add_new_user(user, &[]).await;
        if let Some(value) = value {
            pool.create_secret(&format!("onboarding/{user}"), value).await;
            h.uses_secret(value.trim());
        }
        let run = h
            .invoke(&json!({"username": user, "passwordSecretId": pool.secret_id(user)}))
            .await;
        let err = run.response.as_ref().unwrap_err();
        answers.push((err.error_type.clone(), err.error_message.clone()));
        let detail = run.audit["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(reason), "{user}: {}", run.audit);
        assert_eq!(run.audit["password_set"], false, "{user}");
        assert_eq!(
            pool.sign_in(user, INITIAL_PASSWORD).await,
            SignIn::Challenge("NEW_PASSWORD_REQUIRED".into())
        );
    }
    for answer in &answers {
        assert_eq!(
            (answer.0.as_str(), answer.1.as_str()),
            ("InvalidRequest", "passwordSecretId: the secret cannot be used")
        );
    }
    h.assert_no_secret_leaked();
}

/// A pool whose users sign in by email: Cognito's username is a generated id, the email an
/// alias. A workflow naming the email sets the password of the user Cognito resolved, and
/// the audit line names that user by Cognito's username and `sub`.
#[tokio::test]
async fn the_audit_names_the_target_cognito_resolved() {
    use aws_sdk_cognitoidentityprovider::types::{MessageActionType, UsernameAttributeType};
    let pool = Pool::seeded().await;
    let by_email = pool
        .cognito
        .create_user_pool()
        .pool_name("sign-in-by-email")
        .username_attributes(UsernameAttributeType::Email)
        .send()
        .await
        .expect("create pool");
    let pool_id = by_email.user_pool().and_then(|p| p.id()).unwrap().to_owned();
    let created = pool
        .cognito
        .admin_create_user()
        .user_pool_id(&pool_id)
        .username("dana@example.com")
        .temporary_password(INITIAL_PASSWORD)
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .expect("create user");
    let user = created.user().unwrap();
    let username = user.username().unwrap().to_owned();
    let sub = user
        .attributes()
        .iter()
        .find(|a| a.name() == "sub")
        .and_then(|a| a.value());
    assert_ne!(
        username, "dana@example.com",
        "moto gives an email-alias user a generated username"
    );

    let extra = [
        ("USER_POOL_ID", pool_id.as_str()),
        ("WORKFLOW_LITERAL_PASSWORDS", "true"),
    ];
    let mut h = harness("resolved_target", &pool, &extra).await;
    let run = h
        .invoke(&json!({"username": "dana@example.com", "password": "Kestrel-Passw0rd!7", "permanent": true}))
        .await;
    assert!(run.response.is_ok(), "{:?} {}", run.response, run.audit);
    assert_eq!(run.response.as_ref().unwrap()["username"], username.as_str());
    assert_eq!(run.audit["target_username"], username.as_str());
    assert_eq!(run.audit["target_sub"].as_str(), sub);
    let after = pool
        .cognito
        .admin_get_user()
        .user_pool_id(&pool_id)
        .username(&username)
        .send()
        .await
        .unwrap();
    assert_eq!(after.user_status().map(|s| s.as_str()), Some("CONFIRMED"));
    h.assert_no_secret_leaked();
}

//! The reset through the handler, against the twin: the set's rules first, then whether
//! Cognito can send a code, then `AdminResetUserPassword`; and the expiry a temporary set
//! reports.

use super::*;

/// The sample reset (alice resets erin, `signOut`, a reason), aimed at `target`.
fn reset_of(target: &str) -> String {
    sample_with("rest-password-reset", |e| {
        e["pathParameters"]["username"] = json!(target);
    })
}

fn resets(run: &Run) -> usize {
    run.calls
        .iter()
        .filter(|c| c.starts_with("AdminResetUserPassword"))
        .count()
}

#[tokio::test]
async fn an_admin_has_cognito_send_the_user_a_code_and_nobody_learns_a_password() {
    let bus = Arc::new(MemoryChangeEvents::default());
    let run = run_all(
        config(&[]),
        pool(),
        &sample("rest-password-reset"),
        invocation(),
        Some(bus.clone()),
    )
    .await;
    assert_eq!(
        api_status_and_body(&run),
        (
            200,
            json!({"username": "erin", "userStatus": "RESET_REQUIRED", "signedOut": true})
        )
    );
    assert_eq!(
        run.directory.user(POOL, "erin").unwrap().status,
        UserStatus::after_reset()
    );
    assert_eq!(run.directory.user(POOL, "erin").unwrap().password, None);
    assert_eq!(resets(&run), 1);
    assert!(run.calls.contains(&"AdminUserGlobalSignOut erin".to_owned()));
    assert!(!run.calls.iter().any(|c| c.starts_with("AdminSetUserPassword")));
    let audit = &run.audit;
    assert_eq!(
        (&audit["outcome"], &audit["action"], &audit["password_set"]),
        (&json!("success"), &json!("reset_code"), &json!(false))
    );
    assert_eq!(audit["change_reason"], "INC-5120 locked out");
    assert_eq!(audit["signed_out"], true);
    assert!(audit.get("permanent").is_none() && audit.get("generated").is_none());
    let published = bus.published.lock().unwrap();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].change.detail_type(), "Password Reset Requested");
    let metrics: Value = run
        .output
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v.get("_aws").is_some())
        .unwrap();
    assert_eq!(
        (&metrics["ResetCodeSent"], &metrics["Action"]),
        (&json!(1), &json!("reset_code"))
    );
}

#[tokio::test]
async fn the_body_is_optional_and_the_http_api_serves_the_route_too() {
    let event = sample_with("rest-password-reset", |e| e["body"] = Value::Null);
    let run = super::run(&event).await;
    assert_eq!(
        api_status_and_body(&run),
        (200, json!({"username": "erin", "userStatus": "RESET_REQUIRED"}))
    );
    assert!(!run.calls.iter().any(|c| c.starts_with("AdminUserGlobalSignOut")));

    let http = sample_with("http-set-temporary", |e| {
        e["routeKey"] = json!("POST /users/{username}/password-reset");
        e["requestContext"]["http"]["method"] = json!("POST");
        e["pathParameters"]["username"] = json!("erin");
        e["body"] = json!("{}");
    });
    let run = super::run(&http).await;
    assert_eq!(api_status_and_body(&run).0, 200, "{}", run.audit);
    assert_eq!(
        (&run.audit["entry"], &run.audit["action"]),
        (&json!("http"), &json!("reset_code"))
    );
}

#[tokio::test]
async fn a_target_cognito_cannot_send_a_code_to_is_refused_before_the_call() {
    let unverified = pool().unverified(POOL, "erin");
    let run = run_with(config(&[]), unverified, &reset_of("erin")).await;
    let (status, body) = api_status_and_body(&run);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("NoVerifiedContact"))
    );
    assert_eq!(resets(&run), 0);
    assert_eq!(run.directory.user(POOL, "erin").unwrap().status, UserStatus::Confirmed);

    let run = super::run(&reset_of("newbie")).await;
    let (status, body) = api_status_and_body(&run);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("InvalidUserState"))
    );
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("FORCE_CHANGE_PASSWORD") && message.contains("set a temporary password instead"));
    assert_eq!(resets(&run), 0);
    assert_eq!(run.audit["outcome"], "invalid");

    let run = run_with(config(&[]), pool().disabled(POOL, "erin"), &reset_of("erin")).await;
    assert_eq!(api_status_and_body(&run).0, 409);
    assert_eq!(resets(&run), 0);

    let run = super::run(&reset_of("fed_user")).await;
    assert_eq!(api_status_and_body(&run).1["error"]["code"], "FederatedUser");
}

#[tokio::test]
async fn cognitos_own_refusals_and_failures_are_answered_as_mapped() {
    let cases: [(Failure, u64, &str); 4] = [
        (|| AppError::NoVerifiedContact, 409, "NoVerifiedContact"),
        (
            || AppError::CodeDeliveryFailed {
                detail: "AdminResetUserPassword: CodeDeliveryFailureException".into(),
            },
            502,
            "CodeDeliveryFailed",
        ),
        (|| AppError::TooManyRequests, 429, "TooManyRequests"),
        (|| AppError::UserNotFound, 404, "UserNotFound"),
    ];
    for (failure, status, code) in cases {
        let failing = pool().failing("AdminResetUserPassword", failure);
        let run = run_with(config(&[]), failing, &reset_of("erin")).await;
        let (got, body) = api_status_and_body(&run);
        assert_eq!((got, body["error"]["code"].as_str()), (status, Some(code)));
        assert_eq!(run.audit["action"], "reset_code");
        assert!(
            !run.calls.iter().any(|c| c.starts_with("AdminUserGlobalSignOut")),
            "{code}"
        );
    }
}

#[tokio::test]
async fn the_sets_rules_refuse_a_reset_with_no_change() {
    // A protected target (carol is an admin), oneself, and oneself under another name.
    for (run, why) in [
        (super::run(&reset_of("carol")).await, "protected"),
        (super::run(&reset_of("alice")).await, "self"),
        (
            run_with(
                config(&[]),
                pool().with_sub(POOL, "erin", "0d9c1f5e-alice"),
                &reset_of("erin"),
            )
            .await,
            "an alias of the caller",
        ),
    ] {
        let (status, body) = api_status_and_body(&run);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("Forbidden")),
            "{why}"
        );
        assert_eq!(resets(&run), 0, "{why}");
    }
    // A caller whose token names no admin group: refused before any look-up.
    let event = sample_with("rest-password-reset", |e| {
        e["requestContext"]["authorizer"]["claims"]["cognito:groups"] = json!("staff");
    });
    let run = super::run(&event).await;
    assert_eq!(api_status_and_body(&run).0, 403);
    assert!(run.calls.is_empty(), "{:?}", run.calls);
    assert_eq!(run.directory.user(POOL, "erin").unwrap().status, UserStatus::Confirmed);
    // REQUIRE_REASON applies.
    let event = sample_with("rest-password-reset", |e| e["body"] = json!("{\"signOut\": true}"));
    let run = run_with(config(&[("REQUIRE_REASON", "true")]), pool(), &event).await;
    assert_eq!(api_status_and_body(&run).0, 400);
    assert!(run.calls.is_empty());
}

#[tokio::test]
async fn the_workflow_entry_point_does_not_offer_a_reset() {
    let run = run_with(
        config(&[("ENTRY_POINTS", "workflow")]),
        pool(),
        &sample("rest-password-reset"),
    )
    .await;
    assert_eq!(run.response.as_ref().unwrap_err().error_type, "InvalidRequest");
    assert!(run.calls.is_empty());
    // A direct payload has no field that asks for one.
    let run = run_with(
        config(&[("WORKFLOW_LITERAL_PASSWORDS", "true")]),
        pool(),
        r#"{"username":"erin","reset":true}"#,
    )
    .await;
    assert_eq!(run.response.as_ref().unwrap_err().error_type, "InvalidRequest");
    assert_eq!(resets(&run), 0);
}

#[tokio::test]
async fn a_temporary_set_says_when_the_password_expires_by_the_pools_policy() {
    let three_days = pool().with_policy(crate::password::PasswordPolicy {
        minimum_length: 10,
        temporary_password_validity_days: 3,
        ..crate::password::PasswordPolicy::COGNITO_DEFAULT
    });
    let run = run_with(config(&[]), three_days, &sample("rest-set-temporary")).await;
    let (_, mut body) = api_status_and_body(&run);
    take_expiry(&mut body, 3);

    let run = super::run(&sample("rest-set-permanent-sign-out")).await;
    let (status, body) = api_status_and_body(&run);
    assert_eq!(status, 200);
    assert!(body.get("temporaryPasswordExpiresAt").is_none(), "{body}");

    // The pool's policy unread: Cognito still sets the password; no expiry is guessed.
    let unread = pool().failing("DescribeUserPool", || AppError::TooManyRequests);
    let run = run_with(config(&[]), unread, &sample("rest-set-temporary")).await;
    let (status, body) = api_status_and_body(&run);
    assert_eq!(status, 200);
    assert!(body.get("temporaryPasswordExpiresAt").is_none(), "{body}");
}

#[tokio::test]
async fn a_failed_sign_out_after_the_code_was_sent_is_a_success_that_says_so() {
    let failing = pool().failing("AdminUserGlobalSignOut", || AppError::TooManyRequests);
    let run = run_with(config(&[]), failing, &sample("rest-password-reset")).await;
    assert_eq!(
        api_status_and_body(&run),
        (
            200,
            json!({"username": "erin", "userStatus": "RESET_REQUIRED", "signedOut": false})
        )
    );
    assert_eq!(run.audit["sign_out_error"], "TooManyRequests");
    assert!(
        run.audit["detail"].as_str().unwrap().contains("after the reset"),
        "{}",
        run.audit
    );
}

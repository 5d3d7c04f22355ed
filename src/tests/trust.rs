//! The trust boundary at the handler: nothing in an API event counts until the function has
//! verified the caller's token, no Cognito call happens before that, and the entry points
//! refuse each other's events. (Every way a token itself can be wrong: `src/token/tests.rs`.)

use serde_json::{json, Value};

use super::{api_status_and_body, config, pool, run, run_with, sample, sample_raw, sample_value, set_calls};
use crate::testing::{authenticate, id_claims, set_authorization, sign, CLIENT_ID};

/// Runs an API event with `token` in `Authorization`; expects a refusal with `status`/`code`
/// and no Cognito call at all.
async fn refused_before_cognito(event: Value, status: u64, code: &str, case: &str) -> Value {
    let run = run(&event.to_string()).await;
    let (got, body) = api_status_and_body(&run);
    assert_eq!(
        (got, body["error"]["code"].as_str()),
        (status, Some(code)),
        "{case}: {body}"
    );
    assert!(run.calls.is_empty(), "{case}: Cognito was called: {:?}", run.calls);
    assert!(
        run.audit.get("actor_username").is_none() || code == "Forbidden",
        "{case}"
    );
    run.audit
}

fn rest_with_token(token: &str) -> Value {
    let mut event = sample_value("rest-set-temporary");
    set_authorization(&mut event, token);
    event
}

#[tokio::test]
async fn forged_claims_without_a_token_are_unauthorized_and_only_a_claim_in_the_audit() {
    // The attack the token check exists for: a real super admin's claims copied into a plain invocation.
    let audit = refused_before_cognito(sample_value("rest-forged-claims"), 401, "Unauthorized", "no token").await;
    assert_eq!(audit["outcome"], "denied");
    assert_eq!(audit["claimed_username"], "rooty");
    assert!(audit.get("actor_username").is_none() && audit.get("actor_sub").is_none());
    assert_eq!(audit["detail"], "no Authorization header");

    let audit = refused_before_cognito(sample_value("rest-set-temporary"), 401, "Unauthorized", "placeholder").await;
    assert_eq!(audit["claimed_username"], "alice");
}

#[tokio::test]
async fn every_bad_token_gets_one_generic_401() {
    let now = crate::testing::now();
    let edit = |f: fn(&mut Value)| {
        let mut claims = id_claims("alice", &["admins", "helpdesk"]);
        claims["sub"] = json!("0d9c1f5e-alice");
        f(&mut claims);
        sign(&claims)
    };
    let cases: Vec<(&str, String)> = vec![
        ("garbage", "not-a-jwt".into()),
        (
            "expired",
            edit(|c| {
                c["exp"] = json!(crate::testing::now() - 120);
            }),
        ),
        (
            "too old",
            edit(|c| {
                c["iat"] = json!(crate::testing::now() - 7200);
            }),
        ),
        (
            "another pool",
            edit(|c| c["iss"] = json!("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other")),
        ),
        ("another app client", edit(|c| c["aud"] = json!("self-sign-up-client"))),
        ("an access token", edit(|c| c["token_use"] = json!("access"))),
        (
            "no name claim",
            edit(|c| {
                c.as_object_mut().unwrap().remove("cognito:username");
            }),
        ),
        ("alg none", {
            use base64::Engine as _;
            let b = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
            format!(
                "{}.{}.",
                b(json!({"alg": "none", "kid": "signing-key"})),
                b(id_claims("alice", &["admins"]))
            )
        }),
    ];
    let _ = now;
    let mut messages = Vec::new();
    for (case, token) in cases {
        let audit =
            refused_before_cognito(rest_with_token(&format!("Bearer {token}")), 401, "Unauthorized", case).await;
        assert!(
            audit["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{case}: the audit says which check failed"
        );
        messages.push(audit["reason"].as_str().unwrap().to_owned());
    }
    messages.dedup();
    assert_eq!(messages, ["invalid or expired token"], "the caller learns nothing more");
}

#[tokio::test]
async fn conflicting_authorization_headers_are_refused() {
    let mut event = sample_value("rest-set-temporary");
    authenticate(&mut event);
    event["multiValueHeaders"]["authorization"] = json!(["Bearer something-else"]);
    let audit = refused_before_cognito(event, 401, "Unauthorized", "conflict").await;
    assert_eq!(audit["detail"], "conflicting Authorization headers");
}

#[tokio::test]
async fn authorizer_claims_must_agree_with_the_verified_token() {
    // A valid token of alice, with the claims of a super admin pasted beside it.
    let mut event = sample_value("rest-set-temporary");
    authenticate(&mut event);
    event["requestContext"]["authorizer"]["claims"]["cognito:groups"] = json!("admins,helpdesk,root");
    let audit = refused_before_cognito(event, 403, "Forbidden", "extra group").await;
    assert_eq!(audit["actor_username"], "alice", "the verified caller is the actor");

    let mut event = sample_value("rest-set-temporary");
    authenticate(&mut event);
    event["requestContext"]["authorizer"] = json!({});
    refused_before_cognito(event, 403, "Forbidden", "no claims").await;
}

#[tokio::test]
async fn a_bearer_prefix_and_a_bare_token_are_both_accepted() {
    let mut event = sample_value("http-set-temporary");
    authenticate(&mut event);
    let token = event["headers"]["authorization"].as_str().unwrap().to_owned();
    let bare = token.strip_prefix("Bearer ").unwrap_or(&token).to_owned();
    for header in [format!("Bearer {bare}"), bare.clone(), format!("bearer  {bare}")] {
        event["headers"]["authorization"] = json!(header);
        let run = run(&event.to_string()).await;
        assert_eq!(api_status_and_body(&run).0, 200, "{header:.20}");
    }
}

#[tokio::test]
async fn an_unauthenticated_caller_learns_nothing_about_the_body() {
    let mut event = sample_value("rest-set-temporary");
    event["body"] = json!("not json");
    let run = run(&event.to_string()).await;
    assert_eq!(api_status_and_body(&run).0, 401);
}

#[tokio::test]
async fn a_workflow_deployment_refuses_api_shaped_events() {
    let workflow = || config(&[("ENTRY_POINTS", "workflow"), ("ADMIN_CLIENT_IDS", "")]);
    for event in [
        sample("rest-set-temporary"),
        sample("http-set-temporary"),
        r#"{"username":"newbie","headers":{}}"#.into(),
        r#"{"version":"2.0"}"#.into(),
    ] {
        let run = run_with(workflow(), pool(), &event).await;
        let err = run.response.as_ref().expect_err("a function error");
        assert_eq!(err.error_type, "InvalidRequest", "{event:.60}");
        assert!(run.calls.is_empty());
    }
    let run = run_with(workflow(), pool(), &sample_raw("direct-secret-reference")).await;
    assert!(run.response.is_ok());
}

#[tokio::test]
async fn an_api_deployment_answers_everything_as_api_gateway() {
    let api = || config(&[("ENTRY_POINTS", "api")]);
    for event in [
        sample_raw("direct-secret-reference"),
        "[]".into(),
        "not json".into(),
        "{}".into(),
        "null".into(),
    ] {
        let run = run_with(api(), pool(), &event).await;
        let (status, body) = api_status_and_body(&run);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("InvalidRequest")),
            "{event:.60}"
        );
        assert!(run.calls.is_empty());
        assert_eq!(set_calls(&run), 0);
    }
    let run = run_with(api(), pool(), &sample("rest-set-temporary")).await;
    assert_eq!(api_status_and_body(&run).0, 200);
}

#[tokio::test]
async fn the_client_allow_list_is_enforced_and_star_accepts_any_client() {
    let mut claims = id_claims("alice", &["admins", "helpdesk"]);
    claims["sub"] = json!("0d9c1f5e-alice");
    claims["aud"] = json!("another-client");
    let event = rest_with_token(&sign(&claims)).to_string();
    let run = run(&event).await;
    assert_eq!(api_status_and_body(&run).0, 401);
    let run = run_with(config(&[("ADMIN_CLIENT_IDS", "*")]), pool(), &event).await;
    assert_eq!(api_status_and_body(&run).0, 200);
    assert_ne!(CLIENT_ID, "another-client");
}

//! The trust boundary against moto: the function verifies the caller's token itself with the
//! admin pool's JWKS as moto serves it. moto signs every pool's tokens with one fixed key
//! shipped in its package, so a test can make tokens moto would have signed with exactly one
//! thing wrong. Each must be refused (401, or 403 for claims that disagree) with the target's
//! password unchanged in moto.

mod support;

use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};
use support::{
    authorize_as, claims_mut, moto_signing_key, sign_token, token_claims, Harness, Pool, SignIn, INITIAL_PASSWORD,
};

/// A REST event for alice carrying `token`, with claims agreeing with it.
fn event_with(pool: &Pool, token: &str) -> Value {
    let mut event = pool.event("rest-set-temporary");
    authorize_as(&mut event, token);
    event
}

/// A copy of alice's real moto ID token's claims, re-signed by moto's key after `edit`.
fn forged(real: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut claims = token_claims(real);
    edit(&mut claims);
    let (der, _) = moto_signing_key();
    sign_token(
        &json!({"kid": "dummy", "alg": "RS256"}),
        &claims,
        &EncodingKey::from_rsa_der(&der),
        Algorithm::RS256,
    )
}

#[tokio::test]
async fn a_re_signed_copy_of_a_real_token_is_accepted_so_the_forgeries_below_test_one_thing_each() {
    let pool = Pool::seeded().await;
    let mut h = Harness::new("trust_control", &pool.endpoint, pool.config(&[])).await;
    let real = pool.id_token("alice").await;
    let run = h.invoke(&event_with(&pool, &forged(&real, |_| {}))).await;
    assert_eq!(run.api().0, 200, "{}", run.audit);
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn every_forged_token_is_refused_and_the_password_is_unchanged() {
    let pool = Pool::seeded().await;
    let other_pool = Pool::seeded().await;
    let mut h = Harness::new("trust_forged", &pool.endpoint, pool.config(&[])).await;
    let real = pool.id_token("alice").await;
    let now = admin_set_password::testing::now();
    let (_, public_pem) = moto_signing_key();
    let claims = token_claims(&real);

    let cases: Vec<(&str, String)> = vec![
        ("another key (the test suite's own)", {
            let der = include_bytes!("../src/token/testdata/other-private.der");
            sign_token(
                &json!({"kid": "dummy", "alg": "RS256"}),
                &claims,
                &EncodingKey::from_rsa_der(der),
                Algorithm::RS256,
            )
        }),
        ("alg none", {
            use base64::Engine as _;
            let b = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
            format!("{}.{}.", b(&json!({"kid": "dummy", "alg": "none"})), b(&claims))
        }),
        (
            "HS256 keyed with the public key's bytes",
            sign_token(
                &json!({"kid": "dummy", "alg": "HS256"}),
                &claims,
                &EncodingKey::from_secret(&public_pem),
                Algorithm::HS256,
            ),
        ),
        ("expired", forged(&real, |c| c["exp"] = json!(now - 60))),
        ("too old", forged(&real, |c| c["iat"] = json!(now - 7_200))),
        ("not yet valid", forged(&real, |c| c["nbf"] = json!(now + 600))),
        ("another pool (same moto key)", other_pool.id_token("alice").await),
        (
            "another app client",
            forged(&real, |c| c["aud"] = json!("self-sign-up-client")),
        ),
        ("an access token", pool_access_token(&pool).await),
        (
            "no name claim",
            forged(&real, |c| {
                c.as_object_mut().unwrap().remove("cognito:username");
            }),
        ),
        ("a crit header", {
            let (der, _) = moto_signing_key();
            sign_token(
                &json!({"kid": "dummy", "alg": "RS256", "crit": ["exp"]}),
                &claims,
                &EncodingKey::from_rsa_der(&der),
                Algorithm::RS256,
            )
        }),
        ("none at all", String::new()),
    ];
    for (case, token) in cases {
        let mut event = pool.event("rest-set-temporary");
        if token.is_empty() {
            admin_set_password::testing::set_authorization(&mut event, "");
            event["headers"].as_object_mut().unwrap().remove("authorization");
            event["multiValueHeaders"]
                .as_object_mut()
                .unwrap()
                .remove("authorization");
        } else {
            admin_set_password::testing::set_authorization(&mut event, &format!("Bearer {token}"));
        }
        let run = h.invoke(&event).await;
        let (status, body) = run.api();
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("Unauthorized")),
            "{case}: {}",
            run.audit
        );
        assert_eq!(body["error"]["message"], "invalid or expired token", "{case}");
        assert!(
            run.audit.get("actor_username").is_none(),
            "{case}: an unverified name is never the actor"
        );
        assert_eq!(run.audit["claimed_username"], "alice", "{case}");
    }
    assert_eq!(
        pool.sign_in("bob", INITIAL_PASSWORD).await,
        SignIn::Tokens,
        "bob's password is unchanged"
    );
    h.assert_no_secret_leaked();
}

async fn pool_access_token(pool: &Pool) -> String {
    pool.tokens("alice").await.1
}

#[tokio::test]
async fn access_tokens_are_accepted_only_when_configured_and_read_by_their_own_claims() {
    let pool = Pool::seeded().await;
    let mut h = Harness::new(
        "trust_access",
        &pool.endpoint,
        pool.config(&[("ACCEPTED_TOKEN_USE", "id,access")]),
    )
    .await;
    let token = pool_access_token(&pool).await;
    let mut event = pool.event("rest-set-temporary");
    authorize_as(&mut event, &token);
    // An access token names its user in `username` (API Gateway passes that claim through).
    let claims = claims_mut(&mut event);
    claims["username"] = json!("alice");
    claims.as_object_mut().unwrap().remove("cognito:username");
    let run = h.invoke(&event).await;
    assert_eq!(run.api().0, 200, "{}", run.audit);
    assert_eq!(run.audit["actor_username"], "alice");
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn claims_that_disagree_with_the_token_are_forbidden() {
    let pool = Pool::seeded().await;
    let mut h = Harness::new(
        "trust_claims",
        &pool.endpoint,
        pool.config(&[("SUPER_ADMIN_GROUPS", "root")]),
    )
    .await;
    let token = pool.id_token("alice").await;
    let rooty_sub = pool.sub("rooty").await;
    type Edit = Box<dyn Fn(&mut Value)>;
    let edits: Vec<(&str, Edit)> = vec![
        (
            "a super admin's name",
            Box::new(|c: &mut Value| c["cognito:username"] = json!("rooty")),
        ),
        (
            "a super admin's sub",
            Box::new(move |c: &mut Value| c["sub"] = json!(rooty_sub.clone())),
        ),
        (
            "an extra group",
            Box::new(|c: &mut Value| c["cognito:groups"] = json!("admins,root")),
        ),
        ("no claims", Box::new(|c: &mut Value| *c = json!({}))),
    ];
    for (case, edit) in edits {
        let mut event = event_with(&pool, &token);
        edit(claims_mut(&mut event));
        let run = h.invoke(&event).await;
        assert_eq!(run.api().0, 403, "{case}: {}", run.audit);
        assert_eq!(
            run.audit["actor_username"], "alice",
            "{case}: the verified caller is the actor"
        );
    }
    assert_eq!(pool.sign_in("bob", INITIAL_PASSWORD).await, SignIn::Tokens);
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn the_issuer_cognito_idp_form_is_accepted() {
    let pool = Pool::seeded().await;
    let mut h = Harness::new("trust_issuer_form", &pool.endpoint, pool.config(&[])).await;
    let real = pool.id_token("alice").await;
    let pool_id = pool.id.clone();
    let token = forged(&real, move |c| {
        c["iss"] = json!(format!("https://issuer-cognito-idp.us-east-1.amazonaws.com/{pool_id}"))
    });
    let run = h.invoke(&event_with(&pool, &token)).await;
    assert_eq!(run.api().0, 200, "{}", run.audit);

    let token = forged(&real, |c| {
        c["iss"] = json!("https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_Other")
    });
    assert_eq!(h.invoke(&event_with(&pool, &token)).await.api().0, 401);
    h.assert_no_secret_leaked();
}

//! Every way a token can be wrong, with tokens signed by the committed test keys
//! (`testdata/README.md`). Headers and payloads are written as JSON text and signed with the
//! JWT crate's signer, so a test can put anything in them (duplicate keys, `crit`, `alg: none`).

use std::collections::HashMap;
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};

use super::*;

const REGION: &str = "us-east-1";
const POOL: &str = "us-east-1_Admin";
const CLIENT: &str = "admin-portal-client";
const NOW: u64 = 1_800_000_000;
const KID: &str = "signing-key";

fn signing_key() -> EncodingKey {
    EncodingKey::from_rsa_der(include_bytes!("testdata/signing-private.der"))
}

fn other_key() -> EncodingKey {
    EncodingKey::from_rsa_der(include_bytes!("testdata/other-private.der"))
}

fn jwk(text: &str) -> (String, VerifyingKey) {
    let jwk: Value = serde_json::from_str(text).unwrap();
    let key = VerifyingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap()).unwrap();
    (jwk["kid"].as_str().unwrap().to_owned(), key)
}

/// The admin pool's JWKS in these tests: only the signing key.
struct FixedKeys(HashMap<String, VerifyingKey>);

impl FixedKeys {
    fn admin_pool() -> Self {
        Self(HashMap::from([jwk(include_str!("testdata/signing-public.jwk.json"))]))
    }
}

impl KeySource for FixedKeys {
    async fn key(&self, kid: &str) -> Result<VerifyingKey, KeyError> {
        self.0.get(kid).cloned().ok_or(KeyError::UnknownKid)
    }
}

struct NoKeys;

impl KeySource for NoKeys {
    async fn key(&self, _kid: &str) -> Result<VerifyingKey, KeyError> {
        Err(KeyError::Unavailable("connection refused".into()))
    }
}

fn policy() -> TokenPolicy {
    TokenPolicy {
        issuers: TokenPolicy::issuers_for(REGION, POOL),
        accepted_token_use: vec![TokenUse::Id],
        client_ids: ClientIds::Only(vec![CLIENT.into()]),
        max_age: Duration::from_secs(3600),
        leeway: Duration::from_secs(30),
    }
}

fn b64(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
}

/// Signs `header.payload` (both JSON text, taken verbatim) with `key` and `alg`.
fn sign_text(header: &str, payload: &str, key: &EncodingKey, alg: Algorithm) -> String {
    let signing_input = format!("{}.{}", b64(header), b64(payload));
    let signature = jsonwebtoken::crypto::sign(signing_input.as_bytes(), key, alg).unwrap();
    format!("{signing_input}.{signature}")
}

fn rs256_header() -> Value {
    json!({"kid": KID, "alg": "RS256"})
}

/// An ID token's claims as Cognito writes them, issued 10 s before `NOW`.
fn id_claims() -> Value {
    json!({
        "sub": "5f1c6c2e-0000-4000-8000-000000000001",
        "cognito:groups": ["admins", "helpdesk"],
        "iss": format!("https://cognito-idp.{REGION}.amazonaws.com/{POOL}"),
        "cognito:username": "alice",
        "origin_jti": "2b7f",
        "aud": CLIENT,
        "event_id": "0c3e",
        "token_use": "id",
        "auth_time": NOW - 10,
        "exp": NOW + 3590,
        "iat": NOW - 10,
        "jti": "9a1d",
    })
}

fn access_claims() -> Value {
    json!({
        "sub": "5f1c6c2e-0000-4000-8000-000000000001",
        "cognito:groups": ["admins"],
        "iss": format!("https://cognito-idp.{REGION}.amazonaws.com/{POOL}"),
        "client_id": CLIENT,
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "auth_time": NOW - 10,
        "exp": NOW + 3590,
        "iat": NOW - 10,
        "username": "alice",
    })
}

fn token(header: &Value, claims: &Value) -> String {
    sign_text(
        &header.to_string(),
        &claims.to_string(),
        &signing_key(),
        Algorithm::RS256,
    )
}

fn id_token_with(change: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
    let mut claims = id_claims();
    change(claims.as_object_mut().unwrap());
    token(&rs256_header(), &claims)
}

async fn check(raw: &str) -> Result<VerifiedToken, TokenFailure> {
    verify(raw, &FixedKeys::admin_pool(), &policy(), NOW).await
}

#[tokio::test]
async fn a_cognito_id_token_from_the_admin_pool_is_accepted_with_its_identity() {
    let verified = check(&token(&rs256_header(), &id_claims())).await.unwrap();
    assert_eq!(
        verified,
        VerifiedToken {
            issuer: format!("https://cognito-idp.{REGION}.amazonaws.com/{POOL}"),
            sub: "5f1c6c2e-0000-4000-8000-000000000001".into(),
            username: "alice".into(),
            groups: vec!["admins".into(), "helpdesk".into()],
            client_id: CLIENT.into(),
            token_use: TokenUse::Id,
            issued_at: NOW - 10,
            expires_at: NOW + 3590,
        }
    );
}

#[tokio::test]
async fn the_issuer_cognito_idp_form_is_accepted() {
    let raw = id_token_with(|c| {
        c.insert(
            "iss".into(),
            json!(format!("https://issuer-cognito-idp.{REGION}.amazonaws.com/{POOL}")),
        );
    });
    let verified = check(&raw).await.unwrap();
    assert!(verified.issuer.starts_with("https://issuer-cognito-idp."));
}

#[tokio::test]
async fn an_access_token_names_its_client_and_caller_by_client_id_and_username() {
    let policy = TokenPolicy {
        accepted_token_use: vec![TokenUse::Id, TokenUse::Access],
        ..policy()
    };
    let raw = token(&rs256_header(), &access_claims());
    let verified = verify(&raw, &FixedKeys::admin_pool(), &policy, NOW).await.unwrap();
    assert_eq!(
        (
            verified.token_use,
            verified.client_id.as_str(),
            verified.username.as_str()
        ),
        (TokenUse::Access, CLIENT, "alice")
    );
}

#[tokio::test]
async fn any_client_accepts_every_app_client_of_the_admin_pool() {
    let policy = TokenPolicy {
        client_ids: ClientIds::Any,
        ..policy()
    };
    let raw = id_token_with(|c| {
        c.insert("aud".into(), json!("self-sign-up-client"));
    });
    let verified = verify(&raw, &FixedKeys::admin_pool(), &policy, NOW).await.unwrap();
    assert_eq!(verified.client_id, "self-sign-up-client");
}

#[tokio::test]
async fn absent_groups_claim_means_no_groups() {
    let verified = check(&id_token_with(|c| {
        c.remove("cognito:groups");
    }))
    .await
    .unwrap();
    assert!(verified.groups.is_empty());
}

#[tokio::test]
async fn header_hints_to_other_keys_are_never_followed() {
    // jku/x5u/jwk/x5c pointing at an attacker's key change nothing: a token signed by the admin
    // pool's key still verifies, and one signed by the attacker's key still fails.
    let mut header = rs256_header();
    let hints = header.as_object_mut().unwrap();
    hints.insert("jku".into(), json!("https://attacker.example/jwks.json"));
    hints.insert("x5u".into(), json!("https://attacker.example/cert.pem"));
    hints.insert(
        "jwk".into(),
        serde_json::from_str(include_str!("testdata/other-public.jwk.json")).unwrap(),
    );
    hints.insert("x5c".into(), json!(["MIIB"]));
    assert!(check(&token(&header, &id_claims())).await.is_ok());

    let forged = sign_text(
        &header.to_string(),
        &id_claims().to_string(),
        &other_key(),
        Algorithm::RS256,
    );
    assert_eq!(
        check(&forged).await,
        Err(TokenFailure::Invalid("signature does not verify"))
    );
}

#[tokio::test]
async fn a_token_leeway_above_30_seconds_is_capped() {
    let policy = TokenPolicy {
        leeway: Duration::from_secs(600),
        ..policy()
    };
    let raw = id_token_with(|c| {
        c.insert("exp".into(), json!(NOW - 60));
    });
    assert_eq!(
        verify(&raw, &FixedKeys::admin_pool(), &policy, NOW).await,
        Err(TokenFailure::Invalid("expired"))
    );
}

#[tokio::test]
async fn clock_skew_within_the_leeway_is_tolerated() {
    let raw = id_token_with(|c| {
        c.insert("exp".into(), json!(NOW - 20));
        c.insert("iat".into(), json!(NOW - 3600));
    });
    assert!(check(&raw).await.is_ok());
    let raw = id_token_with(|c| {
        c.insert("iat".into(), json!(NOW + 20));
        c.insert("nbf".into(), json!(NOW + 20));
    });
    assert!(check(&raw).await.is_ok());
}

#[tokio::test]
async fn no_keys_is_keys_unavailable_not_an_invalid_token() {
    let raw = token(&rs256_header(), &id_claims());
    assert_eq!(
        verify(&raw, &NoKeys, &policy(), NOW).await,
        Err(TokenFailure::KeysUnavailable("connection refused".into()))
    );
}

#[tokio::test]
async fn every_wrong_token_is_refused_for_its_own_reason() {
    let rs256 = rs256_header().to_string();
    let id = id_claims().to_string();
    let other_issuer = |iss: &str| {
        let iss = iss.to_owned();
        id_token_with(move |c| {
            c.insert("iss".into(), json!(iss));
        })
    };
    let remove = |claim: &'static str| {
        id_token_with(move |c| {
            c.remove(claim);
        })
    };
    let set = |claim: &'static str, value: Value| {
        id_token_with(move |c| {
            c.insert(claim.into(), value);
        })
    };
    let header_with = |extra: Value| {
        let mut header = rs256_header();
        header
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        token(&header, &id_claims())
    };
    let mut access_without_username = access_claims();
    access_without_username.as_object_mut().unwrap().remove("username");
    access_without_username
        .as_object_mut()
        .unwrap()
        .insert("cognito:username".into(), json!("alice"));
    let mut access_with_aud = access_claims();
    access_with_aud.as_object_mut().unwrap().remove("client_id");
    access_with_aud
        .as_object_mut()
        .unwrap()
        .insert("aud".into(), json!(CLIENT));

    let cases: Vec<(&str, String, &str)> = vec![
        ("no token", String::new(), "no token"),
        (
            "one part",
            "eyJhbGciOiJSUzI1NiJ9".into(),
            "not a compact JWS (three non-empty parts)",
        ),
        (
            "two parts",
            format!("{}.{}", b64(&rs256), b64(&id)),
            "not a compact JWS (three non-empty parts)",
        ),
        (
            "four parts",
            format!("{}.x", token(&rs256_header(), &id_claims())),
            "not a compact JWS (three non-empty parts)",
        ),
        (
            "too large",
            format!("{}.{}.x", b64(&rs256), "A".repeat(MAX_TOKEN_BYTES)),
            "token too large",
        ),
        (
            "header not base64url",
            format!("***.{}.sig", b64(&id)),
            "header is not base64url",
        ),
        (
            "padded base64",
            format!("{}=.{}.sig", b64(&rs256), b64(&id)),
            "header is not base64url",
        ),
        (
            "header not JSON",
            format!("{}.{}.sig", b64("RS256"), b64(&id)),
            "header is not JSON",
        ),
        (
            "header an array",
            format!("{}.{}.sig", b64("[]"), b64(&id)),
            "header is not a JSON object",
        ),
        (
            "payload not JSON",
            format!("{}.{}.sig", b64(&rs256), b64("{")),
            "payload is not JSON",
        ),
        (
            "another key, unknown kid",
            sign_text(
                &json!({"kid": "other-key", "alg": "RS256"}).to_string(),
                &id,
                &other_key(),
                Algorithm::RS256,
            ),
            "no key in the admin pool's JWKS has this kid",
        ),
        (
            "another key, the pool's kid",
            sign_text(&rs256, &id, &other_key(), Algorithm::RS256),
            "signature does not verify",
        ),
        (
            "signature of another payload",
            {
                let genuine = token(&rs256_header(), &id_claims());
                let signature = genuine.rsplit('.').next().unwrap().to_owned();
                let tampered = id_claims().to_string().replace("alice", "rooty");
                format!("{}.{}.{signature}", b64(&rs256), b64(&tampered))
            },
            "signature does not verify",
        ),
        (
            "signature not base64url",
            format!("{}.{}.%%%", b64(&rs256), b64(&id)),
            "signature does not verify",
        ),
        (
            "alg none, no signature",
            format!("{}.{}.", b64(&json!({"kid": KID, "alg": "none"}).to_string()), b64(&id)),
            "not a compact JWS (three non-empty parts)",
        ),
        (
            "alg none with a signature",
            format!(
                "{}.{}.AAAA",
                b64(&json!({"kid": KID, "alg": "none"}).to_string()),
                b64(&id)
            ),
            "alg is not RS256",
        ),
        (
            "HS256 keyed with the public key's bytes",
            sign_text(
                &json!({"kid": KID, "alg": "HS256"}).to_string(),
                &id,
                &EncodingKey::from_secret(include_bytes!("testdata/signing-public.pem")),
                Algorithm::HS256,
            ),
            "alg is not RS256",
        ),
        (
            "RS512 with the right key",
            sign_text(
                &json!({"kid": KID, "alg": "RS512"}).to_string(),
                &id,
                &signing_key(),
                Algorithm::RS512,
            ),
            "alg is not RS256",
        ),
        (
            "PS256 with the right key",
            sign_text(
                &json!({"kid": KID, "alg": "PS256"}).to_string(),
                &id,
                &signing_key(),
                Algorithm::PS256,
            ),
            "alg is not RS256",
        ),
        (
            "alg in lower case",
            header_with(json!({"alg": "rs256"})),
            "alg is not RS256",
        ),
        ("no alg", token(&json!({"kid": KID}), &id_claims()), "alg is not RS256"),
        ("no kid", token(&json!({"alg": "RS256"}), &id_claims()), "no kid"),
        ("kid not a string", header_with(json!({"kid": 1})), "no kid"),
        (
            "crit header",
            header_with(json!({"crit": ["exp"], "exp": NOW})),
            "crit header present",
        ),
        (
            "duplicate key in header",
            sign_text(
                r#"{"kid":"signing-key","alg":"HS256","alg":"RS256"}"#,
                &id,
                &signing_key(),
                Algorithm::RS256,
            ),
            "duplicate key in header",
        ),
        (
            "duplicate claim",
            sign_text(
                &rs256,
                &id.replacen('{', r#"{"cognito:username":"rooty","#, 1),
                &signing_key(),
                Algorithm::RS256,
            ),
            "duplicate key in payload",
        ),
        ("expired", set("exp", json!(NOW - 31)), "expired"),
        ("expired long ago", set("exp", json!(1)), "expired"),
        ("no exp", remove("exp"), "no exp"),
        (
            "exp a string",
            set("exp", json!((NOW + 60).to_string())),
            "exp is not an integer",
        ),
        (
            "exp a fraction",
            set("exp", json!(NOW as f64 + 60.5)),
            "exp is not an integer",
        ),
        ("no iat", remove("iat"), "no iat"),
        ("iat negative", set("iat", json!(-1)), "iat is not an integer"),
        ("too old", set("iat", json!(NOW - 3601)), "too old (iat)"),
        (
            "issued in the future",
            set("iat", json!(NOW + 31)),
            "issued in the future (iat)",
        ),
        ("nbf in the future", set("nbf", json!(NOW + 31)), "not yet valid (nbf)"),
        ("nbf not a number", set("nbf", json!("soon")), "nbf is not an integer"),
        (
            "another pool",
            other_issuer("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"),
            "iss is not the admin pool",
        ),
        (
            "another region",
            other_issuer("https://cognito-idp.eu-west-1.amazonaws.com/us-east-1_Admin"),
            "iss is not the admin pool",
        ),
        (
            "issuer with a trailing slash",
            other_issuer(&format!("https://cognito-idp.{REGION}.amazonaws.com/{POOL}/")),
            "iss is not the admin pool",
        ),
        (
            "issuer over http",
            other_issuer(&format!("http://cognito-idp.{REGION}.amazonaws.com/{POOL}")),
            "iss is not the admin pool",
        ),
        ("no iss", remove("iss"), "no iss"),
        (
            "another app client",
            set("aud", json!("self-sign-up-client")),
            "app client not allowed",
        ),
        (
            "aud an array",
            set("aud", json!([CLIENT])),
            "no app client claim for this token_use",
        ),
        (
            "id token naming its client by client_id",
            id_token_with(|c| {
                let aud = c.remove("aud").unwrap();
                c.insert("client_id".into(), aud);
            }),
            "no app client claim for this token_use",
        ),
        (
            "access token refused by default",
            token(&rs256_header(), &access_claims()),
            "token_use not accepted",
        ),
        (
            "refresh token_use",
            set("token_use", json!("refresh")),
            "no valid token_use",
        ),
        ("no token_use", remove("token_use"), "no valid token_use"),
        (
            "no name claim",
            remove("cognito:username"),
            "no username claim for this token_use",
        ),
        (
            "id token naming its caller by username",
            id_token_with(|c| {
                let name = c.remove("cognito:username").unwrap();
                c.insert("username".into(), name);
            }),
            "no username claim for this token_use",
        ),
        (
            "empty name",
            set("cognito:username", json!("")),
            "no username claim for this token_use",
        ),
        ("no sub", remove("sub"), "no sub"),
        (
            "groups a string",
            set("cognito:groups", json!("admins")),
            "cognito:groups is not an array of group names",
        ),
        (
            "groups null",
            set("cognito:groups", Value::Null),
            "cognito:groups is not an array of group names",
        ),
        (
            "group a number",
            set("cognito:groups", json!(["admins", 1])),
            "cognito:groups is not an array of group names",
        ),
        (
            "group with a space",
            set("cognito:groups", json!(["super admins"])),
            "cognito:groups is not an array of group names",
        ),
        (
            "group with a comma",
            set("cognito:groups", json!(["admins,root"])),
            "cognito:groups is not an array of group names",
        ),
        (
            "empty group name",
            set("cognito:groups", json!([""])),
            "cognito:groups is not an array of group names",
        ),
        (
            "group with a NUL",
            set("cognito:groups", json!(["admins\u{0}"])),
            "cognito:groups is not an array of group names",
        ),
        (
            "group name of 129 characters",
            set("cognito:groups", json!(["g".repeat(129)])),
            "cognito:groups is not an array of group names",
        ),
    ];

    let access_policy = TokenPolicy {
        accepted_token_use: vec![TokenUse::Access],
        ..policy()
    };
    let access_cases = [
        (
            "access token with aud, not client_id",
            token(&rs256_header(), &access_with_aud),
            "no app client claim for this token_use",
        ),
        (
            "access token with cognito:username, not username",
            token(&rs256_header(), &access_without_username),
            "no username claim for this token_use",
        ),
        (
            "id token when only access is accepted",
            token(&rs256_header(), &id_claims()),
            "token_use not accepted",
        ),
    ];

    let mut wrong = Vec::new();
    for (name, raw, reason) in cases {
        let got = check(&raw).await;
        if got != Err(TokenFailure::Invalid(reason)) {
            wrong.push(format!("{name}: expected Invalid({reason:?}), got {got:?}"));
        }
    }
    for (name, raw, reason) in access_cases {
        let got = verify(&raw, &FixedKeys::admin_pool(), &access_policy, NOW).await;
        if got != Err(TokenFailure::Invalid(reason)) {
            wrong.push(format!("{name}: expected Invalid({reason:?}), got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn both_issuer_forms_of_the_admin_pool() {
    assert_eq!(
        TokenPolicy::issuers_for("eu-west-1", "eu-west-1_AbC"),
        [
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC",
            "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC",
        ]
    );
}

#[test]
fn token_use_spellings() {
    assert_eq!(TokenUse::parse("id"), Some(TokenUse::Id));
    assert_eq!(TokenUse::parse("access"), Some(TokenUse::Access));
    assert_eq!(TokenUse::parse("ID"), None);
    assert_eq!(TokenUse::parse("refresh"), None);
}

#[test]
fn verifying_with_the_jwks_cache_is_a_send_future() {
    fn assert_send<T: Send>(_: &T) {}
    let cache = JwksCache::new(HttpJwksFetch::new(
        "http://127.0.0.1:1/pool/.well-known/jwks.json",
        Duration::from_secs(1),
        Duration::from_secs(1),
    ));
    let policy = policy();
    let verification = verify("", &cache, &policy, NOW);
    assert_send(&verification);
}

#[test]
fn jwks_url_follows_the_endpoint_override() {
    assert_eq!(
        jwks_url("eu-west-1", "eu-west-1_AbC", None),
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC/.well-known/jwks.json"
    );
    assert_eq!(
        jwks_url("us-east-1", "us-east-1_X", Some("http://127.0.0.1:5000/")),
        "http://127.0.0.1:5000/us-east-1_X/.well-known/jwks.json"
    );
}

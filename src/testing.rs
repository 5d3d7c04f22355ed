//! Test scaffolding shared by the unit tests and the integration tests in `tests/`: compiled
//! only for tests or with the `test-support` feature, never into the shipped binary.

use crate::config::Config;
use crate::output::Output;

/// The target pool the unit tests and sample events use.
pub const POOL: &str = "us-east-1_Example";
/// The admin app client the test configuration accepts.
pub const CLIENT_ID: &str = "portalclient";

/// The one `Config` builder for tests: a working API + workflow configuration, with `extra`
/// variables layered on top (an empty value unsets a default).
pub fn config(extra: &[(&str, &str)]) -> Config {
    try_config(extra).unwrap_or_else(|err| panic!("test configuration {extra:?}: {err}"))
}

/// Like `config`, for tests of configuration errors.
pub fn try_config(extra: &[(&str, &str)]) -> Result<Config, crate::ConfigError> {
    let mut vars: Vec<(String, String)> = [
        ("USER_POOL_ID", POOL),
        ("ADMIN_GROUPS", "admins,helpdesk"),
        ("ADMIN_CLIENT_IDS", CLIENT_ID),
        ("PASSWORD_SECRET_PREFIX", "onboarding/"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        vars.retain(|(name, _)| name != k);
        vars.push((k.to_string(), v.to_string()));
    }
    Config::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
}

/// A fresh in-memory `Output`.
pub fn buffer() -> Output {
    Output::Buffer(Default::default())
}

/// Everything written to `output` so far (nothing for stdout).
pub fn lines(output: &Output) -> Vec<String> {
    match output {
        Output::Stdout => Vec::new(),
        Output::Buffer(buffer) => buffer.lock().unwrap().clone(),
    }
}

/// The audit records written to `output` (a buffer) so far, parsed.
pub fn audit_lines(output: &Output) -> Vec<serde_json::Value> {
    lines(output)
        .iter()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|v| v["event"] == crate::audit::AUDIT_EVENT)
        .collect()
}

/// The admin pool's issuer in the test configuration.
pub const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example";

/// The admin pool's keys in tests: the committed test signing key (`src/token/testdata/`).
#[derive(Debug, Clone, Copy, Default)]
pub struct TestKeys;

impl crate::token::KeySource for TestKeys {
    /// The key is parsed once and then handed out as the JWKS cache does (an `Arc` clone), so
    /// the benchmark of a warm verification measures what a warm function does.
    async fn key(&self, kid: &str) -> Result<crate::token::VerifyingKey, crate::token::KeyError> {
        static KEYS: std::sync::OnceLock<std::collections::HashMap<String, crate::token::VerifyingKey>> =
            std::sync::OnceLock::new();
        let keys = KEYS.get_or_init(|| {
            let jwks = format!(
                r#"{{"keys":[{}]}}"#,
                include_str!("token/testdata/signing-public.jwk.json")
            );
            crate::token::jwks::parse_jwks(jwks.as_bytes()).expect("the test JWK is usable")
        });
        keys.get(kid).cloned().ok_or(crate::token::KeyError::UnknownKid)
    }
}

/// Seconds since the epoch, now.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// An RS256 token over `claims`, signed with the test signing key (`kid` "signing-key").
pub fn sign(claims: &serde_json::Value) -> String {
    sign_with_header(&serde_json::json!({"kid": "signing-key", "alg": "RS256"}), claims)
}

/// Like `sign`, with any header.
pub fn sign_with_header(header: &serde_json::Value, claims: &serde_json::Value) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let key = jsonwebtoken::EncodingKey::from_rsa_der(include_bytes!("token/testdata/signing-private.der"));
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &key, jsonwebtoken::Algorithm::RS256).expect("sign");
    format!("{input}.{signature}")
}

/// A valid ID token of the test admin pool for `username` (sub `sub-<username>`) in `groups`.
pub fn id_token(username: &str, groups: &[&str]) -> String {
    sign(&id_claims(username, groups))
}

/// The claims of `id_token`, to edit before signing.
pub fn id_claims(username: &str, groups: &[&str]) -> serde_json::Value {
    let now = now();
    let mut claims = serde_json::json!({
        "iss": ISSUER,
        "sub": format!("sub-{username}"),
        "aud": CLIENT_ID,
        "token_use": "id",
        "cognito:username": username,
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
    });
    if !groups.is_empty() {
        claims["cognito:groups"] = serde_json::json!(groups);
    }
    claims
}

/// Puts `token` in an API event's `Authorization` header (both header maps of a REST
/// event), replacing any value under any spelling of the name.
pub fn set_authorization(event: &mut serde_json::Value, token: &str) {
    for (map, value) in [
        ("headers", serde_json::json!(token)),
        ("multiValueHeaders", serde_json::json!([token])),
    ] {
        if map == "multiValueHeaders" && !event.get(map).is_some_and(|h| h.is_object()) {
            continue;
        }
        if !event[map].is_object() {
            event[map] = serde_json::json!({});
        }
        let headers = event[map].as_object_mut().expect("object");
        headers.retain(|name, _| !name.eq_ignore_ascii_case("authorization"));
        headers.insert("authorization".into(), value);
    }
}

/// Makes an API event authentic as far as the function can tell: signs a token that says
/// what the event's authorizer claims say (issuer, sub, name, groups in the shape's format)
/// and puts it in `Authorization`. A forged-claims event stays forged in substance: the
/// function's live look-ups still decide.
pub fn authenticate(event: &mut serde_json::Value) {
    let http = event["version"] == "2.0";
    let claims = if http {
        &event["requestContext"]["authorizer"]["jwt"]["claims"]
    } else {
        &event["requestContext"]["authorizer"]["claims"]
    };
    let text = |name: &str| claims[name].as_str().unwrap_or_default().to_owned();
    let groups: Vec<String> = match claims["cognito:groups"].as_str() {
        None => Vec::new(),
        Some(raw) if http => raw
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split(' ')
            .filter(|g| !g.is_empty())
            .map(str::to_owned)
            .collect(),
        Some(raw) => raw.split(',').map(str::to_owned).collect(),
    };
    let now = now();
    let mut token = serde_json::json!({
        "iss": text("iss"),
        "sub": text("sub"),
        "aud": CLIENT_ID,
        "token_use": "id",
        "cognito:username": text("cognito:username"),
        "iat": now,
        "exp": now + 3600,
    });
    if !groups.is_empty() {
        token["cognito:groups"] = serde_json::json!(groups);
    }
    set_authorization(event, &sign(&token));
}

//! Verification of the caller's Cognito token inside the function, so that the API
//! entry point trusts a signature from the admin pool's key, not the shape of an event.
//!
//! The checks follow awslabs/aws-jwt-verify, stricter where Cognito leaves no room: only
//! RS256, only keys from the admin pool's JWKS (header hints such as `jku` or `jwk` are never
//! followed), the issuer compared exactly, the client and the caller's name read from the one
//! claim their `token_use` defines, and duplicated JSON keys refused (a duplicate could make
//! two parsers disagree on which value counts). The JWT crate is used for the signature only;
//! every header and claim check is done here on strictly parsed JSON, because the crate's
//! `Validation` cannot express `crit`, duplicate keys or "aud must be one string".

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

use crate::groups::is_group_name;
use crate::json;

pub mod jwks;

pub use jwks::{HttpJwksFetch, JwksCache, JwksFetch};

/// Larger than any Cognito token (ID tokens with many groups stay well under 4 KiB), small
/// enough that a hostile header costs nothing to refuse.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The most clock skew `TokenPolicy::leeway` may grant; larger values are capped.
pub const MAX_LEEWAY: Duration = Duration::from_secs(30);

/// Cognito's `token_use` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    Id,
    Access,
}

impl TokenUse {
    /// Parses the claim's (and `ACCEPTED_TOKEN_USE`'s) spelling: `id` or `access`, exactly.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "id" => Some(Self::Id),
            "access" => Some(Self::Access),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Access => "access",
        }
    }
}

/// The admin pool's app clients whose tokens are accepted (`ADMIN_CLIENT_IDS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientIds {
    /// `*`: any app client of the admin pool, chosen explicitly.
    Any,
    Only(Vec<String>),
}

impl ClientIds {
    pub fn allows(&self, client_id: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Only(ids) => ids.iter().any(|id| id == client_id),
        }
    }
}

/// What a token must satisfy, built once from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPolicy {
    /// Accepted `iss` values, compared exactly (see `issuers_for`).
    pub issuers: Vec<String>,
    pub accepted_token_use: Vec<TokenUse>,
    pub client_ids: ClientIds,
    /// Largest accepted `now - iat`.
    pub max_age: Duration,
    /// Clock skew allowed on `exp`, `nbf` and `iat`; capped at `MAX_LEEWAY`.
    pub leeway: Duration,
}

impl TokenPolicy {
    /// Both issuer forms Cognito uses for a pool: the classic `cognito-idp` host and the newer
    /// `issuer-cognito-idp` host. Nothing else is an issuer of this pool.
    pub fn issuers_for(region: &str, pool_id: &str) -> Vec<String> {
        vec![
            format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}"),
            format!("https://issuer-cognito-idp.{region}.amazonaws.com/{pool_id}"),
        ]
    }
}

/// The JWKS URL for the admin pool: `<endpoint>/<pool>/.well-known/jwks.json` when the Cognito
/// endpoint is overridden (moto serves it there), else under the classic issuer.
pub fn jwks_url(region: &str, pool_id: &str, endpoint_override: Option<&str>) -> String {
    match endpoint_override {
        Some(endpoint) => format!("{}/{pool_id}/.well-known/jwks.json", endpoint.trim_end_matches('/')),
        None => format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}/.well-known/jwks.json"),
    }
}

/// A token whose signature and claims passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub issuer: String,
    pub sub: String,
    /// `cognito:username` (ID token) or `username` (access token).
    pub username: String,
    /// `cognito:groups`, in the token's order; empty when the claim is absent.
    pub groups: Vec<String>,
    /// `aud` (ID token) or `client_id` (access token).
    pub client_id: String,
    pub token_use: TokenUse,
    pub issued_at: u64,
    pub expires_at: u64,
}

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenFailure {
    /// The token is not acceptable (401). The reason is for the audit line only; the caller is
    /// told nothing more than "invalid or expired token".
    Invalid(&'static str),
    /// The admin pool's keys could not be obtained (503); the detail is for the log only.
    KeysUnavailable(String),
}

impl fmt::Display for TokenFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid(reason) => write!(f, "invalid token: {reason}"),
            Self::KeysUnavailable(detail) => write!(f, "signing keys unavailable: {detail}"),
        }
    }
}

/// A public key from the admin pool's JWKS, ready to check RS256 signatures. Cheap to clone.
#[derive(Clone)]
pub struct VerifyingKey(Arc<DecodingKey>);

impl VerifyingKey {
    /// From a JWK's base64url `n` and `e`. Keys under 2048 bits are refused when used (ring's
    /// `RSA_PKCS1_2048_8192_SHA256`).
    pub fn from_rsa_components(n: &str, e: &str) -> Option<Self> {
        DecodingKey::from_rsa_components(n, e)
            .ok()
            .map(|key| Self(Arc::new(key)))
    }

    fn verifies(&self, signing_input: &str, signature: &str) -> bool {
        jsonwebtoken::crypto::verify(signature, signing_input.as_bytes(), &self.0, Algorithm::RS256).unwrap_or(false)
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerifyingKey(RS256)")
    }
}

/// Why no key was returned for a `kid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The admin pool's JWKS has no usable key with this `kid`: the token is invalid.
    UnknownKid,
    /// The JWKS could not be fetched: no key at all, or a refetch for this `kid` failed.
    Unavailable(String),
}

/// Where verification gets keys: the JWKS cache in production, a fixed set in tests.
pub trait KeySource {
    fn key(&self, kid: &str) -> impl Future<Output = Result<VerifyingKey, KeyError>> + Send;
}

/// A workflow-only deployment has no keys: an API event never gets this far there (the
/// entry point refuses it), and if one did, it would fail closed.
impl<K: KeySource + Sync> KeySource for Option<K> {
    async fn key(&self, kid: &str) -> Result<VerifyingKey, KeyError> {
        match self {
            Some(keys) => keys.key(kid).await,
            None => Err(KeyError::Unavailable("no JWKS on a workflow-only deployment".into())),
        }
    }
}

/// Verifies `raw` (already stripped of any `Bearer ` prefix by the caller) against `policy`
/// at `now_unix` (seconds). The signature is checked before any claim is looked at, so an
/// audit reason about a claim is always about a token the admin pool signed.
pub async fn verify<K: KeySource>(
    raw: &str,
    keys: &K,
    policy: &TokenPolicy,
    now_unix: u64,
) -> Result<VerifiedToken, TokenFailure> {
    let parts = split(raw)?;
    let header = decode_object(parts.header, Part::Header)?;
    let kid = check_header(&header)?;
    let claims = decode_object(parts.payload, Part::Payload)?;
    let key = keys.key(kid).await.map_err(|err| match err {
        KeyError::UnknownKid => TokenFailure::Invalid("no key in the admin pool's JWKS has this kid"),
        KeyError::Unavailable(detail) => TokenFailure::KeysUnavailable(detail),
    })?;
    if !key.verifies(parts.signing_input, parts.signature) {
        return Err(TokenFailure::Invalid("signature does not verify"));
    }
    check_claims(&claims, policy, now_unix).map_err(TokenFailure::Invalid)
}

struct Parts<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
    /// `header.payload`, what the signature covers.
    signing_input: &'a str,
}

fn split(raw: &str) -> Result<Parts<'_>, TokenFailure> {
    if raw.is_empty() {
        return Err(TokenFailure::Invalid("no token"));
    }
    if raw.len() > MAX_TOKEN_BYTES {
        return Err(TokenFailure::Invalid("token too large"));
    }
    let mut parts = raw.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(header), Some(payload), Some(signature), None)
            if !header.is_empty() && !payload.is_empty() && !signature.is_empty() =>
        {
            Ok(Parts {
                header,
                payload,
                signature,
                signing_input: &raw[..header.len() + 1 + payload.len()],
            })
        }
        _ => Err(TokenFailure::Invalid("not a compact JWS (three non-empty parts)")),
    }
}

#[derive(Clone, Copy)]
enum Part {
    Header,
    Payload,
}

impl Part {
    /// The audit reason for each way a part can be unreadable.
    fn refused(self, header: &'static str, payload: &'static str) -> TokenFailure {
        TokenFailure::Invalid(match self {
            Self::Header => header,
            Self::Payload => payload,
        })
    }
}

/// base64url without padding, then strict JSON that must be an object.
fn decode_object(encoded: &str, part: Part) -> Result<Map<String, Value>, TokenFailure> {
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| part.refused("header is not base64url", "payload is not base64url"))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| part.refused("header is not UTF-8", "payload is not UTF-8"))?;
    match json::parse_strict(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(part.refused("header is not a JSON object", "payload is not a JSON object")),
        Err(json::JsonError::DuplicateKey) => Err(part.refused("duplicate key in header", "duplicate key in payload")),
        Err(json::JsonError::Malformed) => Err(part.refused("header is not JSON", "payload is not JSON")),
    }
}

/// RS256 and a `kid`, nothing critical. `jku`, `x5u`, `jwk` and `x5c` are ignored: the key
/// comes from the admin pool's JWKS or not at all.
fn check_header(header: &Map<String, Value>) -> Result<&str, TokenFailure> {
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(TokenFailure::Invalid("alg is not RS256"));
    }
    if header.contains_key("crit") {
        return Err(TokenFailure::Invalid("crit header present"));
    }
    match header.get("kid").and_then(Value::as_str) {
        Some(kid) if !kid.is_empty() => Ok(kid),
        _ => Err(TokenFailure::Invalid("no kid")),
    }
}

fn check_claims(claims: &Map<String, Value>, policy: &TokenPolicy, now: u64) -> Result<VerifiedToken, &'static str> {
    let leeway = policy.leeway.min(MAX_LEEWAY).as_secs();

    let issuer = string(claims, "iss").ok_or("no iss")?;
    if !policy.issuers.iter().any(|accepted| accepted == issuer) {
        return Err("iss is not the admin pool");
    }
    let token_use = string(claims, "token_use")
        .and_then(TokenUse::parse)
        .ok_or("no valid token_use")?;
    if !policy.accepted_token_use.contains(&token_use) {
        return Err("token_use not accepted");
    }

    let expires_at = timestamp(claims, "exp")?.ok_or("no exp")?;
    if now >= expires_at.saturating_add(leeway) {
        return Err("expired");
    }
    if let Some(not_before) = timestamp(claims, "nbf")? {
        if not_before > now.saturating_add(leeway) {
            return Err("not yet valid (nbf)");
        }
    }
    let issued_at = timestamp(claims, "iat")?.ok_or("no iat")?;
    if issued_at > now.saturating_add(leeway) {
        return Err("issued in the future (iat)");
    }
    if now.saturating_sub(issued_at) > policy.max_age.as_secs() {
        return Err("too old (iat)");
    }

    // Strictly by token_use: an ID token's `client_id` or an access token's `aud` means nothing.
    let (client_claim, name_claim) = match token_use {
        TokenUse::Id => ("aud", "cognito:username"),
        TokenUse::Access => ("client_id", "username"),
    };
    let client_id = non_empty(claims, client_claim).ok_or("no app client claim for this token_use")?;
    if !policy.client_ids.allows(client_id) {
        return Err("app client not allowed");
    }
    let username = non_empty(claims, name_claim).ok_or("no username claim for this token_use")?;
    let sub = non_empty(claims, "sub").ok_or("no sub")?;
    let groups = groups(claims)?;

    Ok(VerifiedToken {
        issuer: issuer.to_owned(),
        sub: sub.to_owned(),
        username: username.to_owned(),
        groups,
        client_id: client_id.to_owned(),
        token_use,
        issued_at,
        expires_at,
    })
}

fn string<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims.get(name).and_then(Value::as_str)
}

fn non_empty<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    string(claims, name).filter(|s| !s.is_empty())
}

/// A NumericDate as Cognito writes it: a non-negative integer. Absent is `None`; anything
/// else (a string, a fraction, a negative number) makes the token invalid.
fn timestamp(claims: &Map<String, Value>, name: &'static str) -> Result<Option<u64>, &'static str> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value.as_u64().map(Some).ok_or(match name {
            "exp" => "exp is not an integer",
            "nbf" => "nbf is not an integer",
            _ => "iat is not an integer",
        }),
    }
}

/// `cognito:groups`: absent means no groups; present, it must be an array of valid Cognito
/// group names, so a malformed claim cannot be read two ways by the token and the authorizer.
fn groups(claims: &Map<String, Value>) -> Result<Vec<String>, &'static str> {
    const MALFORMED: &str = "cognito:groups is not an array of group names";
    match claims.get("cognito:groups") {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(name) if is_group_name(name) => Ok(name.clone()),
                _ => Err(MALFORMED),
            })
            .collect(),
        Some(_) => Err(MALFORMED),
    }
}

#[cfg(test)]
mod tests;

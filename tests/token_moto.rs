//! Token verification against moto: the JWKS fetched over HTTP from where moto serves it, real
//! RS256 tokens from `AdminInitiateAuth`, and tokens made with moto's own signing key (shipped in
//! its package resources) with one claim wrong. Also how `HttpJwksFetch` treats answers that
//! are not a JWKS: redirects, errors, oversized bodies, silence.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use admin_set_password::token::jwks::MAX_JWKS_BYTES;
use admin_set_password::token::{
    jwks_url, verify, ClientIds, HttpJwksFetch, JwksCache, JwksFetch, TokenFailure, TokenPolicy, TokenUse,
    VerifiedToken,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};
use support::{Pool, REGION};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn fetcher(url: &str) -> HttpJwksFetch {
    HttpJwksFetch::new(url, Duration::from_secs(2), Duration::from_secs(5))
}

fn policy(pool: &Pool, accepted: Vec<TokenUse>) -> TokenPolicy {
    TokenPolicy {
        issuers: TokenPolicy::issuers_for(REGION, &pool.id),
        accepted_token_use: accepted,
        client_ids: ClientIds::Only(vec![pool.client_id.clone()]),
        max_age: Duration::from_secs(3600),
        leeway: Duration::from_secs(30),
    }
}

/// `(id token, access token)` for `username` from moto's `AdminInitiateAuth`.
async fn sign_in(pool: &Pool, username: &str) -> (String, String) {
    pool.tokens(username).await
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn header_of(token: &str) -> Value {
    let header = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

#[tokio::test]
async fn a_real_moto_id_token_verifies_against_the_jwks_moto_serves() {
    let pool = Pool::seeded().await;
    let (id_token, access_token) = sign_in(&pool, "alice").await;

    // What moto puts in its tokens and where it serves the keys (reported to the lead).
    let url = jwks_url(REGION, &pool.id, Some(&pool.endpoint));
    assert_eq!(url, format!("{}/{}/.well-known/jwks.json", pool.endpoint, pool.id));
    let claims = claims_of(&id_token);
    assert_eq!(
        claims["iss"],
        json!(format!("https://cognito-idp.{REGION}.amazonaws.com/{}", pool.id))
    );
    assert_eq!(
        header_of(&id_token),
        json!({"alg": "RS256", "kid": "dummy", "typ": "JWT"})
    );

    let cache = Arc::new(JwksCache::new(fetcher(&url)));
    cache.start();
    let verified = verify(&id_token, &*cache, &policy(&pool, vec![TokenUse::Id]), now())
        .await
        .expect("moto's ID token verifies");
    assert_eq!(
        verified,
        VerifiedToken {
            issuer: format!("https://cognito-idp.{REGION}.amazonaws.com/{}", pool.id),
            sub: pool.sub("alice").await,
            username: "alice".into(),
            groups: vec!["admins".into()],
            client_id: pool.client_id.clone(),
            token_use: TokenUse::Id,
            issued_at: claims["iat"].as_u64().unwrap(),
            expires_at: claims["exp"].as_u64().unwrap(),
        }
    );
    assert_eq!(
        cache.fetch_count(),
        1,
        "the background fetch served the first verification"
    );

    // The access token: refused unless accepted, then read by client_id and username.
    assert_eq!(
        verify(&access_token, &*cache, &policy(&pool, vec![TokenUse::Id]), now()).await,
        Err(TokenFailure::Invalid("token_use not accepted"))
    );
    let access = verify(&access_token, &*cache, &policy(&pool, vec![TokenUse::Access]), now())
        .await
        .expect("moto's access token verifies when access tokens are accepted");
    assert_eq!(
        (access.username.as_str(), access.client_id.as_str(), access.token_use),
        ("alice", pool.client_id.as_str(), TokenUse::Access)
    );

    // Another app client of the same pool is refused unless ADMIN_CLIENT_IDS is "*".
    let other_client = TokenPolicy {
        client_ids: ClientIds::Only(vec!["another-client".into()]),
        ..policy(&pool, vec![TokenUse::Id])
    };
    assert_eq!(
        verify(&id_token, &*cache, &other_client, now()).await,
        Err(TokenFailure::Invalid("app client not allowed"))
    );
    // Another pool: its issuer is not this pool's.
    let another_pool = TokenPolicy {
        issuers: TokenPolicy::issuers_for(REGION, "us-east-1_Other"),
        ..policy(&pool, vec![TokenUse::Id])
    };
    assert_eq!(
        verify(&id_token, &*cache, &another_pool, now()).await,
        Err(TokenFailure::Invalid("iss is not the admin pool"))
    );
    // Past exp and the leeway by the function's clock.
    assert_eq!(
        verify(&id_token, &*cache, &policy(&pool, vec![TokenUse::Id]), now() + 3700).await,
        Err(TokenFailure::Invalid("expired"))
    );
}

/// moto's signing key (see `support::moto_signing_key`).
fn moto_signing_key() -> EncodingKey {
    EncodingKey::from_rsa_der(&support::moto_signing_key().0)
}

fn sign_with_moto_key(claims: &Value) -> String {
    let header = json!({"kid": "dummy", "alg": "RS256", "typ": "JWT"});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &moto_signing_key(), Algorithm::RS256).unwrap();
    format!("{input}.{signature}")
}

#[tokio::test]
async fn tokens_made_with_motos_key_verify_until_one_claim_is_wrong() {
    let pool = Pool::seeded().await;
    let (id_token, _) = sign_in(&pool, "alice").await;
    let cache = JwksCache::new(fetcher(&jwks_url(REGION, &pool.id, Some(&pool.endpoint))));
    let policy = policy(&pool, vec![TokenUse::Id]);

    let genuine = claims_of(&id_token);
    let remade = sign_with_moto_key(&genuine);
    assert!(
        verify(&remade, &cache, &policy, now()).await.is_ok(),
        "moto's key, re-signing moto's claims, must verify"
    );
    let with = |name: &str, value: Value| {
        let mut claims = genuine.clone();
        claims[name] = value;
        sign_with_moto_key(&claims)
    };
    for (case, token, reason) in [
        (
            "another app client",
            with("aud", json!("self-sign-up")),
            "app client not allowed",
        ),
        (
            "another pool",
            with(
                "iss",
                json!(format!("https://cognito-idp.{REGION}.amazonaws.com/us-east-1_Other")),
            ),
            "iss is not the admin pool",
        ),
        (
            "wrong token_use",
            with("token_use", json!("access")),
            "token_use not accepted",
        ),
        ("too old", with("iat", json!(now() - 3700)), "too old (iat)"),
        ("expired", with("exp", json!(now() - 60)), "expired"),
    ] {
        assert_eq!(
            verify(&token, &cache, &policy, now()).await,
            Err(TokenFailure::Invalid(reason)),
            "{case}"
        );
    }
}

/// A one-connection HTTP server on loopback that answers every request with `response`, or
/// never answers when `response` is `None`.
async fn serve_once(response: Option<Vec<u8>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/pool/.well-known/jwks.json", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 4096];
        let _ = socket.read(&mut request).await;
        match response {
            Some(bytes) => {
                let _ = socket.write_all(&bytes).await;
                let _ = socket.shutdown().await;
            }
            None => tokio::time::sleep(Duration::from_secs(30)).await,
        }
    });
    url
}

#[tokio::test]
async fn http_fetch_accepts_only_a_direct_200_of_bounded_size() {
    let jwks = br#"{"keys":[]}"#;
    let ok = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", jwks.len()).into_bytes();
    let url = serve_once(Some([ok, jwks.to_vec()].concat())).await;
    assert_eq!(fetcher(&url).fetch().await.unwrap(), jwks);

    let redirect =
        b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/jwks.json\r\nContent-Length: 0\r\n\r\n".to_vec();
    let err = fetcher(&serve_once(Some(redirect)).await).fetch().await.unwrap_err();
    assert!(err.ends_with("HTTP 302"), "a redirect is not followed: {err}");

    let not_found = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec();
    let err = fetcher(&serve_once(Some(not_found)).await).fetch().await.unwrap_err();
    assert!(err.ends_with("HTTP 404"), "{err}");

    let big = vec![b' '; MAX_JWKS_BYTES + 1];
    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", big.len()).into_bytes();
    let err = fetcher(&serve_once(Some([head, big].concat())).await)
        .fetch()
        .await
        .unwrap_err();
    assert!(err.contains("body"), "an oversized body is refused: {err}");

    let started = Instant::now();
    let silent = serve_once(None).await;
    let err = HttpJwksFetch::new(&silent, Duration::from_secs(1), Duration::from_millis(500))
        .fetch()
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "bounded by the total timeout: {err}"
    );

    let closed = format!("http://127.0.0.1:{}/jwks.json", support::free_port());
    assert!(fetcher(&closed).fetch().await.is_err());
}

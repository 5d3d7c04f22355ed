//! The cache's rules with a scripted fetcher and a clock the test moves.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;

use super::*;

const SIGNING: &str = include_str!("../testdata/signing-public.jwk.json");
const OTHER: &str = include_str!("../testdata/other-public.jwk.json");

fn entry(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn jwks(entries: &[Value]) -> Result<Vec<u8>, String> {
    Ok(json!({ "keys": entries }).to_string().into_bytes())
}

fn with_kid(text: &str, kid: &str) -> Value {
    let mut key = entry(text);
    key["kid"] = json!(kid);
    key
}

/// Answers each fetch with the next scripted response, after a short pause so that concurrent
/// callers really overlap. An unscripted fetch is a test failure.
struct ScriptedFetch {
    responses: Mutex<VecDeque<Result<Vec<u8>, String>>>,
    calls: Arc<AtomicUsize>,
}

impl ScriptedFetch {
    fn new(responses: Vec<Result<Vec<u8>, String>>) -> (Self, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let fetch = Self {
            responses: Mutex::new(responses.into()),
            calls: Arc::clone(&calls),
        };
        (fetch, calls)
    }
}

impl JwksFetch for ScriptedFetch {
    async fn fetch(&self) -> Result<Vec<u8>, String> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let next = self.responses.lock().unwrap().pop_front();
        next.unwrap_or_else(|| panic!("unexpected fetch number {}", self.calls.load(Ordering::SeqCst)))
    }
}

/// A clock that only moves when the test says so.
#[derive(Clone)]
struct TestClock(Arc<Mutex<Instant>>);

impl TestClock {
    fn new() -> Self {
        Self(Arc::new(Mutex::new(Instant::now())))
    }

    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }

    fn clock(&self) -> Clock {
        let now = Arc::clone(&self.0);
        Arc::new(move || *now.lock().unwrap())
    }
}

fn cache(responses: Vec<Result<Vec<u8>, String>>) -> (Arc<JwksCache<ScriptedFetch>>, Arc<AtomicUsize>, TestClock) {
    let (fetch, calls) = ScriptedFetch::new(responses);
    let clock = TestClock::new();
    (Arc::new(JwksCache::with_clock(fetch, clock.clock())), calls, clock)
}

fn fetches(calls: &AtomicUsize) -> usize {
    calls.load(Ordering::SeqCst)
}

#[tokio::test]
async fn concurrent_first_callers_share_one_fetch() {
    let (cache, calls, _) = cache(vec![jwks(&[entry(SIGNING)])]);
    let (a, b, c) = tokio::join!(cache.key("signing-key"), cache.key("signing-key"), cache.key("unknown"));
    assert!(a.is_ok() && b.is_ok());
    assert_eq!(c.unwrap_err(), KeyError::UnknownKid);
    assert_eq!(fetches(&calls), 1);
}

#[tokio::test]
async fn start_fetches_in_the_background_and_the_first_caller_awaits_that_fetch() {
    let (cache, calls, _) = cache(vec![jwks(&[entry(SIGNING)])]);
    cache.start();
    assert_eq!(fetches(&calls), 0, "start must not fetch on the caller's time");
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(fetches(&calls), 1, "the background fetch is under way");
    assert!(cache.key("signing-key").await.is_ok());
    assert_eq!(fetches(&calls), 1);
    assert_eq!(cache.fetch_count(), 1);
}

#[tokio::test]
async fn a_caller_before_the_background_task_runs_fetches_once_for_both() {
    let (cache, calls, _) = cache(vec![jwks(&[entry(SIGNING)])]);
    cache.start();
    assert!(cache.key("signing-key").await.is_ok());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(fetches(&calls), 1);
}

#[tokio::test]
async fn a_failed_background_fetch_is_retried_once_by_the_first_caller() {
    let (cache, calls, _) = cache(vec![Err("timed out while frozen".into()), jwks(&[entry(SIGNING)])]);
    cache.start();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (a, b) = tokio::join!(cache.key("signing-key"), cache.key("signing-key"));
    assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
    assert_eq!(fetches(&calls), 2, "one retry, shared by both callers");
}

#[tokio::test]
async fn callers_retry_a_failed_background_fetch_only_once() {
    let (cache, calls, _) = cache(vec![Err("timed out while frozen".into()), Err("HTTP 503".into())]);
    cache.start();
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(
        cache.key("signing-key").await.unwrap_err(),
        KeyError::Unavailable("HTTP 503".into())
    );
    assert_eq!(fetches(&calls), 2);
}

#[tokio::test]
async fn no_keys_and_a_failed_fetch_is_unavailable_and_the_next_caller_tries_again() {
    let (cache, calls, _) = cache(vec![Err("connect timeout".into()), jwks(&[entry(SIGNING)])]);
    assert_eq!(
        cache.key("signing-key").await.unwrap_err(),
        KeyError::Unavailable("connect timeout".into())
    );
    assert!(cache.key("signing-key").await.is_ok());
    assert_eq!(fetches(&calls), 2);
}

#[tokio::test]
async fn a_response_without_usable_keys_is_a_failure() {
    let (cache, _, _) = cache(vec![jwks(&[]), Ok(b"<html>".to_vec())]);
    assert!(matches!(cache.key("signing-key").await, Err(KeyError::Unavailable(e)) if e.contains("no usable")));
    assert!(matches!(cache.key("signing-key").await, Err(KeyError::Unavailable(e)) if e.contains("JSON")));
}

#[tokio::test]
async fn keys_are_refetched_after_an_hour_not_before() {
    let (cache, calls, clock) = cache(vec![jwks(&[entry(SIGNING)]), jwks(&[entry(SIGNING)])]);
    assert!(cache.key("signing-key").await.is_ok());
    clock.advance(Duration::from_secs(3599));
    assert!(cache.key("signing-key").await.is_ok());
    assert_eq!(fetches(&calls), 1);
    clock.advance(Duration::from_secs(1));
    assert!(cache.key("signing-key").await.is_ok());
    assert_eq!(fetches(&calls), 2);
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_old_keys_and_retries_at_most_once_a_minute() {
    let (cache, calls, clock) = cache(vec![
        jwks(&[entry(SIGNING)]),
        Err("HTTP 500".into()),
        jwks(&[entry(OTHER)]),
    ]);
    assert!(cache.key("signing-key").await.is_ok());
    clock.advance(KEYS_MAX_AGE);
    assert!(cache.key("signing-key").await.is_ok(), "stale keys still serve");
    assert_eq!(fetches(&calls), 2);
    clock.advance(Duration::from_secs(59));
    assert!(cache.key("signing-key").await.is_ok());
    assert_eq!(fetches(&calls), 2, "no refetch within a minute of the failure");
    clock.advance(Duration::from_secs(1));
    assert!(cache.key("other-key").await.is_ok());
    assert_eq!(
        cache.key("signing-key").await.unwrap_err(),
        KeyError::UnknownKid,
        "the first good refresh after the failures replaces the set"
    );
    assert_eq!(fetches(&calls), 3);
}

#[tokio::test]
async fn a_withdrawn_key_no_longer_verifies_after_the_next_good_refresh() {
    let (cache, calls, clock) = cache(vec![jwks(&[entry(SIGNING), entry(OTHER)]), jwks(&[entry(OTHER)])]);
    let policy = crate::testing::config(&[]).token.expect("API settings").policy;
    let token = crate::testing::id_token("alice", &["admins"]);
    let verify = || crate::token::verify(&token, &cache, &policy, crate::testing::now());
    assert!(verify().await.is_ok(), "signed with the served key A");
    clock.advance(KEYS_MAX_AGE);
    assert_eq!(
        verify().await.unwrap_err(),
        crate::token::TokenFailure::Invalid("no key in the admin pool's JWKS has this kid"),
        "the refresh served only B"
    );
    assert!(cache.key("other-key").await.is_ok(), "B still verifies");
    assert_eq!(fetches(&calls), 2);
}

#[tokio::test]
async fn failed_refreshes_keep_the_old_set_until_a_good_one_replaces_it() {
    let (cache, calls, clock) = cache(vec![
        jwks(&[entry(SIGNING)]),
        Err("HTTP 503".into()),
        Err("connect timeout".into()),
        jwks(&[entry(OTHER)]),
    ]);
    assert!(cache.key("signing-key").await.is_ok());
    clock.advance(KEYS_MAX_AGE);
    assert!(
        cache.key("signing-key").await.is_ok(),
        "stale after its max age, refresh failed"
    );
    clock.advance(REFETCH_INTERVAL);
    assert!(cache.key("signing-key").await.is_ok(), "the next refresh failed too");
    assert_eq!(fetches(&calls), 3);
    clock.advance(REFETCH_INTERVAL);
    assert!(cache.key("other-key").await.is_ok());
    assert_eq!(cache.key("signing-key").await.unwrap_err(), KeyError::UnknownKid);
    assert_eq!(fetches(&calls), 4);
}

#[tokio::test]
async fn a_kid_still_unknown_after_a_failed_refetch_is_unavailable_not_invalid() {
    let (cache, calls, clock) = cache(vec![jwks(&[entry(SIGNING)]), Err("HTTP 503".into())]);
    assert!(cache.key("signing-key").await.is_ok());
    clock.advance(REFETCH_INTERVAL);
    assert_eq!(
        cache.key("other-key").await.unwrap_err(),
        KeyError::Unavailable("HTTP 503".into())
    );
    assert!(cache.key("signing-key").await.is_ok(), "known keys still serve");
    assert_eq!(
        cache.key("other-key").await.unwrap_err(),
        KeyError::UnknownKid,
        "no refetch within a minute"
    );
    assert_eq!(fetches(&calls), 2);
}

#[tokio::test]
async fn a_good_refresh_replaces_a_key_under_the_same_kid() {
    let (cache, _, clock) = cache(vec![jwks(&[entry(SIGNING)]), jwks(&[with_kid(OTHER, "signing-key")])]);
    let other_private = jsonwebtoken::EncodingKey::from_rsa_der(include_bytes!("../testdata/other-private.der"));
    let signature = jsonwebtoken::crypto::sign(b"h.p", &other_private, jsonwebtoken::Algorithm::RS256).unwrap();
    assert!(!cache.key("signing-key").await.unwrap().verifies("h.p", &signature));
    clock.advance(KEYS_MAX_AGE);
    assert!(cache.key("signing-key").await.unwrap().verifies("h.p", &signature));
}

#[tokio::test]
async fn an_unknown_kid_refetches_at_most_once_a_minute() {
    let (cache, calls, clock) = cache(vec![
        jwks(&[entry(SIGNING)]),
        jwks(&[entry(SIGNING), entry(OTHER)]),
        jwks(&[entry(SIGNING), entry(OTHER)]),
    ]);
    assert!(cache.key("signing-key").await.is_ok());
    for _ in 0..5 {
        assert_eq!(cache.key("other-key").await.unwrap_err(), KeyError::UnknownKid);
    }
    assert_eq!(fetches(&calls), 1, "no refetch within a minute of the first fetch");
    clock.advance(REFETCH_INTERVAL);
    assert!(
        cache.key("other-key").await.is_ok(),
        "a rotated-in key is found by the refetch"
    );
    assert_eq!(fetches(&calls), 2);
    for kid in ["forged-1", "forged-2", "forged-3"] {
        assert_eq!(cache.key(kid).await.unwrap_err(), KeyError::UnknownKid);
    }
    assert_eq!(fetches(&calls), 2);
    clock.advance(REFETCH_INTERVAL);
    assert_eq!(cache.key("forged-4").await.unwrap_err(), KeyError::UnknownKid);
    assert_eq!(fetches(&calls), 3);
}

#[test]
fn only_rsa_signing_keys_for_rs256_are_read() {
    let mut no_use = entry(OTHER);
    no_use.as_object_mut().unwrap().remove("use");
    no_use.as_object_mut().unwrap().remove("alg");
    no_use["kid"] = json!("bare");
    let keys = parse_jwks(
        &jwks(&[
            entry(SIGNING),
            no_use,
            with_kid(SIGNING, "").clone(),
            json!({"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"}),
            {
                let mut k = with_kid(SIGNING, "enc");
                k["use"] = json!("enc");
                k
            },
            {
                let mut k = with_kid(SIGNING, "rs512");
                k["alg"] = json!("RS512");
                k
            },
            {
                let mut k = with_kid(SIGNING, "no-n");
                k.as_object_mut().unwrap().remove("n");
                k
            },
            json!({"kty": "RSA", "kid": "oct", "k": "c2VjcmV0"}),
        ])
        .unwrap(),
    )
    .unwrap();
    let mut kids: Vec<_> = keys.keys().map(String::as_str).collect();
    kids.sort_unstable();
    assert_eq!(kids, ["bare", "signing-key"]);
}

#[test]
fn a_kid_listed_twice_is_dropped() {
    let keys = parse_jwks(&jwks(&[entry(SIGNING), with_kid(OTHER, "signing-key"), entry(OTHER)]).unwrap()).unwrap();
    assert_eq!(keys.keys().collect::<Vec<_>>(), ["other-key"]);
}

#[test]
fn malformed_documents_are_refused() {
    for (body, expected) in [
        (&b"not json"[..], "JSON"),
        (b"{\"keys\":{}}", "no \"keys\" array"),
        (b"{\"keys\":[],\"keys\":[]}", "duplicated"),
        (b"\xff", "UTF-8"),
    ] {
        let err = parse_jwks(body).unwrap_err();
        assert!(err.contains(expected), "{body:?}: expected {expected:?} in {err:?}");
    }
}

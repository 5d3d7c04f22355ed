//! The admin pool's signing keys: fetched over HTTP(S) behind a small port, cached so that a
//! warm function verifies tokens without any I/O.
//!
//! Rules: the first fetch starts at init in the background and the first caller
//! awaits it; keys are refreshed after an hour; a good response replaces the whole set, so a
//! key the pool withdrew stops verifying at the next refresh, while a failed one keeps the
//! set it has, so a failing endpoint never empties it; an unknown `kid` (which anyone can put
//! in a token) causes at most one refetch a minute. While the cache holds no key at
//! all, every caller may fetch (one fetch at a time, shared by whoever waits for it): without
//! keys nothing can be verified anyway.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::http::HttpConnector as _;
use aws_smithy_types::body::SdkBody;
use http_body_util::BodyExt as _;
use serde_json::Value;

use super::{KeyError, KeySource, VerifyingKey};
use crate::json;

/// Keys older than this are refetched.
pub const KEYS_MAX_AGE: Duration = Duration::from_secs(3600);
/// At most one fetch per this interval for a `kid` the cache does not know, or to refresh
/// stale keys.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// Cognito's JWKS is about 1 KiB; anything far larger is not a JWKS.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;

/// Where the JWKS document comes from: HTTP in production, a fake in tests.
pub trait JwksFetch {
    /// The raw response body of one fetch, or why there is none (for the log only).
    fn fetch(&self) -> impl Future<Output = Result<Vec<u8>, String>> + Send;
}

/// GET of the JWKS URL through the HTTPS client the SDK clients use (`upstream::https`:
/// hyper + rustls with ring, the same trust roots), so token verification adds no second TLS
/// or crypto stack. Redirects are not followed (the connector never does) and count as
/// failures, like any non-200 answer.
pub struct HttpJwksFetch {
    url: String,
    https: crate::upstream::SharedHttps,
    total_timeout: Duration,
}

impl HttpJwksFetch {
    pub fn new(url: impl Into<String>, connect_timeout: Duration, total_timeout: Duration) -> Self {
        let https = crate::upstream::SharedHttps::with_connect_timeout(connect_timeout);
        Self::with_https(url, https, total_timeout)
    }

    /// On the SDK clients' connector: the JWKS connection is pooled with theirs (over TLS, a
    /// look-up reuses it instead of a handshake of its own) and the root store is built once.
    pub fn with_https(url: impl Into<String>, https: crate::upstream::SharedHttps, total_timeout: Duration) -> Self {
        Self {
            url: url.into(),
            https,
            total_timeout,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    async fn get(&self) -> Result<Vec<u8>, String> {
        let request = http::Request::get(&self.url)
            .body(SdkBody::empty())
            .map_err(|e| format!("JWKS URL {}: {e}", self.url))?;
        let request = aws_smithy_runtime_api::http::Request::try_from(request)
            .map_err(|e| format!("JWKS URL {}: {e}", self.url))?;
        let response = self.https.connector().call(request).await.map_err(|e| {
            format!(
                "GET {}: {}",
                self.url,
                aws_smithy_types::error::display::DisplayErrorContext(&e)
            )
        })?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(format!("GET {}: HTTP {status}", self.url));
        }
        let body = http_body_util::Limited::new(response.into_body(), MAX_JWKS_BYTES);
        let collected = body
            .collect()
            .await
            .map_err(|e| format!("GET {}: body: {e}", self.url))?;
        Ok(collected.to_bytes().to_vec())
    }
}

impl JwksFetch for HttpJwksFetch {
    async fn fetch(&self) -> Result<Vec<u8>, String> {
        match tokio::time::timeout(self.total_timeout, self.get()).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "GET {}: no complete answer within {:?}",
                self.url, self.total_timeout
            )),
        }
    }
}

/// Reads the usable keys of a JWKS document: RSA, `use` "sig" and `alg` "RS256" when present.
/// Other keys are skipped; a `kid` listed twice is dropped (which one would be meant?). A
/// document with no usable key is an error, so it never counts as a good refresh.
pub fn parse_jwks(body: &[u8]) -> Result<HashMap<String, VerifyingKey>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "JWKS is not UTF-8".to_owned())?;
    let document = json::parse_strict(text).map_err(|e| format!("JWKS {e}"))?;
    let entries = document
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| "JWKS has no \"keys\" array".to_owned())?;
    let mut keys = HashMap::new();
    let mut ambiguous = Vec::new();
    for entry in entries {
        let Some((kid, key)) = usable_key(entry) else {
            continue;
        };
        if keys.insert(kid.to_owned(), key).is_some() {
            ambiguous.push(kid);
        }
    }
    for kid in ambiguous {
        keys.remove(kid);
    }
    if keys.is_empty() {
        return Err("JWKS has no usable RS256 signing key".to_owned());
    }
    Ok(keys)
}

fn usable_key(entry: &Value) -> Option<(&str, VerifyingKey)> {
    let field = |name| entry.get(name).and_then(Value::as_str);
    let absent_or = |name, wanted| entry.get(name).is_none() || field(name) == Some(wanted);
    if field("kty") != Some("RSA") || !absent_or("use", "sig") || !absent_or("alg", "RS256") {
        return None;
    }
    let kid = field("kid").filter(|kid| !kid.is_empty())?;
    let key = VerifyingKey::from_rsa_components(field("n")?, field("e")?)?;
    Some((kid, key))
}

/// The time source of the cache, injectable so tests can move the clock.
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// The admin pool's keys, cached, with one fetch at a time shared by everyone who needs it.
pub struct JwksCache<F> {
    fetcher: F,
    clock: Clock,
    state: Mutex<State>,
    /// Held for the duration of a fetch; whoever waited on it re-reads the state after.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    keys: HashMap<String, VerifyingKey>,
    /// When the last good response arrived.
    refreshed_at: Option<Instant>,
    /// When the last fetch (good or not) finished.
    attempted_at: Option<Instant>,
    /// Why the last fetch failed, if it did.
    last_error: Option<String>,
    /// Counts finished fetches, so a waiter can tell that one happened while it waited.
    fetches: u64,
}

impl<F: JwksFetch + Send + Sync + 'static> JwksCache<F> {
    pub fn new(fetcher: F) -> Self {
        Self::with_clock(fetcher, Arc::new(Instant::now))
    }

    pub fn with_clock(fetcher: F, clock: Clock) -> Self {
        Self {
            fetcher,
            clock,
            state: Mutex::new(State::default()),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// Starts the first fetch as a background task, so init does not wait for the network;
    /// the first `key` call awaits it instead of starting another. Needs a tokio runtime.
    pub fn start(self: &Arc<Self>) {
        let seen = self.lock_state().fetches;
        let cache = Arc::clone(self);
        tokio::spawn(async move {
            cache.fetch_unless_done_since(seen).await;
        });
    }

    /// How many fetches have finished (for tests and diagnostics).
    pub fn fetch_count(&self) -> u64 {
        self.lock_state().fetches
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the set half-updated (a good response
        // replaces it in one assignment), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Fetches unless a fetch finished after the caller read `seen`; waits for one in flight.
    /// True if this call did the fetch itself.
    async fn fetch_unless_done_since(&self, seen: u64) -> bool {
        let _fetching = self.fetching.lock().await;
        if self.lock_state().fetches != seen {
            return false;
        }
        let result = self.fetcher.fetch().await.and_then(|body| parse_jwks(&body));
        let now = (self.clock)();
        let mut state = self.lock_state();
        state.fetches += 1;
        state.attempted_at = Some(now);
        match result {
            Ok(keys) => {
                state.keys = keys;
                state.refreshed_at = Some(now);
                state.last_error = None;
            }
            Err(err) => state.last_error = Some(err),
        }
        true
    }

    /// What to do for `kid` with the state as it is: answer now, or fetch first.
    fn lookup(&self, kid: &str) -> Lookup {
        let now = (self.clock)();
        let state = self.lock_state();
        let elapsed = |at: Option<Instant>| at.map(|at| now.saturating_duration_since(at));
        let fresh = elapsed(state.refreshed_at).is_some_and(|age| age < KEYS_MAX_AGE);
        let may_refetch = elapsed(state.attempted_at).is_none_or(|age| age >= REFETCH_INTERVAL);
        match state.keys.get(kid) {
            _ if state.keys.is_empty() => Lookup::Fetch(state.fetches),
            Some(key) if fresh || !may_refetch => Lookup::Done(Ok(key.clone())),
            None if !may_refetch => Lookup::Done(Err(KeyError::UnknownKid)),
            _ => Lookup::Fetch(state.fetches),
        }
    }

    /// After a fetch: the key, or why not. Stale keys still count (never emptied on failure).
    /// A `kid` still unknown after a fetch that failed is "unavailable", not "invalid": the
    /// key may have been rotated in while the endpoint is down, and 503 invites a retry.
    fn after_fetch(&self, kid: &str) -> Result<VerifyingKey, KeyError> {
        let state = self.lock_state();
        match (state.keys.get(kid), &state.last_error) {
            (Some(key), _) => Ok(key.clone()),
            (None, Some(error)) => Err(KeyError::Unavailable(error.clone())),
            (None, None) => Err(KeyError::UnknownKid),
        }
    }
}

enum Lookup {
    Done(Result<VerifyingKey, KeyError>),
    /// Fetch, unless a fetch finishes after this many.
    Fetch(u64),
}

impl<F: JwksFetch + Send + Sync + 'static> KeySource for JwksCache<F> {
    async fn key(&self, kid: &str) -> Result<VerifyingKey, KeyError> {
        match self.lookup(kid) {
            Lookup::Done(result) => result,
            Lookup::Fetch(seen) => {
                let fetched_here = self.fetch_unless_done_since(seen).await;
                let result = self.after_fetch(kid);
                if fetched_here || !matches!(result, Err(KeyError::Unavailable(_))) {
                    return result;
                }
                // The failed fetch was someone else's, typically the one `start` began at init,
                // which may have been frozen with the environment (provisioned concurrency)
                // and timed out on thaw: one attempt on this caller's time before giving up.
                let seen = self.lock_state().fetches;
                self.fetch_unless_done_since(seen).await;
                self.after_fetch(kid)
            }
        }
    }
}

impl<F: JwksFetch + Send + Sync + 'static> KeySource for Arc<JwksCache<F>> {
    async fn key(&self, kid: &str) -> Result<VerifyingKey, KeyError> {
        self.as_ref().key(kid).await
    }
}

#[cfg(test)]
mod tests;

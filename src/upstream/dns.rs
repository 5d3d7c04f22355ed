//! Host name resolution for the HTTPS client: one `getaddrinfo` per host at a time, its answer
//! shared by every connection that asked meanwhile and kept for `KEEP_ANSWER`.
//!
//! Why: a cold API invocation opens five connections to the same Cognito host at once (the
//! JWKS connection is reused by one look-up; the other look-ups and `DescribeUserPool` need
//! their own). hyper's default resolver runs `getaddrinfo` for each on tokio's blocking pool,
//! so a cold start paid for up to five blocking threads and five identical DNS queries. The
//! answer is kept only briefly, so endpoint changes are picked up as quickly as DNS TTLs
//! would allow; failures are never kept.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper_util::client::legacy::connect::dns::Name;
use tokio::sync::OnceCell;

/// How long an answer is reused: long enough for one cold start's connections, short enough
/// to follow DNS changes (AWS endpoints' records live about a minute).
pub const KEEP_ANSWER: Duration = Duration::from_secs(10);

type Answer = Result<Vec<SocketAddr>, Arc<io::Error>>;

struct Lookup {
    started: Instant,
    answer: Arc<OnceCell<Answer>>,
}

/// The shared resolver. Cheap to clone: clones share lookups.
#[derive(Clone, Default)]
pub struct SharedResolver {
    lookups: Arc<Mutex<HashMap<Name, Lookup>>>,
}

impl SharedResolver {
    /// The lookup to join for `name`: the one in flight or recently answered, else a new one.
    fn lookup_for(&self, name: &Name, now: Instant) -> Arc<OnceCell<Answer>> {
        let mut lookups = self.lookups.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        lookups.retain(|_, lookup| now.saturating_duration_since(lookup.started) < KEEP_ANSWER);
        let lookup = lookups.entry(name.clone()).or_insert_with(|| Lookup {
            started: now,
            answer: Arc::new(OnceCell::new()),
        });
        Arc::clone(&lookup.answer)
    }

    /// Forgets a failed lookup, so the next connection asks again.
    fn forget(&self, name: &Name, answer: &Arc<OnceCell<Answer>>) {
        let mut lookups = self.lookups.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if lookups
            .get(name)
            .is_some_and(|lookup| Arc::ptr_eq(&lookup.answer, answer))
        {
            lookups.remove(name);
        }
    }

    /// Resolves `name` with `getaddrinfo` on the blocking pool, once for everyone waiting.
    pub async fn resolve(&self, name: Name) -> io::Result<std::vec::IntoIter<SocketAddr>> {
        let cell = self.lookup_for(&name, Instant::now());
        let answer = cell
            .get_or_init(|| {
                let host = name.as_str().to_owned();
                async move {
                    match tokio::task::spawn_blocking(move || (host.as_str(), 0).to_socket_addrs()).await {
                        Ok(Ok(addrs)) => Ok(addrs.collect()),
                        Ok(Err(err)) => Err(Arc::new(err)),
                        Err(join) => Err(Arc::new(io::Error::other(join))),
                    }
                }
            })
            .await
            .clone();
        match answer {
            Ok(addrs) => Ok(addrs.into_iter()),
            Err(err) => {
                self.forget(&name, &cell);
                Err(io::Error::new(err.kind(), err.to_string()))
            }
        }
    }
}

impl tower_service::Service<Name> for SharedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let resolver = self.clone();
        Box::pin(async move { resolver.resolve(name).await })
    }
}

#[cfg(test)]
mod tests;

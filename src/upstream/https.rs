//! The one HTTPS client under the SDK clients and the JWKS fetch: hyper's pooled HTTP/1.1
//! client on rustls with ring, as an SDK `HttpConnector`.
//!
//! Why our own and not aws-smithy-http-client's: in one interleaved run (30 cold starts each,
//! a loaded 2-core machine) against the SDK's client configured at its best (rustls on ring,
//! the five Amazon Trust Services roots, one connector shared with the JWKS fetch), the cold
//! CPU is the same within noise (6.2 vs 5.9 ms over http, 7.6 vs 7.3 ms over TLS, 5
//! handshakes each), but the SDK's client brings HTTP/2 (h2, offered by ALPN, not optional)
//! and proxy support: 0.22 MB more zip, which this connector keeps under the 2.0 MB target,
//! and 0.6 MB more peak RSS. docs/performance.md, "The HTTP client".
//!
//! Trust anchors: unless `SSL_CERT_FILE` or `SSL_CERT_DIR` is set, the Amazon Trust Services
//! roots compiled in (`amazon_roots`): nothing to read or parse at start-up. When either is
//! set (a local TLS emulator's CA, an inspecting proxy), exactly what they name is trusted.
//!
//! Failures are classified as the SDK's connector does (timeout, I/O, our request, other), so
//! the orchestrator's retries and `directory::sdk_errors::map_sdk_error` see the same kinds.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{HttpConnector, HttpConnectorFuture};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;

use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

type BoxError = Box<dyn StdError + Send + Sync>;
type Tls = hyper_rustls::HttpsConnector<TcpConnector>;

/// Where the trust anchors came from, for the log line and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootSource {
    /// Amazon Trust Services' roots, compiled into the binary (`amazon_roots`).
    Embedded,
    /// The PEM files `SSL_CERT_FILE` / `SSL_CERT_DIR` name.
    Environment,
}

/// The trust anchors: the PEM files `SSL_CERT_FILE` and `SSL_CERT_DIR` (`:`-separated
/// directories) name when either is set, read as `rustls-native-certs` reads them; else the
/// embedded Amazon Trust Services roots. `lookup` is the environment, injectable for tests.
pub fn root_store(lookup: impl Fn(&str) -> Option<String>) -> (rustls::RootCertStore, RootSource) {
    let file = lookup("SSL_CERT_FILE").filter(|value| !value.is_empty());
    let dirs = lookup("SSL_CERT_DIR").filter(|value| !value.is_empty());
    if file.is_none() && dirs.is_none() {
        let roots = rustls::RootCertStore {
            roots: amazon_roots::AMAZON_TRUST_SERVICES.to_vec(),
        };
        return (roots, RootSource::Embedded);
    }
    let file = file.map(PathBuf::from);
    let dirs: Vec<PathBuf> = dirs.iter().flat_map(std::env::split_paths).collect();
    let results = std::iter::once(rustls_native_certs::load_certs_from_paths(file.as_deref(), None)).chain(
        dirs.iter()
            .map(|dir| rustls_native_certs::load_certs_from_paths(None, Some(dir))),
    );
    let mut loaded = Vec::new();
    for result in results {
        for error in &result.errors {
            tracing::warn!(error = %error, "a certificate file named by SSL_CERT_FILE/SSL_CERT_DIR could not be read");
        }
        loaded.extend(result.certs);
    }
    let mut roots = rustls::RootCertStore::empty();
    let (_, unparsable) = roots.add_parsable_certificates(loaded);
    if unparsable > 0 {
        tracing::warn!(unparsable, "certificates from SSL_CERT_FILE/SSL_CERT_DIR skipped");
    }
    if roots.is_empty() {
        // Every TLS connection will then fail as untrusted (503 UpstreamError), which is what
        // a wrong SSL_CERT_FILE deserves; falling back to other roots would hide the mistake.
        tracing::error!("SSL_CERT_FILE/SSL_CERT_DIR is set but yields no certificate: nothing is trusted");
    }
    (roots, RootSource::Environment)
}

/// A pooled HTTP/1.1 client over TLS (or plain HTTP for a local `http://` endpoint) whose
/// connecting — TCP and the TLS handshake together — is bounded by `connect_timeout`.
/// Operation and attempt timeouts are the SDK orchestrator's.
#[derive(Clone)]
pub struct HttpsConnector {
    client: Client<ConnectTimeout, SdkBody>,
}

impl fmt::Debug for HttpsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HttpsConnector")
    }
}

impl HttpsConnector {
    pub fn new(roots: rustls::RootCertStore, connect_timeout: Duration) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        // ALPN is left to the builder: `enable_http1` offers exactly "http/1.1".
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports TLS 1.2 and 1.3")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut tcp = TcpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        let tls = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        let client = Client::builder(TokioExecutor::new())
            // Needed for the pool's idle timeout to work at all.
            .pool_timer(TokioTimer::new())
            .build(ConnectTimeout {
                inner: tls,
                timeout: connect_timeout,
            });
        Self { client }
    }
}

impl HttpConnector for HttpsConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(err) => return HttpConnectorFuture::ready(Err(ConnectorError::user(err.into()))),
        };
        let response = self.client.request(request);
        HttpConnectorFuture::new(async move {
            match response.await {
                Ok(response) => HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                    .map_err(|err| ConnectorError::other(err.into(), None)),
                Err(err) => Err(classify(err.into())),
            }
        })
    }
}

/// Connecting (TCP connect and TLS handshake) took longer than the connect timeout.
#[derive(Debug)]
pub struct ConnectTimedOut(Duration);

impl fmt::Display for ConnectTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no connection within {:?}", self.0)
    }
}

impl StdError for ConnectTimedOut {}

/// The TLS connector with the whole connect bounded in time.
#[derive(Clone)]
struct ConnectTimeout {
    inner: Tls,
    timeout: Duration,
}

type Connecting =
    Pin<Box<dyn Future<Output = Result<<Tls as tower_service::Service<http::Uri>>::Response, BoxError>> + Send>>;

impl tower_service::Service<http::Uri> for ConnectTimeout {
    type Response = <Tls as tower_service::Service<http::Uri>>::Response;
    type Error = BoxError;
    type Future = Connecting;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let timeout = self.timeout;
        let connecting = self.inner.call(uri);
        Box::pin(async move {
            match tokio::time::timeout(timeout, connecting).await {
                Ok(result) => result,
                Err(_) => Err(Box::new(ConnectTimedOut(timeout)) as BoxError),
            }
        })
    }
}

/// The SDK's classification of a failed exchange (aws-smithy-http-client's `downcast_error`):
/// timeouts, then our own malformed requests, then anything that is I/O underneath (refused,
/// reset, closed: retryable), then a truncated answer (transient), then the rest.
fn classify(err: BoxError) -> ConnectorError {
    if find::<ConnectTimedOut>(err.as_ref()).is_some() {
        return ConnectorError::timeout(err);
    }
    if let Some(hyper_err) = find::<hyper::Error>(err.as_ref()) {
        if hyper_err.is_timeout() {
            return ConnectorError::timeout(err);
        }
        if hyper_err.is_user() {
            return ConnectorError::user(err);
        }
        if hyper_err.is_closed() || hyper_err.is_canceled() || find::<std::io::Error>(hyper_err).is_some() {
            return ConnectorError::io(err);
        }
        if hyper_err.is_incomplete_message() {
            return ConnectorError::other(err, Some(ErrorKind::TransientError));
        }
        return ConnectorError::other(err, None);
    }
    if let Some(client_err) = find::<hyper_util::client::legacy::Error>(err.as_ref()) {
        if client_err.is_connect() || find::<std::io::Error>(client_err).is_some() {
            return ConnectorError::io(err);
        }
    }
    ConnectorError::other(err, None)
}

fn find<'a, E: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    std::iter::successors(Some(err), |&err| err.source()).find_map(|err| err.downcast_ref::<E>())
}

mod amazon_roots;
#[cfg(test)]
mod tests;

use super::*;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
}

#[test]
fn without_ssl_cert_variables_the_embedded_amazon_roots_are_used_as_is() {
    let (roots, source) = root_store(env(&[]));
    assert_eq!(source, RootSource::Embedded);
    assert_eq!(roots.roots, amazon_roots::AMAZON_TRUST_SERVICES);
    // Empty values count as unset, as for the other variables.
    let (_, source) = root_store(env(&[("SSL_CERT_FILE", ""), ("SSL_CERT_DIR", "")]));
    assert_eq!(source, RootSource::Embedded);
}

/// The five anchors are Mozilla's entries for Amazon Trust Services' roots, byte for byte.
#[test]
fn the_embedded_roots_are_the_amazon_trust_services_entries_of_webpki_roots() {
    let amazon = |anchor: &&rustls::pki_types::TrustAnchor<'_>| {
        let subject = String::from_utf8_lossy(anchor.subject.as_ref()).into_owned();
        subject.contains("Amazon Root CA ") || subject.contains("Starfield Services Root Certificate Authority - G2")
    };
    let expected: Vec<_> = webpki_roots::TLS_SERVER_ROOTS.iter().filter(amazon).collect();
    let embedded: Vec<_> = amazon_roots::AMAZON_TRUST_SERVICES.iter().collect();
    assert_eq!(expected.len(), 5);
    for anchor in &embedded {
        assert!(expected.contains(anchor), "{anchor:?} is not a webpki-roots entry");
    }
    assert_eq!(embedded.len(), expected.len());
}

#[test]
fn a_set_ssl_cert_file_is_trusted_exactly_and_never_mixed_with_the_embedded_roots() {
    let dir = std::env::temp_dir().join(format!("https-roots-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("missing.pem");
    let lookup = {
        let missing = missing.to_string_lossy().into_owned();
        move |name: &str| (name == "SSL_CERT_FILE").then(|| missing.clone())
    };
    let (roots, source) = root_store(lookup);
    assert_eq!(source, RootSource::Environment);
    assert!(
        roots.is_empty(),
        "a wrong SSL_CERT_FILE must trust nothing, not fall back"
    );
    // The system bundle, where this machine has one, loads as the environment's.
    let system = "/etc/ssl/certs/ca-certificates.crt";
    if std::path::Path::new(system).exists() {
        let (roots, source) = root_store(move |name| (name == "SSL_CERT_FILE").then(|| system.to_owned()));
        assert_eq!(source, RootSource::Environment);
        assert!(roots.len() > 50, "{} roots from {system}", roots.len());
    }
    // SSL_CERT_DIR is a `:`-separated list; a missing entry is skipped, a real one is read.
    if std::path::Path::new("/etc/ssl/certs").is_dir() {
        let (roots, source) =
            root_store(|name| (name == "SSL_CERT_DIR").then(|| "/nonexistent:/etc/ssl/certs".to_owned()));
        assert_eq!(source, RootSource::Environment);
        assert!(roots.len() > 50, "{} roots from /etc/ssl/certs", roots.len());
    }
}

fn connector(timeout: Duration) -> HttpsConnector {
    HttpsConnector::new(root_store(env(&[])).0, timeout)
}

fn get(url: &str) -> HttpRequest {
    let request = http::Request::get(url).body(SdkBody::empty()).unwrap();
    HttpRequest::try_from(request).unwrap()
}

#[tokio::test]
async fn answers_over_plain_http_and_reuses_the_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        for _ in 0..2 {
            let mut buf = vec![0u8; 4096];
            let n = socket.read(&mut buf).await.unwrap();
            assert!(buf[..n].starts_with(b"GET /keys HTTP/1.1\r\n"));
            socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
                .await
                .unwrap();
        }
    });
    let connector = connector(Duration::from_secs(2));
    for _ in 0..2 {
        let response = connector.call(get(&format!("http://{addr}/keys"))).await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let body = http_body_util::BodyExt::collect(response.into_body()).await.unwrap();
        assert_eq!(&body.to_bytes()[..], b"{}");
    }
    // Both requests on the one accepted connection: the pool works.
    server.await.unwrap();
}

#[tokio::test]
async fn a_refused_connection_is_io_so_the_sdk_retries_it() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = connector(Duration::from_secs(2))
        .call(get(&format!("http://{addr}/")))
        .await
        .unwrap_err();
    assert!(err.is_io(), "{err:?}");
}

#[tokio::test]
async fn a_tls_handshake_that_never_finishes_is_a_connect_timeout() {
    // Accepts TCP and then says nothing: the connect timeout covers the TLS handshake too.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let _server = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(socket);
    });
    let started = std::time::Instant::now();
    let err = connector(Duration::from_millis(200))
        .call(get(&format!("https://localhost:{}/", addr.port())))
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// A server that reads one request (or ClientHello), writes `answer`, and hangs up.
async fn answer_once_and_close(answer: &'static [u8]) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        let _ = socket.read(&mut buf).await;
        let _ = socket.write_all(answer).await;
    });
    addr
}

#[tokio::test]
async fn a_connection_closed_before_the_answer_is_retryable() {
    let addr = answer_once_and_close(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{").await;
    let connector = connector(Duration::from_secs(2));
    match connector.call(get(&format!("http://{addr}/"))).await {
        // The head arrived: the truncation shows when the body is read.
        Ok(response) => {
            let body = http_body_util::BodyExt::collect(response.into_body()).await;
            assert!(body.is_err());
        }
        Err(err) => assert!(err.is_io() || err.is_other(), "{err:?}"),
    }
}

#[tokio::test]
async fn a_server_that_does_not_speak_tls_is_refused_without_sending_the_request() {
    // The handshake fails (the ClientHello is answered in plain HTTP), so nothing is sent in
    // the clear. (tests/token_https.rs covers a trusted local CA via SSL_CERT_FILE.)
    let addr = answer_once_and_close(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
    let err = connector(Duration::from_secs(2))
        .call(get(&format!("https://localhost:{}/", addr.port())))
        .await
        .unwrap_err();
    assert!(!err.is_timeout() && !err.is_user(), "{err:?}");
}

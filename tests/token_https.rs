//! `HttpJwksFetch` over HTTPS: the SDK's rustls (ring) stack with the system's root store,
//! which `SSL_CERT_FILE` replaces here by a test CA. `openssl s_server` serves the JWKS with a
//! certificate for `localhost` issued by that CA. One test in this binary, because the root
//! store is loaded once per process.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use admin_set_password::token::{HttpJwksFetch, JwksCache, JwksFetch, KeySource};

/// Kills the server it holds when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl (the test makes its CA and server with it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn work_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/test-artifacts/tls")
        .join(std::process::id().to_string());
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A CA and a `localhost` server certificate it issued (a self-signed leaf would be a CA used
/// as an end entity, which webpki refuses).
fn make_certificates(dir: &Path) {
    openssl(
        dir,
        &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
            .into_iter()
            .chain(["-subj", "/CN=token test CA", "-keyout", "ca.key", "-out", "ca.pem"])
            .collect::<Vec<_>>(),
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "san.ext",
            "-out",
            "server.pem",
        ],
    );
}

fn start_server(dir: &Path) -> (Server, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("openssl")
        .args(["s_server", "-quiet", "-WWW", "-accept", &format!("127.0.0.1:{port}")])
        .args(["-cert", "server.pem", "-key", "server.key"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start openssl s_server");
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "openssl s_server did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, port)
}

#[tokio::test]
async fn the_jwks_is_fetched_over_verified_tls() {
    let dir = work_dir();
    make_certificates(&dir);
    std::fs::write(
        dir.join("jwks.json"),
        format!(
            r#"{{"keys":[{}]}}"#,
            include_str!("../src/token/testdata/signing-public.jwk.json")
        ),
    )
    .unwrap();
    // Before any connector exists: the SDK's stack reads the root store once per process.
    std::env::set_var("SSL_CERT_FILE", dir.join("ca.pem"));
    let (_server, port) = start_server(&dir);
    let fetch = |host: &str| {
        HttpJwksFetch::new(
            format!("https://{host}:{port}/jwks.json"),
            Duration::from_secs(2),
            Duration::from_secs(5),
        )
    };

    let body = fetch("localhost")
        .fetch()
        .await
        .expect("HTTPS with a certificate the roots trust");
    assert!(String::from_utf8_lossy(&body).contains("signing-key"));

    let cache = JwksCache::new(fetch("localhost"));
    assert!(
        cache.key("signing-key").await.is_ok(),
        "the cache reads keys fetched over HTTPS"
    );

    let err = fetch("127.0.0.1")
        .fetch()
        .await
        .expect_err("a certificate for another name");
    assert!(
        err.to_lowercase().contains("certificate"),
        "refused for the certificate's name: {err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

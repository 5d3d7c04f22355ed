//! Cognito faults, with a tiny local HTTP server standing in for Cognito (via the SDK's
//! endpoint URL): throttling, server faults, silence and a closed port. Each must end in the
//! documented error, with an audit line, well inside the Lambda timeout.

mod support;

use std::io::BufReader;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use admin_set_password::Config;
use serde_json::{json, Value};
use support::http::{read_request, write_response};
use support::{free_port, Harness};

const POOL: &str = "us-east-1_Example";

/// How the fake Cognito answers every request.
#[derive(Clone, Copy)]
enum Behaviour {
    /// HTTP 400 with `TooManyRequestsException`.
    Throttle,
    /// HTTP 500 with `InternalErrorException`.
    InternalError,
    /// Accepts, reads, and never answers.
    Silent,
}

/// Starts the fake on a free loopback port; returns its endpoint and a request counter.
fn fake_cognito(behaviour: Behaviour) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let counter = counter.clone();
            std::thread::spawn(move || serve(stream, behaviour, &counter));
        }
    });
    (endpoint, requests)
}

fn serve(stream: TcpStream, behaviour: Behaviour, requests: &AtomicUsize) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    while read_request(&mut reader).is_some() {
        requests.fetch_add(1, Ordering::SeqCst);
        let (status, error_type) = match behaviour {
            Behaviour::Throttle => ("400 Bad Request", "TooManyRequestsException"),
            Behaviour::InternalError => ("500 Internal Server Error", "InternalErrorException"),
            Behaviour::Silent => {
                std::thread::sleep(Duration::from_secs(60));
                return;
            }
        };
        let body = format!(r#"{{"__type":"{error_type}","message":"injected by the test"}}"#);
        let headers = [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amzn-errortype", error_type),
        ];
        if !write_response(&mut writer, status, &headers, body.as_bytes()) {
            return;
        }
    }
}

fn config() -> Config {
    Config::from_lookup(|k| match k {
        "USER_POOL_ID" => Some(POOL.into()),
        "ADMIN_GROUPS" => Some("admins,helpdesk".into()),
        "COGNITO_WARMUP" => Some("false".into()),
        _ => None,
    })
    .unwrap()
}

fn rest_event() -> Value {
    serde_json::from_str(&support::sample("rest-set-temporary")).unwrap()
}

#[tokio::test]
async fn throttling_after_bounded_retries_is_429_with_retry_after() {
    let (endpoint, requests) = fake_cognito(Behaviour::Throttle);
    let mut h = Harness::new("fault_throttle", &endpoint, config()).await;
    let run = h.invoke(&rest_event()).await;
    let (status, body) = run.api();
    assert_eq!((status, body["error"]["code"].as_str()), (429, Some("TooManyRequests")));
    assert_eq!(run.response.as_ref().unwrap()["headers"]["retry-after"], "2");
    // Three concurrent look-ups, each retried at most COGNITO_MAX_ATTEMPTS (3) times.
    let seen = requests.load(Ordering::SeqCst);
    assert!((3..=9).contains(&seen), "expected bounded retries, saw {seen} requests");

    let run = h
        .invoke(&json!({"username": "bob", "password": "Direct-Passw0rd!2026"}))
        .await;
    assert_eq!(run.error_type(), "TooManyRequests");
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn cognito_internal_errors_are_502() {
    let (endpoint, _) = fake_cognito(Behaviour::InternalError);
    let mut h = Harness::new("fault_internal", &endpoint, config()).await;
    let run = h.invoke(&rest_event()).await;
    let (status, body) = run.api();
    assert_eq!((status, body["error"]["code"].as_str()), (502, Some("UpstreamError")));
    assert!(
        !body.to_string().contains("injected"),
        "upstream detail must not reach the caller: {body}"
    );
    assert!(run.audit["detail"].as_str().unwrap().contains("InternalErrorException"));
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn a_silent_cognito_times_out_in_under_ten_seconds() {
    let (endpoint, _) = fake_cognito(Behaviour::Silent);
    let mut h = Harness::new("fault_silent", &endpoint, config()).await;
    let started = Instant::now();
    let run = h.invoke(&rest_event()).await;
    let elapsed = started.elapsed();
    let (status, body) = run.api();
    assert_eq!((status, body["error"]["code"].as_str()), (504, Some("UpstreamError")));
    // A functional bound from the issue (the caller must get an answer, and Lambda's timeout
    // must not fire first), not a performance measurement.
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert_eq!(run.audit["outcome"], "failed");
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn an_unreachable_cognito_is_503() {
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let mut h = Harness::new("fault_unreachable", &endpoint, config()).await;
    let run = h.invoke(&rest_event()).await;
    let (status, body) = run.api();
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("UpstreamError")),
        "{:?}",
        run.audit
    );
    h.assert_no_secret_leaked();
}

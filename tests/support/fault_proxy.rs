//! A fault-injecting HTTP front between the function and moto: every request is forwarded to
//! moto and moto's answer passed back, except where the program says to inject a fault, either
//! before the request reaches moto (moto never sees it) or after moto answered (moto's state
//! changed, the answer is lost or spoiled). The operation is the `X-Amz-Target` suffix
//! ("AdminSetUserPassword", "GetSecretValue").
//!
//! What it cannot model: anything below HTTP. The function talks plain HTTP to it, so TLS
//! failures (handshake, alerts, certificates) never happen, and a connect-level fault (refused,
//! connect timeout, DNS) would hit the front itself, not one operation: those are covered by
//! `tests/faults.rs` (an unreachable endpoint) and the unit tests of the SDK error mapping.

use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::http::{read_request, Request};

/// One way an answer goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The answer comes `latency` late (beyond the attempt timeout), then normally.
    Latency,
    /// HTTP 500 with the service's internal-error type.
    InternalError,
    /// HTTP 503 `ServiceUnavailable`.
    Unavailable,
    /// HTTP 400 with the service's throttling type.
    Throttled,
    /// Part of an answer, then a TCP reset.
    Reset,
    /// HTTP 200 whose body stops half-way (the connection closes before `content-length`).
    Truncated200,
    /// HTTP 200 whose body is not JSON.
    NonJson200,
    /// No answer, ever (every request of the operation, so retries hang too).
    Hang,
}

impl Fault {
    pub const ALL: [Fault; 8] = [
        Fault::Latency,
        Fault::InternalError,
        Fault::Unavailable,
        Fault::Throttled,
        Fault::Reset,
        Fault::Truncated200,
        Fault::NonJson200,
        Fault::Hang,
    ];

    /// Whether the fault answers HTTP 200 (before moto, a forged success).
    pub fn is_a_200(self) -> bool {
        matches!(self, Fault::Truncated200 | Fault::NonJson200)
    }
}

/// Where the fault strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Before the request reaches moto: moto never sees it (with `Latency`, it sees it late).
    Before,
    /// After moto answered: its state changed, the caller gets the fault.
    After,
}

/// What the front does with one request.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    /// Forward to moto, pass its answer back.
    Forward,
    /// Inject this fault at this phase.
    Inject(Fault, Phase),
    /// Answer with this status and AWS JSON error type without forwarding.
    Refuse(u16, &'static str),
}

/// The front's program: the operation and how many requests of it came before (0 for the
/// first), to what to do.
pub type Program = Arc<dyn Fn(&str, usize) -> Action + Send + Sync>;

/// A running front.
pub struct FaultProxy {
    pub endpoint: String,
    seen: Arc<Mutex<Vec<String>>>,
    /// Requests accepted and not yet decided: forwarded to moto, answered, or dropped.
    pending: Arc<AtomicUsize>,
}

struct Shared {
    upstream: String,
    program: Program,
    latency: Duration,
    seen: Arc<Mutex<Vec<String>>>,
    pending: Arc<AtomicUsize>,
}

impl FaultProxy {
    /// A front for `upstream` ("127.0.0.1:port" or "http://127.0.0.1:port"); `latency` is how
    /// late `Fault::Latency` answers.
    pub fn start(upstream: &str, latency: Duration, program: Program) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let pending = Arc::new(AtomicUsize::new(0));
        let shared = Arc::new(Shared {
            upstream: upstream.trim_start_matches("http://").to_owned(),
            program,
            latency,
            seen: seen.clone(),
            pending: pending.clone(),
        });
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        Self {
            endpoint,
            seen,
            pending,
        }
    }

    /// Every operation asked for, in arrival order.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// How many requests of `operation` arrived.
    pub fn count(&self, operation: &str) -> usize {
        self.seen().iter().filter(|o| *o == operation).count()
    }

    /// Waits until every request that will ever reach moto has (a late `Latency` forward
    /// included), so moto's state can be read as final.
    pub fn settle(&self, within: Duration) {
        let deadline = Instant::now() + within;
        while self.pending.load(Ordering::SeqCst) > 0 {
            assert!(Instant::now() < deadline, "the fault front did not settle");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn serve(stream: TcpStream, shared: &Shared) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut client = stream;
    while let Some(request) = read_request(&mut reader) {
        let target = request.header("x-amz-target").unwrap_or_default();
        let operation = target.rsplit('.').next().unwrap_or_default().to_owned();
        let nth = {
            let mut seen = shared.seen.lock().unwrap();
            let nth = seen.iter().filter(|o| **o == operation).count();
            seen.push(operation.clone());
            nth
        };
        shared.pending.fetch_add(1, Ordering::SeqCst);
        let decided = || {
            shared.pending.fetch_sub(1, Ordering::SeqCst);
        };
        let secrets = target.starts_with("secretsmanager.");
        let keep_going = match (shared.program)(&operation, nth) {
            Action::Forward => {
                let answer = forward(&shared.upstream, &request);
                decided();
                client.write_all(&answer.encode()).is_ok()
            }
            Action::Refuse(status, error_type) => {
                decided();
                client.write_all(&error_answer(status, error_type).encode()).is_ok()
            }
            Action::Inject(fault, Phase::Before) => {
                if fault == Fault::Latency {
                    std::thread::sleep(shared.latency);
                    let answer = forward(&shared.upstream, &request);
                    decided();
                    let _ = client.write_all(&answer.encode());
                    false
                } else {
                    decided();
                    let fake = Answer {
                        status: 200,
                        headers: vec![("content-type".into(), "application/x-amz-json-1.1".into())],
                        body: br#"{"Unrelated":"an answer moto never gave"}"#.to_vec(),
                    };
                    inject(fault, &fake, secrets, &mut client, shared.latency)
                }
            }
            Action::Inject(fault, Phase::After) => {
                let answer = forward(&shared.upstream, &request);
                decided();
                inject(fault, &answer, secrets, &mut client, shared.latency)
            }
        };
        if !keep_going {
            return;
        }
    }
}

/// Writes `fault` to the client in place of `answer`; whether the connection stays usable.
fn inject(fault: Fault, answer: &Answer, secrets: bool, client: &mut TcpStream, latency: Duration) -> bool {
    match fault {
        Fault::Latency => {
            std::thread::sleep(latency);
            let _ = client.write_all(&answer.encode());
            false
        }
        Fault::InternalError => {
            let error_type = if secrets {
                "InternalServiceError"
            } else {
                "InternalErrorException"
            };
            client.write_all(&error_answer(500, error_type).encode()).is_ok()
        }
        Fault::Unavailable => client
            .write_all(&error_answer(503, "ServiceUnavailable").encode())
            .is_ok(),
        Fault::Throttled => {
            let error_type = if secrets {
                "ThrottlingException"
            } else {
                "TooManyRequestsException"
            };
            client.write_all(&error_answer(400, error_type).encode()).is_ok()
        }
        Fault::Reset => {
            let bytes = answer.encode();
            let _ = client.write_all(&bytes[..bytes.len() / 2]);
            reset(client);
            false
        }
        Fault::Truncated200 => {
            let mut head = Answer {
                status: 200,
                ..answer.clone()
            }
            .head(answer.body.len() + 16);
            head.extend_from_slice(&answer.body[..answer.body.len() / 2]);
            let _ = client.write_all(&head);
            let _ = client.shutdown(Shutdown::Both);
            false
        }
        Fault::NonJson200 => {
            let garbage = Answer {
                status: 200,
                headers: vec![("content-type".into(), "text/html".into())],
                body: b"<html><body>502 Bad Gateway</body></html>".to_vec(),
            };
            client.write_all(&garbage.encode()).is_ok()
        }
        Fault::Hang => {
            std::thread::sleep(Duration::from_secs(60));
            false
        }
    }
}

/// Closes with a TCP RST (SO_LINGER 0) rather than a FIN.
fn reset(stream: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            std::ptr::addr_of!(linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn head(&self, content_length: usize) -> Vec<u8> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("content-length: {content_length}\r\n\r\n"));
        head.into_bytes()
    }

    fn encode(&self) -> Vec<u8> {
        let mut bytes = self.head(self.body.len());
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

fn error_answer(status: u16, error_type: &str) -> Answer {
    Answer {
        status,
        headers: vec![
            ("content-type".into(), "application/x-amz-json-1.1".into()),
            ("x-amzn-errortype".into(), error_type.into()),
        ],
        body: format!(r#"{{"__type":"{error_type}","message":"injected by the fault front"}}"#).into_bytes(),
    }
}

/// Sends `request` to moto on a fresh connection and reads its whole answer.
fn forward(upstream: &str, request: &Request) -> Answer {
    let mut moto = TcpStream::connect(upstream).expect("moto accepts connections");
    let mut head = format!("{} {} HTTP/1.1\r\n", request.method, request.path);
    for (name, value) in &request.headers {
        if name != "connection" {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str("connection: close\r\n\r\n");
    moto.write_all(head.as_bytes()).unwrap();
    moto.write_all(&request.body).unwrap();
    let mut raw = Vec::new();
    moto.read_to_end(&mut raw).expect("moto answers");
    parse_answer(&raw)
}

fn parse_answer(raw: &[u8]) -> Answer {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer from moto");
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut headers = Vec::new();
    let mut content_length = None;
    for line in lines {
        let (name, value) = line.split_once(':').unwrap();
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_owned());
        match name.as_str() {
            "content-length" => content_length = value.parse::<usize>().ok(),
            "transfer-encoding" => panic!("moto answered with transfer-encoding {value}"),
            "connection" | "date" | "server" => {}
            _ => headers.push((name, value)),
        }
    }
    let body = &raw[split + 4..];
    let body = content_length.map_or(body, |n| &body[..n.min(body.len())]).to_vec();
    Answer { status, headers, body }
}

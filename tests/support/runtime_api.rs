//! A local stand-in for the Lambda Runtime API, so tests can run the real release binary as
//! Lambda would: it hands out queued events on `GET .../invocation/next` and records what
//! comes back on `.../response`, `.../error` and `.../init/error`.

use std::collections::VecDeque;
use std::io::BufReader;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::http::{read_request, write_response};

/// What the function answered for one invocation.
#[derive(Debug, Clone)]
pub enum Answer {
    Response(serde_json::Value),
    Error(serde_json::Value),
}

#[derive(Default)]
struct State {
    queue: VecDeque<(String, String)>,
    answers: Vec<(String, Answer)>,
    init_error: Option<String>,
}

#[derive(Clone, Default)]
pub struct RuntimeApi {
    state: Arc<(Mutex<State>, Condvar)>,
    pub address: String,
}

impl RuntimeApi {
    /// Starts serving on a free loopback port with `events` as (request id, payload) pairs.
    pub fn start(events: Vec<(String, String)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let api = Self {
            state: Arc::new((
                Mutex::new(State {
                    queue: events.into(),
                    ..State::default()
                }),
                Condvar::new(),
            )),
            address: listener.local_addr().unwrap().to_string(),
        };
        let server = api.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let server = server.clone();
                std::thread::spawn(move || server.serve(stream));
            }
        });
        api
    }

    fn serve(&self, stream: TcpStream) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        while let Some(request) = read_request(&mut reader) {
            let (lock, changed) = &*self.state;
            let path = request.path.trim_start_matches("/2018-06-01/runtime/");
            if request.method == "GET" && path == "invocation/next" {
                let next = lock.lock().unwrap().queue.pop_front();
                let Some((id, payload)) = next else {
                    // Nothing left: hold the call, as Lambda does between invocations.
                    std::thread::sleep(Duration::from_secs(3600));
                    return;
                };
                let deadline = (std::time::SystemTime::now() + Duration::from_secs(15))
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_millis()
                    .to_string();
                let headers = [
                    ("content-type", "application/json"),
                    ("lambda-runtime-aws-request-id", id.as_str()),
                    ("lambda-runtime-deadline-ms", deadline.as_str()),
                    (
                        "lambda-runtime-invoked-function-arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:admin-set-password",
                    ),
                    (
                        "lambda-runtime-trace-id",
                        "Root=1-00000000-000000000000000000000000;Sampled=0",
                    ),
                ];
                write_response(&mut writer, "200 OK", &headers, payload.as_bytes());
                continue;
            }
            let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or(serde_json::Value::Null);
            let mut state = lock.lock().unwrap();
            if path == "init/error" {
                state.init_error = Some(body.to_string());
            } else if let Some(rest) = path.strip_prefix("invocation/") {
                let (id, kind) = rest.split_once('/').unwrap_or((rest, ""));
                let answer = if kind == "error" {
                    Answer::Error(body)
                } else {
                    Answer::Response(body)
                };
                state.answers.push((id.to_owned(), answer));
            }
            changed.notify_all();
            drop(state);
            write_response(
                &mut writer,
                "202 Accepted",
                &[("content-type", "application/json")],
                b"{}",
            );
        }
    }

    /// Waits until `count` answers are in (or the time is up) and returns them in order.
    pub fn wait_for_answers(&self, count: usize, within: Duration) -> Vec<(String, Answer)> {
        let (lock, changed) = &*self.state;
        let state = lock.lock().unwrap();
        let (state, _) = changed
            .wait_timeout_while(state, within, |s| s.answers.len() < count)
            .unwrap();
        state.answers.clone()
    }

    pub fn init_error(&self) -> Option<String> {
        self.state.0.lock().unwrap().init_error.clone()
    }
}

//! The real binary under a local Lambda Runtime API: `tools/runtime_api.py` (the benchmark's
//! too, so there is one emulator) starts it with exactly the environment given, hands it the
//! events one after the other and reports what came back.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// What the function answered for one invocation.
#[derive(Debug, Clone)]
pub enum Answer {
    Response(Value),
    Error(Value),
}

/// One process of the function, from start to kill.
#[derive(Debug)]
pub struct Run {
    /// `done` (every event answered, then it asked for one more), `exited` or `timeout`.
    pub outcome: String,
    /// The exit status if it exited by itself; -9 once killed.
    pub exit_code: Option<i64>,
    /// (request id, answer), in the order they came.
    pub answers: Vec<(String, Answer)>,
    /// Peak resident memory (VmHWM, kB), read when it asked for one more event.
    pub peak_rss_kb: Option<u64>,
    /// From the process start to its first answer.
    pub first_answer_after: Option<Duration>,
    /// Everything the process wrote (stdout and stderr).
    pub output: String,
}

/// Runs `binary` with `env` (nothing else) on `events` ((request id, payload), optionally
/// followed by the invoked function ARN and the milliseconds until the deadline), for at
/// most `within`; its output goes to
/// `target/test-artifacts/logs/<name>.log` for the secret scan.
pub fn run<E: serde::Serialize>(
    binary: &Path,
    env: &[(&str, &str)],
    events: &[E],
    name: &str,
    within: Duration,
) -> Run {
    let root = super::project_root();
    let log = super::artifacts_dir("logs").join(format!("{name}.log"));
    let python = [root.join(".venv/bin/python3"), "/usr/bin/python3".into()]
        .into_iter()
        .find(|p| p.exists())
        .expect("python3: run `make venv`");
    let mut emulator = Command::new(python)
        .env_clear()
        .envs(env.iter().copied())
        .arg(root.join("tools/runtime_api.py"))
        .arg(&log)
        .args(["--timeout", &within.as_secs_f64().to_string(), "--"])
        .arg(binary)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tools/runtime_api.py");
    let events = serde_json::to_vec(events).unwrap();
    // A failed write shows as the emulator's error below.
    let _ = emulator.stdin.take().unwrap().write_all(&events);
    let out = emulator.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tools/runtime_api.py failed: {stderr}");
    let run: Value = serde_json::from_slice(&out.stdout).unwrap();
    let answers = run["answers"].as_array().unwrap().iter().map(|a| {
        let body = a[2].clone();
        let answer = if a[1] == "error" {
            Answer::Error(body)
        } else {
            Answer::Response(body)
        };
        (a[0].as_str().unwrap().to_owned(), answer)
    });
    Run {
        outcome: run["outcome"].as_str().unwrap_or_default().to_owned(),
        exit_code: run["exit_code"].as_i64(),
        answers: answers.collect(),
        peak_rss_kb: run["vmhwm_kb"].as_u64(),
        first_answer_after: run["total_ms"].as_f64().map(|ms| Duration::from_secs_f64(ms / 1000.0)),
        output: std::fs::read_to_string(&log).unwrap_or_default(),
    }
}

//! The real binary, run as Lambda runs it: a local Runtime API hands it every sample event in
//! `events/` (and some hostile ones), Cognito is moto via `AWS_ENDPOINT_URL`, logging is at
//! TRACE. Checks each answer, one audit line and one EMF document per invocation, and that no
//! password used appears anywhere in the process's output.

mod support;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::runtime_api::{Answer, RuntimeApi};
use support::{artifacts_dir, Pool, SAMPLE_POOL};

/// What each sample event must produce: an HTTP status for API shapes, `Ok` or an
/// `errorType` for direct invocations. Every file in `events/` must be listed.
const EXPECTED: &[(&str, &str)] = &[
    ("rest-set-temporary", "200"),
    ("rest-set-permanent-sign-out", "200"),
    ("rest-not-admin", "403"),
    ("rest-weak-password", "400"),
    ("rest-unknown-field", "400"),
    ("rest-unknown-user", "404"),
    ("rest-protected-target", "403"),
    ("rest-self-reset", "403"),
    ("http-set-temporary", "200"),
    ("http-forged-groups", "403"),
    ("direct-set-permanent", "Ok"),
    ("direct-unknown-user", "UserNotFound"),
    ("direct-protected-target", "Forbidden"),
    ("direct-secret-reference", "Ok"),
    ("direct-invalid", "InvalidRequest"),
];

/// Starts the binary against `runtime` with the Lambda environment plus `env`.
fn spawn_function(runtime: &RuntimeApi, env: &[(&str, &str)], name: &str) -> (Child, PathBuf) {
    let output = artifacts_dir("logs").join(format!("{name}.log"));
    let file = std::fs::File::create(&output).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_admin-set-password"));
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", &runtime.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "admin-set-password")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test-stream")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/admin-set-password")
        .env("AWS_REGION", support::REGION)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied())
        .stdout(Stdio::from(file.try_clone().unwrap()))
        .stderr(Stdio::from(file));
    (command.spawn().expect("start the function binary"), output)
}

fn expected_answer(answer: &Answer) -> String {
    match answer {
        Answer::Response(response) => match response.get("statusCode") {
            Some(status) => status.to_string(),
            None => "Ok".into(),
        },
        Answer::Error(error) => error["errorType"].as_str().unwrap_or("?").to_owned(),
    }
}

#[tokio::test]
async fn every_sample_event_through_the_real_binary() {
    let listed: Vec<String> = std::fs::read_dir(support::project_root().join("events"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".json")
                .to_owned()
        })
        .collect();
    for name in &listed {
        assert!(
            EXPECTED.iter().any(|(n, _)| n == name),
            "events/{name}.json has no expectation in EXPECTED"
        );
    }

    let pool = Pool::seeded().await;
    pool.create_secret("onboarding/bob", r#"{"password":"Secret-Passw0rd!9"}"#)
        .await;
    let mut secrets = vec!["Secret-Passw0rd!9".to_owned(), support::INITIAL_PASSWORD.to_owned()];
    let mut events: Vec<(String, String)> = Vec::new();
    for (name, _) in EXPECTED {
        let text = support::sample(name).replace(SAMPLE_POOL, &pool.id);
        collect_passwords(&serde_json::from_str(&text).unwrap(), &mut secrets);
        events.push((format!("req-{name}"), text));
    }
    let hostile = [
        ("1", "InvalidRequest"),
        ("[]", "InvalidRequest"),
        ("null", "InvalidRequest"),
        ("\"x\"", "InvalidRequest"),
    ];
    for (i, (payload, _)) in hostile.iter().enumerate() {
        events.push((format!("req-hostile-{i}"), payload.to_string()));
    }
    let total = events.len();

    let runtime = RuntimeApi::start(events);
    let env = [
        ("USER_POOL_ID", pool.id.as_str()),
        ("ADMIN_GROUPS", "admins,helpdesk"),
        ("PASSWORD_SECRET_PREFIX", "onboarding/"),
        ("AWS_ENDPOINT_URL", pool.endpoint.as_str()),
        ("AWS_LAMBDA_LOG_LEVEL", "TRACE"),
        ("COGNITO_WARMUP", "true"),
    ];
    let (mut child, output) = spawn_function(&runtime, &env, "binary_all_events");
    let answers = runtime.wait_for_answers(total, Duration::from_secs(60));
    child.kill().ok();
    child.wait().ok();
    let stdout = std::fs::read_to_string(&output).unwrap();
    assert_eq!(answers.len(), total, "answers: {answers:?}\noutput:\n{stdout}");

    let expectations = EXPECTED.iter().map(|(n, e)| (format!("req-{n}"), *e));
    let hostile_expectations = hostile
        .iter()
        .enumerate()
        .map(|(i, (_, e))| (format!("req-hostile-{i}"), *e));
    for ((id, answer), (expected_id, expected)) in answers.iter().zip(expectations.chain(hostile_expectations)) {
        assert_eq!(id, &expected_id, "answers arrive in order");
        assert_eq!(expected_answer(answer), expected, "{id}: {answer:?}");
    }

    let lines: Vec<Value> = stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    for (id, _) in &answers {
        let audits = lines
            .iter()
            .filter(|l| l["event"] == "admin_set_user_password" && l["lambda_request_id"] == id.as_str());
        assert_eq!(audits.count(), 1, "one audit line for {id}");
    }
    let emf = lines.iter().filter(|l| l.get("_aws").is_some()).count();
    assert_eq!(emf, total, "one EMF document per invocation");

    for secret in &secrets {
        assert!(
            !stdout.contains(secret.as_str()),
            "a password used in this test reached the function's output"
        );
    }
    support::write_artifacts("binary_all_events", &stdout, &secrets);
    assert_eq!(
        pool.status("bob").await,
        "FORCE_CHANGE_PASSWORD",
        "the last set on bob was the secret reference"
    );
}

fn collect_passwords(event: &Value, into: &mut Vec<String>) {
    if let Some(p) = event.get("password").and_then(Value::as_str) {
        into.push(p.to_owned());
    }
    if let Some(body) = event.get("body").and_then(Value::as_str) {
        if let Ok(body) = serde_json::from_str::<Value>(body) {
            collect_passwords(&body, into);
        }
    }
}

#[test]
fn missing_configuration_stops_init_naming_the_variable() {
    let runtime = RuntimeApi::start(Vec::new());
    let (mut child, output) = spawn_function(&runtime, &[("ADMIN_GROUPS", "admins")], "binary_missing_config");
    let status = wait_with_timeout(&mut child, Duration::from_secs(20));
    let text = std::fs::read_to_string(output).unwrap();
    assert!(
        matches!(status, Some(s) if !s.success()),
        "init must fail: {status:?}\n{text}"
    );
    assert!(text.contains("USER_POOL_ID is required but not set"), "{text}");
}

#[tokio::test]
async fn warm_up_refuses_a_pool_that_does_not_exist() {
    let endpoint = support::moto_endpoint();
    let runtime = RuntimeApi::start(Vec::new());
    let env = [
        ("USER_POOL_ID", "us-east-1_NoSuchPool"),
        ("ADMIN_GROUPS", "admins"),
        ("AWS_ENDPOINT_URL", endpoint),
        ("COGNITO_WARMUP", "true"),
    ];
    let (mut child, output) = spawn_function(&runtime, &env, "binary_wrong_pool");
    let status = wait_with_timeout(&mut child, Duration::from_secs(30));
    let text = std::fs::read_to_string(output).unwrap();
    assert!(
        matches!(status, Some(s) if !s.success()),
        "init must fail: {status:?}\n{text}"
    );
    assert!(text.contains("USER_POOL_ID or the function's role is wrong"), "{text}");
}

fn wait_with_timeout(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().ok();
    None
}

//! Cognito and Secrets Manager faults, with a tiny local HTTP server standing in for both (via
//! the SDK's endpoint URL). It is programmed per operation (the `X-Amz-Target` header names
//! it): a canned JSON answer, an exception, or silence. Each fault must end in the documented
//! error (docs/errors.md), with an audit line, well inside the Lambda timeout.

mod support;

use std::collections::HashMap;
use std::io::BufReader;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use admin_set_password::Config;
use serde_json::{json, Value};
use support::http::{read_request, write_response};
use support::{free_port, Harness};

const POOL: &str = "us-east-1_Example";
const TARGET_SUB: &str = "0b7c2b4e-5f1a-4c55-9f43-3c0e8d1f2a10";

/// How the fake answers one operation.
#[derive(Clone)]
enum Answer {
    /// HTTP 200 with this JSON body.
    Ok(Value),
    /// The AWS JSON error shape: this status, `__type` and `x-amzn-errortype`.
    Exception { status: u16, error_type: &'static str },
    /// Reads the request and never answers.
    Silent,
    /// Depends on the request's `Username`: `users` by name, `otherwise` for the rest.
    PerUser {
        users: Vec<(&'static str, Answer)>,
        otherwise: Box<Answer>,
    },
}

impl Answer {
    /// The answer for a request with this JSON body.
    fn resolve(self, body: &Value) -> Answer {
        match self {
            Answer::PerUser { users, otherwise } => {
                let username = body["Username"].as_str().unwrap_or_default();
                let answer = users.into_iter().find(|(name, _)| *name == username);
                answer.map_or(*otherwise, |(_, answer)| answer).resolve(body)
            }
            other => other,
        }
    }
}

fn exception(status: u16, error_type: &'static str) -> Answer {
    Answer::Exception { status, error_type }
}

/// What a healthy pool answers: the target exists (temporary password, enabled, with a
/// `sub`), belongs to no group, and every write succeeds. `alice`, the caller in the sample
/// API events, is in `admins` (her live groups are checked).
fn healthy_answers() -> HashMap<&'static str, Answer> {
    HashMap::from([
        (
            "AdminGetUser",
            Answer::PerUser {
                // The sample events' caller: the sub their token carries, enabled.
                users: vec![(
                    "alice",
                    Answer::Ok(json!({
                        "Username": "alice",
                        "UserStatus": "CONFIRMED",
                        "Enabled": true,
                        "UserAttributes": [{"Name": "sub", "Value": "0d9c1f5e-alice"}],
                    })),
                )],
                otherwise: Box::new(Answer::Ok(json!({
                    "Username": "bob",
                    "UserStatus": "FORCE_CHANGE_PASSWORD",
                    "Enabled": true,
                    "UserAttributes": [{"Name": "sub", "Value": TARGET_SUB}],
                }))),
            },
        ),
        (
            "AdminListGroupsForUser",
            Answer::PerUser {
                users: vec![("alice", Answer::Ok(json!({"Groups": [{"GroupName": "admins"}]})))],
                otherwise: Box::new(Answer::Ok(json!({"Groups": []}))),
            },
        ),
        (
            "DescribeUserPool",
            Answer::Ok(json!({"UserPool": {"Id": POOL, "Name": "example"}})),
        ),
        ("AdminSetUserPassword", Answer::Ok(json!({}))),
        ("AdminUserGlobalSignOut", Answer::Ok(json!({}))),
    ])
}

/// The fake's program: an operation's name to its answer; `None` for one nobody programmed.
type Program = Arc<dyn Fn(&str) -> Option<Answer> + Send + Sync>;

/// A running fake: its endpoint and the operations it was asked for, in order.
struct Fake {
    endpoint: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Fake {
    /// The healthy pool with `changes` applied.
    fn with(changes: &[(&'static str, Answer)]) -> Self {
        let mut answers = healthy_answers();
        answers.extend(changes.iter().cloned());
        Self::start(Arc::new(move |operation| answers.get(operation).cloned()))
    }

    /// Every Cognito and Secrets Manager operation answers `answer` (the keys are still served).
    fn every_operation(answer: Answer) -> Self {
        Self::start(Arc::new(move |operation| (operation != JWKS).then(|| answer.clone())))
    }

    fn start(answers: Program) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (answers, log) = (answers.clone(), log.clone());
                std::thread::spawn(move || serve(stream, &*answers, &log));
            }
        });
        Self { endpoint, seen }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    fn count(&self, operation: &str) -> usize {
        self.seen().iter().filter(|o| *o == operation).count()
    }
}

fn serve(stream: TcpStream, answers: &dyn Fn(&str) -> Option<Answer>, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    while let Some(request) = read_request(&mut reader) {
        // "AWSCognitoIdentityProviderService.AdminSetUserPassword", "secretsmanager.GetSecretValue"
        let target = request.header("x-amz-target").unwrap_or_default();
        let operation = if request.method == "GET" && request.path.ends_with("/.well-known/jwks.json") {
            JWKS.to_owned()
        } else {
            target.rsplit('.').next().unwrap_or_default().to_owned()
        };
        seen.lock().unwrap().push(operation.clone());
        // An operation nobody programmed is a test bug: answer with a type no mapping knows.
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let answer = match answers(&operation) {
            Some(answer) => answer,
            None if operation == JWKS => Answer::Ok(test_jwks()),
            None => Answer::Exception {
                status: 400,
                error_type: "UnprogrammedOperationInTheFake",
            },
        };
        let (status, error_type, body) = match answer.resolve(&body) {
            Answer::Ok(body) => (200, None, body),
            Answer::Exception { status, error_type } => (
                status,
                Some(error_type),
                json!({"__type": error_type, "message": "injected by the test"}),
            ),
            Answer::Silent => {
                std::thread::sleep(Duration::from_secs(60));
                return;
            }
            Answer::PerUser { .. } => unreachable!("resolved above"),
        };
        let status_line = match status {
            200 => "200 OK",
            400 => "400 Bad Request",
            500 => "500 Internal Server Error",
            other => panic!("no status line for {other}"),
        };
        let mut headers = vec![("content-type", "application/x-amz-json-1.1")];
        headers.extend(error_type.map(|t| ("x-amzn-errortype", t)));
        if !write_response(&mut writer, status_line, &headers, body.to_string().as_bytes()) {
            return;
        }
    }
}

/// The fake's name for a GET of the admin pool's JWKS.
const JWKS: &str = "Jwks";

/// The admin pool's keys in these tests: the committed test key `testing::sign` signs with.
fn test_jwks() -> Value {
    let key: Value = serde_json::from_str(include_str!("../src/token/testdata/signing-public.jwk.json")).unwrap();
    json!({"keys": [key]})
}

/// The test configuration pointed at `endpoint` (Cognito, Secrets Manager and the keys);
/// literal passwords and any target status allowed, so direct tests need no secret.
fn config(endpoint: &str) -> Config {
    admin_set_password::testing::config(&[
        ("AWS_ENDPOINT_URL", endpoint),
        ("COGNITO_WARMUP", "false"),
        ("WORKFLOW_LITERAL_PASSWORDS", "true"),
        ("WORKFLOW_TARGET_STATUSES", "*"),
    ])
}

/// The REST sample with a valid test token that agrees with its claims.
fn rest_event() -> Value {
    let mut event: Value = serde_json::from_str(&support::sample("rest-set-temporary")).unwrap();
    admin_set_password::testing::authenticate(&mut event);
    event
}

fn direct_set() -> Value {
    json!({"username": "bob", "password": "Direct-Passw0rd!2026"})
}

#[tokio::test]
async fn the_healthy_fake_lets_a_direct_set_succeed() {
    // Without this, the fault tests below could pass because the fake itself is broken.
    let fake = Fake::with(&[]);
    let mut h = Harness::new("fault_healthy", &fake.endpoint, config(&fake.endpoint)).await;
    let run = h.invoke(&direct_set()).await;
    assert!(run.response.is_ok(), "{:?}\n{}", run.response, run.audit);
    assert_eq!(run.audit["outcome"], "success");
    assert_eq!(run.audit["password_set"], true);
    assert_eq!(fake.count("AdminSetUserPassword"), 1, "{:?}", fake.seen());
    h.assert_no_secret_leaked();
}

/// Every exception `AdminSetUserPassword` can answer with in these tests, and what the caller
/// of a direct invocation must get: `errorType` and the audit outcome.
#[tokio::test]
async fn each_set_exception_becomes_its_documented_code_with_an_audit_line() {
    // Only InvalidPassword passes Cognito's message (the policy's wording) on to the caller.
    let cases = [
        (
            exception(400, "PasswordHistoryPolicyViolationException"),
            "PasswordReused",
            "invalid",
        ),
        (exception(400, "InvalidPasswordException"), "InvalidPassword", "invalid"),
        (exception(400, "TooManyRequestsException"), "TooManyRequests", "failed"),
        (exception(400, "NotAuthorizedException"), "ConfigurationError", "failed"),
        (
            exception(400, "ResourceNotFoundException"),
            "ConfigurationError",
            "failed",
        ),
        (exception(400, "UserNotFoundException"), "UserNotFound", "invalid"),
        (exception(400, "AccessDeniedException"), "ConfigurationError", "failed"),
        (exception(500, "InternalErrorException"), "UpstreamError", "failed"),
    ];
    for (answer, error_type, outcome) in cases {
        let Answer::Exception {
            error_type: cognito, ..
        } = answer
        else {
            unreachable!()
        };
        let fake = Fake::with(&[("AdminSetUserPassword", answer.clone())]);
        let mut h = Harness::new(&format!("fault_set_{cognito}"), &fake.endpoint, config(&fake.endpoint)).await;
        let run = h.invoke(&direct_set()).await;
        assert_eq!(run.error_type(), error_type, "set answered {cognito}");
        assert!(
            fake.count("AdminSetUserPassword") >= 1,
            "{cognito}: the set was never reached: {:?}",
            fake.seen()
        );
        assert_eq!(
            (run.audit["code"].as_str(), run.audit["outcome"].as_str()),
            (Some(error_type), Some(outcome)),
            "{cognito}: audit line {}",
            run.audit
        );
        // A 500 may come after the change: the caller is told it may have been set.
        let server_side = matches!(answer, Answer::Exception { status: 500.., .. });
        let password_set = if server_side { json!("unknown") } else { json!(false) };
        assert_eq!(run.audit["password_set"], password_set, "{cognito}");
        let message = &run.response.as_ref().unwrap_err().error_message;
        if error_type == "InvalidPassword" {
            assert_eq!(message, "injected by the test", "Cognito's policy message is passed on");
        } else {
            assert!(
                !message.contains("injected"),
                "{cognito}: detail reached the caller: {message}"
            );
        }
        if error_type == "ConfigurationError" || error_type == "UpstreamError" {
            let detail = run.audit["detail"].as_str().unwrap_or_default();
            assert!(detail.contains(cognito), "{cognito}: audit detail {detail:?}");
        }
        h.assert_no_secret_leaked();
    }
}

#[tokio::test]
async fn a_reused_password_is_400_password_reused_through_the_api() {
    let fake = Fake::with(&[(
        "AdminSetUserPassword",
        exception(400, "PasswordHistoryPolicyViolationException"),
    )]);
    let mut h = Harness::new("fault_reused_api", &fake.endpoint, config(&fake.endpoint)).await;
    let run = h.invoke(&rest_event()).await;
    let (status, body) = run.api();
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("PasswordReused")),
        "{body}"
    );
    assert_eq!(
        body["error"]["message"],
        "the password was used recently; choose another"
    );
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn a_look_up_in_a_vanished_pool_is_a_configuration_error_and_nothing_is_set() {
    let fake = Fake::with(&[("AdminGetUser", exception(400, "ResourceNotFoundException"))]);
    let mut h = Harness::new("fault_lookup_pool_gone", &fake.endpoint, config(&fake.endpoint)).await;
    let run = h.invoke(&direct_set()).await;
    assert_eq!(run.error_type(), "ConfigurationError");
    assert_eq!(fake.count("AdminSetUserPassword"), 0, "{:?}", fake.seen());
    assert_eq!(run.audit["password_set"], false);
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn unusable_secrets_all_read_the_same_and_a_denied_read_is_configuration() {
    let secret_event = json!({"username": "bob", "passwordSecretId": "onboarding/bob"});
    let same_for_the_caller = [
        "ResourceNotFoundException",
        "InvalidRequestException",
        "InvalidParameterException",
        "DecryptionFailure",
    ];
    for cause in same_for_the_caller {
        let fake = Fake::with(&[("GetSecretValue", exception(400, cause))]);
        let mut h = Harness::new(&format!("fault_secret_{cause}"), &fake.endpoint, config(&fake.endpoint)).await;
        let run = h.invoke(&secret_event).await;
        let err = run.response.as_ref().unwrap_err();
        assert_eq!(
            (err.error_type.as_str(), err.error_message.as_str()),
            ("InvalidRequest", "passwordSecretId: the secret cannot be used"),
            "{cause}"
        );
        assert!(
            run.audit["detail"].as_str().is_some_and(|d| d.contains(cause)),
            "{cause}: the reason belongs in the audit line: {}",
            run.audit
        );
        assert_eq!(fake.count("AdminSetUserPassword"), 0, "{cause}");
    }

    let fake = Fake::with(&[("GetSecretValue", exception(400, "AccessDeniedException"))]);
    let mut h = Harness::new("fault_secret_denied", &fake.endpoint, config(&fake.endpoint)).await;
    let run = h.invoke(&secret_event).await;
    assert_eq!(run.error_type(), "ConfigurationError");
}

#[tokio::test]
async fn throttling_after_bounded_retries_is_429_with_retry_after() {
    let fake = Fake::every_operation(exception(400, "TooManyRequestsException"));
    let mut h = Harness::new("fault_throttle", &fake.endpoint, config(&fake.endpoint)).await;
    let run = h.invoke(&rest_event()).await;
    let (status, body) = run.api();
    assert_eq!((status, body["error"]["code"].as_str()), (429, Some("TooManyRequests")));
    assert_eq!(run.response.as_ref().unwrap()["headers"]["retry-after"], "2");
    // Four concurrent look-ups and the policy read, each tried at most COGNITO_MAX_ATTEMPTS (3) times.
    let seen = fake.seen().iter().filter(|o| *o != JWKS).count();
    assert!(
        (5..=15).contains(&seen),
        "expected bounded retries, saw {seen} requests"
    );

    let run = h.invoke(&direct_set()).await;
    assert_eq!(run.error_type(), "TooManyRequests");
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn cognito_internal_errors_are_502() {
    let fake = Fake::every_operation(exception(500, "InternalErrorException"));
    let mut h = Harness::new("fault_internal", &fake.endpoint, config(&fake.endpoint)).await;
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
    let fake = Fake::every_operation(Answer::Silent);
    let mut h = Harness::new("fault_silent", &fake.endpoint, config(&fake.endpoint)).await;
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
    let mut h = Harness::new("fault_unreachable", &endpoint, config(&endpoint)).await;
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

#[tokio::test]
async fn a_failed_sign_out_after_the_set_is_a_success_that_says_so() {
    let fake = Fake::with(&[("AdminUserGlobalSignOut", exception(500, "InternalErrorException"))]);
    let mut h = Harness::new("fault_sign_out", &fake.endpoint, config(&fake.endpoint)).await;
    let mut event = rest_event();
    event["body"] = json!("{\"password\":\"Temp-Passw0rd!2026\",\"signOut\":true}");
    let run = h.invoke(&event).await;
    let (status, mut body) = run.api();
    let expires_at = body.as_object_mut().unwrap().remove("temporaryPasswordExpiresAt");
    assert!(expires_at.is_some(), "the password is set: its expiry is told");
    assert_eq!(
        (status, body),
        (
            200,
            json!({"username": "bob", "userStatus": "FORCE_CHANGE_PASSWORD", "signedOut": false})
        )
    );
    assert_eq!(run.audit["outcome"], "success");
    assert_eq!(run.audit["password_set"], true);
    assert_eq!(run.audit["sign_out_error"], "UpstreamError");
    assert_eq!(fake.count("AdminSetUserPassword"), 1, "the set is not retried");

    let run = h
        .invoke(&json!({"username": "bob", "password": "Direct-Passw0rd!2026", "signOut": true}))
        .await;
    assert_eq!(run.response.as_ref().unwrap()["signedOut"], false);
    h.assert_no_secret_leaked();
}

#[tokio::test]
async fn the_lambda_deadline_is_honoured_with_a_silent_cognito() {
    let deadline = Duration::from_secs(3);
    let cases = [
        ("AdminSetUserPassword", json!("unknown"), "may have been set"),
        ("AdminGetUser", json!(false), "retry later"),
    ];
    for (operation, password_set, message) in cases {
        let fake = Fake::with(&[(operation, Answer::Silent)]);
        let mut h = Harness::new(
            &format!("fault_deadline_{operation}"),
            &fake.endpoint,
            config(&fake.endpoint),
        )
        .await;
        let started = Instant::now();
        let run = h.invoke_with_deadline(&direct_set(), deadline).await;
        let elapsed = started.elapsed();
        assert!(elapsed < deadline, "{operation}: answered after {elapsed:?}");
        assert_eq!(run.error_type(), "UpstreamError", "{operation}");
        assert_eq!(run.audit["password_set"], password_set, "{operation}: {}", run.audit);
        let text = &run.response.as_ref().unwrap_err().error_message;
        assert!(text.contains(message), "{operation}: {text}");
        h.assert_no_secret_leaked();
    }
}

/// The deadline hits while the change event is being published, after a set that asked for
/// no sign-out: the answer is the success it is, and the audit line says the event was not
/// published, in which phase the work stopped, and nothing about a sign-out nobody asked for.
#[tokio::test]
async fn a_publish_abandoned_at_the_deadline_is_audited_as_it_happened() {
    let fake = Fake::with(&[("PutEvents", Answer::Silent)]);
    let mut config = config(&fake.endpoint);
    config.event_bus_name = Some("admin-events".into());
    let mut h = Harness::new("fault_deadline_publish", &fake.endpoint, config).await;
    let run = h.invoke_with_deadline(&direct_set(), Duration::from_secs(3)).await;
    assert_eq!(
        run.response.as_ref().expect("the password was set"),
        &json!({"username": "bob", "userStatus": "FORCE_CHANGE_PASSWORD"}),
        "{}",
        run.audit
    );
    assert!(fake.count("PutEvents") >= 1, "{:?}", fake.seen());
    let audit = &run.audit;
    assert_eq!(audit["outcome"], "success");
    assert_eq!(audit["password_set"], true);
    assert_eq!(audit["event_published"], false, "{audit}");
    assert_eq!(audit["phase"], "publish", "{audit}");
    for absent in ["signed_out", "sign_out_error"] {
        assert!(audit.get(absent).is_none(), "{absent}: {audit}");
    }
    h.assert_no_secret_leaked();
}

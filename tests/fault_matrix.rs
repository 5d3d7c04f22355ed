//! The fault matrix: a fault-injecting front (`support::fault_proxy`) between the function and
//! moto, one fault per case on one operation, before or after the request reaches moto; then
//! moto's real state is compared with what the function said. The answer and the audit line
//! must tell the truth: a success or `password_set: true` only when moto has the new password,
//! `password_set: false` only when it does not, `"unknown"` only for a fault on the set itself,
//! `signedOut: true` (in the sign-out's cases) only when the user's tokens are revoked, an
//! unreadable 200 to the set recorded in the audit `detail`; exactly one audit line, before the
//! deadline; every failure `UpstreamError` or `TooManyRequests`; and the set never sent twice
//! unless the first attempt was certainly refused (throttled).
//!
//! Each case has its own user, its own secret, its own front and its own function (so the
//! cached pool policy is read through the front); independent cases run on several threads.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_cognitoidentityprovider::config::Credentials;
use aws_sdk_cognitoidentityprovider::Client as Cognito;
use serde_json::{json, Value};
use support::fault_proxy::{Action, Fault, FaultProxy, Phase, Program};
use support::{moto_endpoint, Harness, Pool, SignIn, REGION};

const OPERATIONS: [&str; 6] = [
    "AdminGetUser",
    "AdminListGroupsForUser",
    "DescribeUserPool",
    "GetSecretValue",
    "AdminSetUserPassword",
    "AdminUserGlobalSignOut",
];

/// Short SDK timeouts keep the matrix fast; the latency fault lands beyond the attempt timeout.
const ATTEMPT_TIMEOUT_MS: u64 = 1_000;
const OPERATION_TIMEOUT_MS: u64 = 3_000;
const LATENCY: Duration = Duration::from_millis(ATTEMPT_TIMEOUT_MS + 400);
/// The Lambda deadline each invocation gets: three sequential phases at most, and margin.
const DEADLINE: Duration = Duration::from_secs(12);
/// Cases in flight at once.
const WORKERS: usize = 12;

#[derive(Debug, Clone, Copy)]
struct Case {
    index: usize,
    operation: &'static str,
    fault: Fault,
    phase: Phase,
}

/// Every operation × fault × phase, except a 200 forged before the set reaches moto: an
/// answer Cognito never sent that says "done" cannot be told from a real one by any client
/// (in production TLS rules it out), so the function must believe it.
fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for operation in OPERATIONS {
        for fault in Fault::ALL {
            for phase in [Phase::Before, Phase::After] {
                if operation == "AdminSetUserPassword" && phase == Phase::Before && fault.is_a_200() {
                    continue;
                }
                let index = cases.len();
                cases.push(Case {
                    index,
                    operation,
                    fault,
                    phase,
                });
            }
        }
    }
    cases
}

/// The first request of the case's operation gets the fault (`Hang`: every one).
fn program(case: Case) -> Program {
    Arc::new(move |operation, nth| {
        if operation == case.operation && (nth == 0 || case.fault == Fault::Hang) {
            Action::Inject(case.fault, case.phase)
        } else {
            Action::Forward
        }
    })
}

/// What one case showed.
struct Row {
    case: Case,
    answer: String,
    audit_password_set: Value,
    moto_has_new_password: bool,
    set_requests: usize,
    elapsed: Duration,
    violations: Vec<String>,
}

/// SDK configuration for the test's own calls to moto (seeding users, reading the truth):
/// patient, because a loaded machine can make moto slower than the function's timeouts, and
/// a set-up call that gives up would fail the case for the wrong reason.
async fn patient_sdk_config() -> aws_config::SdkConfig {
    let base = admin_set_password::testing::config(&[]);
    admin_set_password::upstream::sdk_config_loader(&base.upstream)
        .endpoint_url(moto_endpoint())
        .region(aws_config::Region::new(REGION))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(60))
                .build(),
        )
        .load()
        .await
}

/// A handle on the shared pool with clients of this thread's runtime.
struct Moto {
    pool: Pool,
    secrets: aws_sdk_secretsmanager::Client,
}

async fn moto_on_this_thread(template: &PoolTemplate) -> Moto {
    let sdk = patient_sdk_config().await;
    let pool = Pool {
        secret_prefix: template.secret_prefix.clone(),
        id: template.id.clone(),
        client_id: template.client_id.clone(),
        cognito: Cognito::new(&sdk),
        endpoint: moto_endpoint().to_owned(),
    };
    Moto {
        pool,
        secrets: aws_sdk_secretsmanager::Client::new(&sdk),
    }
}

#[derive(Clone)]
struct PoolTemplate {
    secret_prefix: String,
    id: String,
    client_id: String,
}

async fn run_case(moto: &Moto, case: Case) -> Row {
    let pool = &moto.pool;
    let username = format!("mx{:02}", case.index);
    let new_password = format!("Fault-{:02}-Passw0rd!", case.index);
    // Only a sign-out case needs tokens to revoke, hence a confirmed user; the others save moto
    // the calls (its speed is most of the matrix's time).
    let sign_out_case = case.operation == "AdminUserGlobalSignOut";
    pool.add_new_user(&username, &[]).await;
    let access_token = if sign_out_case {
        pool.confirm(&username).await;
        Some(pool.tokens(&username).await.1)
    } else {
        None
    };
    moto.secrets
        .create_secret()
        .name(pool.secret_id(&username))
        .secret_string(&new_password)
        .send()
        .await
        .expect("create secret");

    let front = FaultProxy::start(moto_endpoint(), LATENCY, program(case));
    let config = pool.config(&[
        ("AWS_ENDPOINT_URL", front.endpoint.as_str()),
        ("ENTRY_POINTS", "workflow"),
        ("WORKFLOW_TARGET_STATUSES", "CONFIRMED,FORCE_CHANGE_PASSWORD"),
        ("COGNITO_ATTEMPT_TIMEOUT_MS", &ATTEMPT_TIMEOUT_MS.to_string()),
        ("COGNITO_OPERATION_TIMEOUT_MS", &OPERATION_TIMEOUT_MS.to_string()),
    ]);
    let name = format!("matrix_{}_{:?}_{:?}", case.operation, case.fault, case.phase);
    let mut h = Harness::new(&name, &front.endpoint, config).await;
    h.uses_secret(&new_password);
    let event = json!({
        "username": username,
        "passwordSecretId": pool.secret_id(&username),
        "permanent": true,
        "signOut": true,
    });
    let started = Instant::now();
    let run = h.invoke_with_deadline(&event, DEADLINE).await;
    let elapsed = started.elapsed();
    h.assert_no_secret_leaked();

    front.settle(Duration::from_secs(10));
    let moto_has_new_password = pool.sign_in(&username, &new_password).await == SignIn::Tokens;
    let tokens_revoked = match &access_token {
        Some(token) => pool.cognito.get_user().access_token(token).send().await.is_err(),
        None => false,
    };
    let set_requests = front.count("AdminSetUserPassword");

    let audit_set = run.audit["password_set"].clone();
    let mut violations = Vec::new();
    let mut lie = |what: String| violations.push(what);
    let answer = match &run.response {
        Ok(output) => {
            if !moto_has_new_password {
                lie("a success, and moto does not have the new password".into());
            }
            if output["signedOut"] == true && sign_out_case && !tokens_revoked {
                lie("signedOut: true, and the user's tokens still work".into());
            }
            if audit_set != true {
                lie(format!("a success audited as password_set {audit_set}"));
            }
            format!("success, signedOut {}", output["signedOut"])
        }
        Err(err) => {
            let unknown = err.error_message.contains("may have been set");
            if audit_set == json!("unknown") && !unknown {
                lie("audited unknown, and the answer does not say the password may have been set".into());
            }
            if unknown && audit_set != json!("unknown") {
                lie(format!("the answer says may have been set, audited {audit_set}"));
            }
            if !["UpstreamError", "TooManyRequests"].contains(&err.error_type.as_str()) {
                lie(format!("a service fault answered {}", err.error_type));
            }
            format!(
                "{}{}",
                err.error_type,
                if unknown { " (may have been set)" } else { "" }
            )
        }
    };
    if audit_set == true && !moto_has_new_password {
        lie("password_set: true, and moto does not have the new password".into());
    }
    if audit_set == false && moto_has_new_password {
        lie("password_set: false, and moto has the new password".into());
    }
    if audit_set == json!("unknown") && case.operation != "AdminSetUserPassword" {
        lie(format!("password_set: unknown for a fault on {}", case.operation));
    }
    let refused_first = case.operation == "AdminSetUserPassword" && case.fault == Fault::Throttled;
    if set_requests > 1 && !refused_first {
        lie(format!(
            "the set was sent {set_requests} times after an attempt that may have been processed"
        ));
    }
    let unreadable_200 = case.operation == "AdminSetUserPassword" && case.fault.is_a_200();
    if unreadable_200 && run.response.is_ok() && !run.audit["detail"].is_string() {
        lie("a set answered with an unreadable 200, and the audit line does not record it".into());
    }
    if elapsed >= DEADLINE {
        lie(format!("answered after the deadline ({elapsed:?})"));
    }
    Row {
        case,
        answer,
        audit_password_set: audit_set,
        moto_has_new_password,
        set_requests,
        elapsed,
        violations,
    }
}

#[test]
fn every_fault_on_every_call_tells_the_truth() {
    let started = Instant::now();
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    let template = runtime().block_on(async {
        let pool = Pool::seeded().await;
        PoolTemplate {
            secret_prefix: pool.secret_prefix.clone(),
            id: pool.id.clone(),
            client_id: pool.client_id.clone(),
        }
    });
    let queue = Arc::new(Mutex::new(cases()));
    let total = queue.lock().unwrap().len();
    let rows = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (queue, rows, template) = (queue.clone(), rows.clone(), template.clone());
            std::thread::spawn(move || {
                runtime().block_on(async {
                    let moto = moto_on_this_thread(&template).await;
                    loop {
                        let next = queue.lock().unwrap().pop();
                        let Some(case) = next else { break };
                        let row = run_case(&moto, case).await;
                        rows.lock().unwrap().push(row);
                    }
                })
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("a matrix worker panicked");
    }
    let mut rows = Arc::try_unwrap(rows).ok().unwrap().into_inner().unwrap();
    rows.sort_by_key(|row| row.case.index);
    assert_eq!(rows.len(), total);

    let mut report = String::from(
        "operation              fault          phase   answer                               audit     moto  sets  ms\n",
    );
    for row in &rows {
        report.push_str(&format!(
            "{:<22} {:<14} {:<7} {:<36} {:<9} {:<5} {:<5} {:<5}{}\n",
            row.case.operation,
            format!("{:?}", row.case.fault),
            format!("{:?}", row.case.phase),
            row.answer,
            row.audit_password_set.to_string(),
            if row.moto_has_new_password { "set" } else { "old" },
            row.set_requests,
            row.elapsed.as_millis(),
            if row.violations.is_empty() {
                String::new()
            } else {
                format!("  LIE: {}", row.violations.join("; "))
            },
        ));
    }
    let lies = rows.iter().filter(|row| !row.violations.is_empty()).count();
    report.push_str(&format!(
        "{} cases, {} held, {} did not; {:.1} s\n",
        rows.len(),
        rows.len() - lies,
        lies,
        started.elapsed().as_secs_f64()
    ));
    println!("{report}");
    std::fs::write(support::artifacts_dir("fault-matrix").join("matrix.txt"), &report).unwrap();
    assert_eq!(lies, 0, "the function did not tell the truth:\n{report}");
    // Truthful because nothing ever worked would prove nothing: every operation's faults must
    // leave room for successes (retried look-ups, a throttled set, a failed sign-out).
    for operation in OPERATIONS {
        assert!(
            rows.iter()
                .any(|row| row.case.operation == operation && row.answer.starts_with("success")),
            "no fault on {operation} ended in a success:\n{report}"
        );
    }
}

/// A pool with password history would refuse a retried set whose first attempt took effect.
/// moto keeps no history, so the front plays it: after the first set request, every further
/// one is refused with `PasswordHistoryPolicyViolationException`.
#[tokio::test]
async fn a_retried_set_cannot_turn_a_set_password_into_password_reused() {
    let pool = Pool::seeded().await;
    let cases = [
        // Processed, answer lost: the set must not be retried; the caller is told it may be set.
        (
            "lost",
            Fault::InternalError,
            Phase::After,
            "UpstreamError",
            json!("unknown"),
            1,
            true,
        ),
        // Throttled, so certainly not processed: the retry's answer is the truth.
        (
            "throttled",
            Fault::Throttled,
            Phase::Before,
            "PasswordReused",
            json!(false),
            2,
            false,
        ),
    ];
    for (tag, fault, phase, error_type, password_set, set_requests, set_in_moto) in cases {
        let username = format!("hist-{tag}");
        let new_password = "History-Passw0rd!1";
        pool.add_user(&username, &["staff"]).await;
        let front = FaultProxy::start(
            moto_endpoint(),
            LATENCY,
            Arc::new(move |operation, nth| match (operation, nth) {
                ("AdminSetUserPassword", 0) => Action::Inject(fault, phase),
                ("AdminSetUserPassword", _) => Action::Refuse(400, "PasswordHistoryPolicyViolationException"),
                _ => Action::Forward,
            }),
        );
        let config = pool.config(&[
            ("AWS_ENDPOINT_URL", front.endpoint.as_str()),
            ("WORKFLOW_LITERAL_PASSWORDS", "true"),
            ("WORKFLOW_TARGET_STATUSES", "CONFIRMED"),
        ]);
        let mut h = Harness::new(&format!("history_{tag}"), &front.endpoint, config).await;
        let run = h
            .invoke(&json!({"username": username, "password": new_password, "permanent": true}))
            .await;
        front.settle(Duration::from_secs(5));
        assert_eq!(run.error_type(), error_type, "{tag}: {}", run.audit);
        assert_eq!(run.audit["password_set"], password_set, "{tag}: {}", run.audit);
        assert_eq!(
            front.count("AdminSetUserPassword"),
            set_requests,
            "{tag}: {:?}",
            front.seen()
        );
        assert_eq!(
            pool.sign_in(&username, new_password).await == SignIn::Tokens,
            set_in_moto,
            "{tag}"
        );
        h.assert_no_secret_leaked();
    }
}

//! The pure decision path, per event: raw event JSON -> parsed, body validated (`prepare`)
//! -> the audit record serialised as the JSON line that is written; and the same with the
//! caller's RS256 token verified and the claims compared. No I/O. Targets:
//! ≤ 20 µs without the signature, ≤ 60 µs with it. Run with `cargo bench --bench decision`.

use std::time::SystemTime;

use admin_set_password::testing::{self, TestKeys};
use admin_set_password::token::{self, TokenPolicy};
use admin_set_password::{policy, prepare, Config, Invocation};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

const POOL: &str = "us-east-1_BenchPool1";

fn config() -> Config {
    Config::from_lookup(|name| {
        let value = match name {
            "USER_POOL_ID" | "ADMIN_USER_POOL_ID" => POOL,
            "ADMIN_GROUPS" => "admins,helpdesk",
            "ADMIN_CLIENT_IDS" => "benchclient1",
            "PASSWORD_SECRET_PREFIX" => "onboarding/",
            "PROTECTED_GROUPS" => "admins,superadmins,service-accounts",
            "SUPER_ADMIN_GROUPS" => "superadmins",
            "ALLOW_FEDERATED" => "false",
            _ => return None,
        };
        Some(value.to_owned())
    })
    .expect("benchmark configuration is valid")
}

/// API Gateway REST (v1) event as API Gateway sends it, with Cognito authorizer claims.
fn rest_event(groups: &str) -> String {
    serde_json::json!({
        "resource": "/users/{username}/password",
        "path": "/users/alice/password",
        "httpMethod": "PUT",
        "headers": {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "Host": "abc123.execute-api.us-east-1.amazonaws.com",
            "User-Agent": "Mozilla/5.0 (admin console)",
            "X-Forwarded-For": "203.0.113.7",
            "Authorization": "eyJraWQiOiJrZXkiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl"
        },
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": null,
        "multiValueQueryStringParameters": null,
        "pathParameters": {"username": "alice"},
        "stageVariables": null,
        "requestContext": {
            "resourceId": "abc123",
            "resourcePath": "/users/{username}/password",
            "httpMethod": "PUT",
            "extendedRequestId": "c6af9ac6=",
            "requestTime": "01/Jan/2026:00:00:00 +0000",
            "path": "/prod/users/alice/password",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": "prod",
            "domainPrefix": "abc123",
            "requestTimeEpoch": 1767225600000u64,
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "Mozilla/5.0 (admin console)"},
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "apiId": "abc123",
            "authorizer": {"claims": {
                "sub": "8f2b7c1e-1111-2222-3333-444455556666",
                "cognito:username": "admin1",
                "cognito:groups": groups,
                "iss": format!("https://cognito-idp.us-east-1.amazonaws.com/{POOL}"),
                "token_use": "id",
                "aud": "benchclient1",
                "exp": "Fri Jan 01 01:00:00 UTC 2100",
                "iat": "Thu Jan 01 00:00:00 UTC 2026"
            }}
        },
        "body": "{\"password\":\"N3w-Passw0rd!\",\"permanent\":false}",
        "isBase64Encoded": false
    })
    .to_string()
}

fn direct_event() -> String {
    r#"{"username":"alice","passwordSecretId":"onboarding/alice","permanent":true}"#.to_owned()
}

fn invocation() -> Invocation {
    Invocation {
        request_id: "8476a536-e9f4-11e8-9739-2dfe598c3fcd".into(),
        function_arn: "arn:aws:lambda:us-east-1:123456789012:function:admin-set-password".into(),
        deadline: None,
    }
}

/// The pure path without the signature: parse, validate, audit line.
fn prepare_and_audit(config: &Config, event: &str) -> String {
    let prepared = prepare(config, event, &invocation());
    prepared.audit_record().line(SystemTime::UNIX_EPOCH)
}

/// The same with the caller's RS256 token verified (key already cached, as on a warm
/// function) and the authorizer's claims compared with it.
fn verify_prepare_and_audit(config: &Config, policy: &TokenPolicy, event: &str, token: &str, now: u64) -> String {
    let prepared = prepare(config, event, &invocation());
    let verified = block_on(token::verify(token, &TestKeys, policy, now)).expect("bench token verifies");
    let claims = prepared.api.as_ref().and_then(|a| a.claims.as_ref());
    policy::claims_agree(&verified, claims).expect("claims agree");
    prepared.audit_record().line(SystemTime::UNIX_EPOCH)
}

/// Polls a future that never waits (the keys are in memory) to completion.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

fn decision(c: &mut Criterion) {
    let config = config();
    let cases = [
        ("rest_approved", rest_event("admins"), true),
        (
            "rest_bad_body",
            rest_event("admins").replace("N3w-Passw0rd!", "short"),
            false,
        ),
        ("direct_approved", direct_event(), true),
    ];
    let mut group = c.benchmark_group("decision");
    for (name, event, valid) in &cases {
        let prepared = prepare(&config, event, &invocation());
        assert_eq!(prepared.command.is_ok(), *valid, "{name}: {:?}", prepared.command);
        group.bench_function(*name, |b| {
            b.iter(|| prepare_and_audit(black_box(&config), black_box(event)))
        });
    }
    let policy = TokenPolicy {
        issuers: TokenPolicy::issuers_for("us-east-1", POOL),
        accepted_token_use: vec![token::TokenUse::Id],
        client_ids: token::ClientIds::Only(vec!["benchclient1".into()]),
        max_age: std::time::Duration::from_secs(3600),
        leeway: token::MAX_LEEWAY,
    };
    let now = testing::now();
    let token = testing::sign(&serde_json::json!({
        "iss": format!("https://cognito-idp.us-east-1.amazonaws.com/{POOL}"),
        "sub": "8f2b7c1e-1111-2222-3333-444455556666",
        "aud": "benchclient1",
        "token_use": "id",
        "cognito:username": "admin1",
        "cognito:groups": ["admins"],
        "iat": now,
        "exp": now + 3600,
    }));
    let event = rest_event("admins");
    group.bench_function("rest_approved_with_rs256", |b| {
        b.iter(|| verify_prepare_and_audit(black_box(&config), &policy, black_box(&event), &token, now))
    });
    group.finish();
}

criterion_group!(benches, decision);
criterion_main!(benches);

//! The pure decision path, per event: raw event JSON -> parsed, claims authorised, body
//! validated (`prepare`) -> the audit record serialised as the JSON line that is logged.
//! No I/O. Issue 5's target: ≤ 20 µs per event. Run with `cargo bench --bench decision`.

use admin_set_password::{prepare, Config};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

const POOL: &str = "us-east-1_BenchPool1";

fn config() -> Config {
    Config::from_lookup(|name| {
        let value = match name {
            "USER_POOL_ID" | "ADMIN_USER_POOL_ID" => POOL,
            "ADMIN_GROUPS" => "admins,helpdesk",
            "VERIFY_CALLER_GROUPS" => "true",
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
                "aud": "bench-client",
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
    r#"{"username":"alice","password":"N3w-Passw0rd!","permanent":true}"#.to_owned()
}

fn decide_and_audit(config: &Config, event: &str) -> String {
    let prepared = prepare(config, event, "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
    serde_json::to_string(&prepared.audit_record()).expect("audit record serialises")
}

fn decision(c: &mut Criterion) {
    let config = config();
    let cases = [
        ("rest_approved", rest_event("admins"), true),
        ("rest_denied_not_admin", rest_event("readers"), false),
        ("direct_approved", direct_event(), true),
    ];
    let mut group = c.benchmark_group("decision");
    for (name, event, approved) in &cases {
        let prepared = prepare(&config, event, "check");
        assert_eq!(
            prepared.decision.is_ok(),
            *approved,
            "{name}: unexpected decision {:?}",
            prepared.decision
        );
        group.bench_function(*name, |b| {
            b.iter(|| decide_and_audit(black_box(&config), black_box(event)))
        });
    }
    group.finish();
}

criterion_group!(benches, decision);
criterion_main!(benches);

//! Input that tries to break the function: the checked-in corpus in `tests/corpus/` and
//! property tests over the whole event -> decision -> response path. Every input must end in
//! a 4xx or a typed error (or, for benign mutations, success), exactly one audit line, no
//! panic, and no `AdminSetUserPassword` unless the request was valid.
//!
//! Long run: `PROPTEST_CASES=20000 cargo test --lib hostile` (see docs/security.md).

use proptest::prelude::*;
use serde_json::Value;

use super::{config, pool, run_with, sample, set_calls, Run};
use crate::directory::memory::MemoryDirectory;
use crate::directory::UserStatus;
use crate::testing::POOL;

const CODES: &[&str] = &[
    "InvalidRequest",
    "Unauthorized",
    "Forbidden",
    "FederatedUser",
    "InvalidPassword",
    "InvalidParameter",
    "UserNotFound",
    "NotFound",
    "MethodNotAllowed",
    "NoVerifiedContact",
    "InvalidUserState",
    "CodeDeliveryFailed",
    "TooManyRequests",
    "ConfigurationError",
    "UpstreamError",
    "InternalError",
];

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

fn invoke(event: &str) -> Run {
    block_on(run_with(config(&[]), pool(), event))
}

/// Whether the invocation succeeded; panics if its answer is not well-formed.
fn succeeded(run: &Run) -> bool {
    match &run.response {
        Ok(response) if response.get("statusCode").is_some() => {
            let status = response["statusCode"].as_u64().expect("numeric status");
            let body: Value = serde_json::from_str(response["body"].as_str().expect("string body")).expect("JSON body");
            if status == 200 {
                return true;
            }
            assert!((400..600).contains(&status), "status {status}");
            assert!(CODES.contains(&body["error"]["code"].as_str().unwrap()), "{body}");
            false
        }
        Ok(_) => true,
        Err(diagnostic) => {
            assert!(CODES.contains(&diagnostic.error_type.as_str()), "{diagnostic:?}");
            false
        }
    }
}

#[test]
fn every_corpus_input_is_refused_before_any_cognito_call() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let event = std::fs::read_to_string(&path).unwrap();
        let run = invoke(&event);
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(!succeeded(&run), "{name} must be refused: {:?}", run.response);
        assert!(run.calls.is_empty(), "{name} reached Cognito: {:?}", run.calls);
        let status = run.response.as_ref().ok().and_then(|r| r["statusCode"].as_u64());
        assert!(status.is_none_or(|s| (400..500).contains(&s)), "{name}: {status:?}");
        assert!(
            ["invalid", "denied"].contains(&run.audit["outcome"].as_str().unwrap()),
            "{name}: {}",
            run.audit
        );
        assert!(
            !run.output.concat().contains("Temp-Passw0rd!2026"),
            "{name}: password in the output"
        );
        seen += 1;
    }
    assert!(seen >= 40, "corpus has {seen} inputs");
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        "(admins|helpdesk|Admins| admins|\\[admins|admins\\]|,|\\n| ){0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// JSON pointers to every value in a sample event.
fn pointers(value: &Value, prefix: String, into: &mut Vec<String>) {
    into.push(prefix.clone());
    match value {
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| pointers(v, format!("{prefix}/{}", k.replace('~', "~0").replace('/', "~1")), into)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| pointers(v, format!("{prefix}/{i}"), into)),
        _ => {}
    }
}

const SAMPLES: &[&str] = &[
    "rest-set-temporary",
    "http-set-temporary",
    "direct-set-permanent",
    "rest-set-permanent-sign-out",
];

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics_and_never_sets_a_password(raw in ".{0,300}") {
        let run = invoke(&raw);
        prop_assert!(!succeeded(&run));
        prop_assert_eq!(set_calls(&run), 0);
    }

    #[test]
    fn any_mutation_of_a_sample_event_is_answered_and_audited(
        sample_index in 0..SAMPLES.len(),
        pick in any::<prop::sample::Index>(),
        replacement in any_json(),
    ) {
        let mut event: Value = serde_json::from_str(&sample(SAMPLES[sample_index])).unwrap();
        let mut paths = Vec::new();
        pointers(&event, String::new(), &mut paths);
        let path = pick.get(&paths).clone();
        match event.pointer_mut(&path) {
            Some(slot) => *slot = replacement,
            None => unreachable!("pointer from the same document"),
        }
        let run = invoke(&event.to_string());
        let ok = succeeded(&run);
        prop_assert_eq!(set_calls(&run), usize::from(ok), "a set happens exactly when the answer is success");
        prop_assert_eq!(run.audit["outcome"].as_str() == Some("success"), ok);
    }

    #[test]
    fn only_an_exact_live_admin_group_grants_access(groups in prop::collection::vec("(admins|helpdesk|Admins|admins |admins-ro|staff|root|)", 0..4)) {
        let names: Vec<&str> = groups.iter().map(String::as_str).collect();
        let directory = MemoryDirectory::default()
            .with_user(POOL, "alice", UserStatus::Confirmed, &names)
            .with_sub(POOL, "alice", "0d9c1f5e-alice")
            .with_user(POOL, "bob", UserStatus::Confirmed, &["staff"]);
        let run = block_on(run_with(config(&[]), directory, &sample("rest-set-temporary")));
        let admin = names.iter().any(|g| *g == "admins" || *g == "helpdesk");
        prop_assert_eq!(succeeded(&run), admin, "live groups {:?}", names);
    }
}

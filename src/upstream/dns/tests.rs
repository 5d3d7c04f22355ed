use super::*;
use std::str::FromStr;

fn name(host: &str) -> Name {
    Name::from_str(host).unwrap()
}

#[test]
fn connections_asking_meanwhile_join_the_same_lookup_until_it_is_too_old() {
    let resolver = SharedResolver::default();
    let t0 = Instant::now();
    let first = resolver.lookup_for(&name("cognito-idp.us-east-1.amazonaws.com"), t0);
    let again = resolver.lookup_for(
        &name("cognito-idp.us-east-1.amazonaws.com"),
        t0 + Duration::from_secs(9),
    );
    assert!(Arc::ptr_eq(&first, &again), "within KEEP_ANSWER: one lookup");
    let other_host = resolver.lookup_for(&name("secretsmanager.us-east-1.amazonaws.com"), t0);
    assert!(!Arc::ptr_eq(&first, &other_host), "one lookup per host");
    let later = resolver.lookup_for(&name("cognito-idp.us-east-1.amazonaws.com"), t0 + KEEP_ANSWER);
    assert!(!Arc::ptr_eq(&first, &later), "an old answer is asked again");
}

#[tokio::test]
async fn resolves_like_getaddrinfo_and_shares_the_answer() {
    let resolver = SharedResolver::default();
    let (a, b) = tokio::join!(resolver.resolve(name("localhost")), resolver.resolve(name("localhost")));
    let (a, b): (Vec<_>, Vec<_>) = (a.unwrap().collect(), b.unwrap().collect());
    assert!(!a.is_empty() && a.iter().all(|addr| addr.ip().is_loopback()), "{a:?}");
    assert_eq!(a, b);
    assert_eq!(resolver.lookups.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_failed_lookup_is_not_kept() {
    let resolver = SharedResolver::default();
    // RFC 6761: .invalid never resolves.
    let err = resolver.resolve(name("no-such-host.invalid")).await.unwrap_err();
    assert!(!err.to_string().is_empty());
    assert!(
        resolver.lookups.lock().unwrap().is_empty(),
        "the next connection asks again"
    );
}

use super::*;
use crate::testing::config;

fn token(username: &str, groups: &[&str]) -> VerifiedToken {
    VerifiedToken {
        issuer: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example".into(),
        sub: format!("sub-{username}"),
        username: username.into(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        client_id: "portalclient".into(),
        token_use: TokenUse::Id,
        issued_at: 0,
        expires_at: 0,
    }
}

fn admin(groups: &[&str]) -> Actor {
    Actor::Admin(token("alice", groups))
}

fn user(status: UserStatus, sub: &str) -> UserRecord {
    UserRecord {
        status,
        sub: Some(sub.into()),
        enabled: true,
    }
}

fn names(groups: &[&str]) -> Vec<String> {
    groups.iter().map(|g| g.to_string()).collect()
}

/// Facts for alice (live groups as given) acting on a target with `target_groups` and `status`.
fn facts(caller_groups: &[&str], target_groups: &[&str], status: UserStatus) -> Facts {
    Facts {
        caller_groups: Some(Ok(names(caller_groups))),
        caller_user: Some(Ok(user(UserStatus::Confirmed, "sub-alice"))),
        target_groups: Some(Ok(names(target_groups))),
        target_user: Some(Ok(user(status, "sub-bob"))),
    }
}

fn verdict(result: Result<(), AppError>) -> &'static str {
    match result {
        Ok(()) => "allow",
        Err(err) => err.code(),
    }
}

#[test]
fn lookups_are_those_the_rules_need() {
    let all = Lookups {
        caller_groups: true,
        caller_user: true,
        target_groups: true,
        target_user: true,
    };
    assert_eq!(lookups(&config(&[]), &admin(&[])), all);
    assert_eq!(
        lookups(&config(&[]), &Actor::Workflow),
        Lookups {
            caller_groups: false,
            caller_user: false,
            ..all
        }
    );
    let relaxed = config(&[
        ("PROTECTED_GROUPS", "NONE"),
        ("ALLOW_FEDERATED", "true"),
        ("WORKFLOW_TARGET_STATUSES", "*"),
    ]);
    assert_eq!(
        lookups(&relaxed, &Actor::Workflow),
        Lookups {
            caller_groups: false,
            caller_user: false,
            target_groups: false,
            target_user: false
        }
    );
    assert!(
        lookups(&relaxed, &admin(&[])).target_user,
        "an admin's self-reset check by sub needs the target"
    );
}

#[test]
fn the_decision_table() {
    use UserStatus::*;
    let base = config(&[("SUPER_ADMIN_GROUPS", "root")]);
    let federated_ok = config(&[("SUPER_ADMIN_GROUPS", "root"), ("ALLOW_FEDERATED", "true")]);
    let any_status = config(&[("WORKFLOW_TARGET_STATUSES", "*")]);
    type Row<'a> = (&'a str, &'a Config, Actor, Facts, &'a str);
    let rows: Vec<Row> = vec![
        (
            "admin resets staff",
            &base,
            admin(&[]),
            facts(&["admins"], &["staff"], Confirmed),
            "allow",
        ),
        (
            "helpdesk counts as admin",
            &base,
            admin(&[]),
            facts(&["helpdesk"], &[], Confirmed),
            "allow",
        ),
        (
            "live groups decide, not the token",
            &base,
            admin(&["admins"]),
            facts(&["staff"], &[], Confirmed),
            "Forbidden",
        ),
        (
            "near-miss group names",
            &base,
            admin(&[]),
            facts(&["Admins", "admins-ro"], &[], Confirmed),
            "Forbidden",
        ),
        (
            "admin may not reset an admin",
            &base,
            admin(&[]),
            facts(&["admins"], &["admins"], Confirmed),
            "Forbidden",
        ),
        (
            "admin may not reset a super admin",
            &base,
            admin(&[]),
            facts(&["admins"], &["root"], Confirmed),
            "Forbidden",
        ),
        (
            "super admin may reset an admin",
            &base,
            admin(&[]),
            facts(&["root"], &["admins"], Confirmed),
            "allow",
        ),
        (
            "federated target",
            &base,
            admin(&[]),
            facts(&["admins"], &[], ExternalProvider),
            "FederatedUser",
        ),
        (
            "federated allowed",
            &federated_ok,
            admin(&[]),
            facts(&["admins"], &[], ExternalProvider),
            "allow",
        ),
        (
            "workflow onboards a new user",
            &base,
            Actor::Workflow,
            facts(&[], &["staff"], ForceChangePassword),
            "allow",
        ),
        (
            "workflow may not take over an established user",
            &base,
            Actor::Workflow,
            facts(&[], &["staff"], Confirmed),
            "Forbidden",
        ),
        (
            "workflow with any status",
            &any_status,
            Actor::Workflow,
            facts(&[], &["staff"], Confirmed),
            "allow",
        ),
        (
            "workflow never resets a protected user",
            &any_status,
            Actor::Workflow,
            facts(&[], &["admins"], ForceChangePassword),
            "Forbidden",
        ),
        (
            "workflow and federated",
            &any_status,
            Actor::Workflow,
            facts(&[], &[], ExternalProvider),
            "FederatedUser",
        ),
    ];
    for (name, config, actor, facts, expected) in rows {
        assert_eq!(verdict(decide(config, &actor, facts)), expected, "{name}");
    }
}

#[test]
fn the_caller_is_settled_before_anything_about_the_target() {
    let c = config(&[]);
    let cases: Vec<(&str, Facts, &str)> = vec![
        (
            "caller unknown, target unknown",
            Facts {
                caller_user: Some(Err(AppError::UserNotFound)),
                target_user: Some(Err(AppError::UserNotFound)),
                ..facts(&["admins"], &[], UserStatus::Confirmed)
            },
            "Forbidden",
        ),
        (
            "Cognito refuses the caller's name as a parameter",
            Facts {
                caller_groups: Some(Err(AppError::InvalidParameter("about the caller".into()))),
                ..facts(&["admins"], &[], UserStatus::Confirmed)
            },
            "Forbidden",
        ),
        (
            "caller re-created under the same name",
            Facts {
                caller_user: Some(Ok(user(UserStatus::Confirmed, "sub-someone-else"))),
                ..facts(&["admins"], &[], UserStatus::Confirmed)
            },
            "Forbidden",
        ),
        (
            "caller disabled",
            Facts {
                caller_user: Some(Ok(UserRecord {
                    enabled: false,
                    ..user(UserStatus::Confirmed, "sub-alice")
                })),
                ..facts(&["admins"], &[], UserStatus::Confirmed)
            },
            "Forbidden",
        ),
        (
            "non-admin caller, missing target",
            Facts {
                target_user: Some(Err(AppError::UserNotFound)),
                ..facts(&["staff"], &[], UserStatus::Confirmed)
            },
            "Forbidden",
        ),
        (
            "admin caller, missing target",
            Facts {
                target_user: Some(Err(AppError::UserNotFound)),
                ..facts(&["admins"], &[], UserStatus::Confirmed)
            },
            "UserNotFound",
        ),
        (
            "caller look-up throttled",
            Facts {
                caller_groups: Some(Err(AppError::TooManyRequests)),
                ..facts(&["admins"], &[], UserStatus::Confirmed)
            },
            "TooManyRequests",
        ),
        (
            "target is the caller under another name",
            Facts {
                target_user: Some(Ok(user(UserStatus::Confirmed, "sub-alice"))),
                ..facts(&["admins"], &[], UserStatus::Confirmed)
            },
            "Forbidden",
        ),
    ];
    for (name, facts, expected) in cases {
        assert_eq!(verdict(decide(&c, &admin(&["admins"]), facts)), expected, "{name}");
    }
}

#[test]
fn missing_facts_fail_closed() {
    let c = config(&[]);
    let without = |edit: fn(&mut Facts)| {
        let mut f = facts(&["admins"], &[], UserStatus::Confirmed);
        edit(&mut f);
        verdict(decide(&c, &admin(&[]), f))
    };
    assert_eq!(without(|f| f.caller_user = None), "Forbidden");
    assert_eq!(without(|f| f.caller_groups = None), "Forbidden");
    assert_eq!(without(|f| f.target_groups = None), "Forbidden");
    assert_eq!(without(|f| f.target_user = None), "Forbidden");
    let workflow_without_status = Facts {
        target_user: None,
        ..facts(&[], &[], UserStatus::Confirmed)
    };
    assert_eq!(
        verdict(decide(&c, &Actor::Workflow, workflow_without_status)),
        "Forbidden"
    );
}

#[test]
fn callers_cannot_reset_themselves_by_username_in_any_case() {
    let alice = admin(&["admins"]);
    for target in ["alice", "ALICE", "Alice"] {
        let err = refuse_self_reset(&alice, &Username::parse(target).unwrap()).unwrap_err();
        assert_eq!(err.code(), "Forbidden");
    }
    assert!(refuse_self_reset(&alice, &Username::parse("bob").unwrap()).is_ok());
    assert!(refuse_self_reset(&Actor::Workflow, &Username::parse("alice").unwrap()).is_ok());
}

#[test]
fn authorizer_claims_must_agree_with_the_token() {
    let t = token("alice", &["admins", "helpdesk"]);
    let agreeing = AuthorizerClaims {
        issuer: Some(t.issuer.clone()),
        sub: Some(t.sub.clone()),
        cognito_username: Some("alice".into()),
        username: None,
        groups: Ok(names(&["helpdesk", "admins"])),
    };
    assert!(claims_agree(&t, Some(&agreeing)).is_ok());
    let cases: Vec<(&str, AuthorizerClaims)> = vec![
        (
            "another sub",
            AuthorizerClaims {
                sub: Some("sub-root".into()),
                ..agreeing.clone()
            },
        ),
        (
            "another name",
            AuthorizerClaims {
                cognito_username: Some("rooty".into()),
                ..agreeing.clone()
            },
        ),
        (
            "another issuer",
            AuthorizerClaims {
                issuer: Some("https://evil".into()),
                ..agreeing.clone()
            },
        ),
        (
            "more groups",
            AuthorizerClaims {
                groups: Ok(names(&["admins", "helpdesk", "root"])),
                ..agreeing.clone()
            },
        ),
        (
            "fewer groups",
            AuthorizerClaims {
                groups: Ok(names(&["admins"])),
                ..agreeing.clone()
            },
        ),
        (
            "malformed groups",
            AuthorizerClaims {
                groups: Err(()),
                ..agreeing.clone()
            },
        ),
        (
            "access-token name for an id token",
            AuthorizerClaims {
                cognito_username: None,
                username: Some("alice".into()),
                ..agreeing.clone()
            },
        ),
    ];
    for (name, claims) in cases {
        assert_eq!(
            claims_agree(&t, Some(&claims)).unwrap_err().code(),
            "Forbidden",
            "{name}"
        );
    }
    assert_eq!(claims_agree(&t, None).unwrap_err().code(), "Forbidden");
    let access = VerifiedToken {
        token_use: TokenUse::Access,
        ..t
    };
    let access_claims = AuthorizerClaims {
        cognito_username: None,
        username: Some("alice".into()),
        ..agreeing
    };
    assert!(claims_agree(&access, Some(&access_claims)).is_ok());
}

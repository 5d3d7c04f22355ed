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
        username: "bob".into(),
        status,
        sub: Some(sub.into()),
        enabled: true,
        verified_contact: true,
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
            target_user: true
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

#[test]
fn only_the_required_alias_answers() {
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:admin-set-password";
    let live = config(&[("REQUIRED_ALIAS", "live")]);
    let refused = |invoked: Invoked| Err(NotTheAlias { invoked });
    let qualified = |q: &str| Invoked::Qualified(q.into());
    let rows: Vec<(&str, String, Result<(), NotTheAlias>)> = vec![
        ("the alias", format!("{arn}:live"), Ok(())),
        ("a numbered version", format!("{arn}:7"), refused(qualified("7"))),
        ("$LATEST", format!("{arn}:$LATEST"), refused(qualified("$LATEST"))),
        ("the unqualified ARN", arn.to_owned(), refused(Invoked::Unqualified)),
        ("another alias", format!("{arn}:canary"), refused(qualified("canary"))),
        ("another case", format!("{arn}:Live"), refused(qualified("Live"))),
        ("a garbage ARN", "live".to_owned(), refused(Invoked::Unreadable)),
        ("no ARN", String::new(), refused(Invoked::Unreadable)),
    ];
    for (name, invoked_arn, expected) in rows {
        assert_eq!(require_alias(&live, &invoked_arn), expected, "{name}");
        assert!(
            require_alias(&config(&[]), &invoked_arn).is_ok(),
            "{name}: no REQUIRED_ALIAS, no check"
        );
    }
}

#[test]
fn the_alias_refusal_is_forbidden_and_the_audit_names_the_qualifier() {
    let live = config(&[("REQUIRED_ALIAS", "live")]);
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:admin-set-password";
    for (invoked_arn, detail) in [
        (format!("{arn}:7"), "invoked qualifier: 7"),
        (format!("{arn}:$LATEST"), "invoked qualifier: $LATEST"),
        (arn.to_owned(), "invoked qualifier: unqualified"),
    ] {
        let refusal = require_alias(&live, &invoked_arn).unwrap_err();
        assert_eq!(refusal.detail(), detail);
        let err = refusal.error();
        assert_eq!((err.code(), err.status()), ("Forbidden", 403));
        assert!(
            !err.to_string().contains('7') && !err.to_string().contains("LATEST"),
            "{err}"
        );
    }
}

#[test]
fn a_token_without_an_admin_group_is_refused_before_any_look_up() {
    let c = config(&[("SUPER_ADMIN_GROUPS", "root")]);
    let rows: &[(&[&str], &str)] = &[
        (&["admins"], "allow"),
        (&["staff", "helpdesk"], "allow"),
        (&["root"], "allow"),
        (&[], "Forbidden"),
        (&["staff"], "Forbidden"),
        (&["Admins", "admins-ro"], "Forbidden"),
    ];
    for (groups, expected) in rows {
        assert_eq!(
            verdict(refuse_non_admin_token(&c, &token("alice", groups))),
            *expected,
            "{groups:?}"
        );
    }
    let early = refuse_non_admin_token(&c, &token("alice", &["staff"])).unwrap_err();
    let live = decide(&c, &admin(&["staff"]), facts(&["staff"], &[], UserStatus::Confirmed)).unwrap_err();
    assert_eq!(
        (early.code(), early.to_string()),
        (live.code(), live.to_string()),
        "the same answer as the live check"
    );
}

#[test]
fn workflows_reach_only_users_marked_for_onboarding() {
    use UserStatus::*;
    let marked = config(&[("WORKFLOW_TARGET_GROUP", "onboarding-pending")]);
    let marked_any_status = config(&[
        ("WORKFLOW_TARGET_GROUP", "onboarding-pending"),
        ("WORKFLOW_TARGET_STATUSES", "*"),
    ]);
    let unmarked = config(&[]);
    let rows: Vec<(&str, &Config, Actor, Facts, &str)> = vec![
        (
            "a new user marked for onboarding",
            &marked,
            Actor::Workflow,
            facts(&[], &["staff", "onboarding-pending"], ForceChangePassword),
            "allow",
        ),
        (
            "a user an admin reset (right status, no marker)",
            &marked,
            Actor::Workflow,
            facts(&[], &["staff"], ForceChangePassword),
            "Forbidden",
        ),
        (
            "a near-miss group name",
            &marked,
            Actor::Workflow,
            facts(
                &[],
                &["Onboarding-Pending", "onboarding-pending-old"],
                ForceChangePassword,
            ),
            "Forbidden",
        ),
        (
            "marked but established",
            &marked,
            Actor::Workflow,
            facts(&[], &["onboarding-pending"], Confirmed),
            "Forbidden",
        ),
        (
            "any status still needs the marker",
            &marked_any_status,
            Actor::Workflow,
            facts(&[], &[], Confirmed),
            "Forbidden",
        ),
        (
            "marked, any status",
            &marked_any_status,
            Actor::Workflow,
            facts(&[], &["onboarding-pending"], Confirmed),
            "allow",
        ),
        (
            "the marker does not lift protection",
            &marked,
            Actor::Workflow,
            facts(&[], &["onboarding-pending", "admins"], ForceChangePassword),
            "Forbidden",
        ),
        (
            "no WORKFLOW_TARGET_GROUP, no marker rule",
            &unmarked,
            Actor::Workflow,
            facts(&[], &["staff"], ForceChangePassword),
            "allow",
        ),
        (
            "admins are not bound by the workflow's marker",
            &marked,
            admin(&[]),
            facts(&["admins"], &["staff"], Confirmed),
            "allow",
        ),
        (
            "the target's groups missing",
            &marked,
            Actor::Workflow,
            Facts {
                target_groups: None,
                ..facts(&[], &[], ForceChangePassword)
            },
            "Forbidden",
        ),
        (
            "the target's groups look-up throttled",
            &marked,
            Actor::Workflow,
            Facts {
                target_groups: Some(Err(AppError::TooManyRequests)),
                ..facts(&[], &[], ForceChangePassword)
            },
            "TooManyRequests",
        ),
    ];
    for (name, config, actor, facts, expected) in rows {
        assert_eq!(verdict(decide(config, &actor, facts)), expected, "{name}");
    }
    let unmarked_refusal = decide(&marked, &Actor::Workflow, facts(&[], &["staff"], ForceChangePassword)).unwrap_err();
    assert!(
        unmarked_refusal.to_string().contains("not marked for onboarding"),
        "{unmarked_refusal}"
    );
}

#[test]
fn the_onboarding_marker_needs_the_targets_groups_even_without_protected_groups() {
    let marked = config(&[
        ("WORKFLOW_TARGET_GROUP", "onboarding-pending"),
        ("PROTECTED_GROUPS", "NONE"),
        ("WORKFLOW_TARGET_STATUSES", "*"),
        ("ALLOW_FEDERATED", "true"),
    ]);
    assert!(lookups(&marked, &Actor::Workflow).target_groups);
    assert!(
        !lookups(&marked, &admin(&[])).target_groups,
        "an admin's request does not read the workflow's marker"
    );
}

#[test]
fn a_secret_binds_by_its_reported_name_and_home() {
    let c = config(&[("PASSWORD_SECRET_PREFIX", "onboarding/")]);
    let home = crate::request::FunctionHome::from_function_arn("arn:aws:lambda:eu-west-1:123456789012:function:f");
    let arn = |region: &str, name: &str| format!("arn:aws:secretsmanager:{region}:123456789012:secret:{name}-AbCdEf");
    let own = arn("eu-west-1", "onboarding/john");
    assert_eq!(secret_bound(&c, "john", home.as_ref(), "onboarding/john", &own), Ok(()));
    // A partial ARN naming the start of another user's secret: the reported name is that user's.
    let other = arn("eu-west-1", "onboarding/john-smith1");
    assert!(secret_bound(&c, "john", home.as_ref(), "onboarding/john-smith1", &other).is_err());
    // Reported in another region than the function's.
    assert!(secret_bound(
        &c,
        "john",
        home.as_ref(),
        "onboarding/john",
        &arn("us-east-1", "onboarding/john")
    )
    .is_err());
    // Off Lambda there is no invoked ARN: the id was a name, resolved in the function's own home.
    assert_eq!(secret_bound(&c, "john", None, "onboarding/john", &own), Ok(()));
    assert!(secret_bound(&c, "john", None, "onboarding/john", "not an arn").is_err());
}

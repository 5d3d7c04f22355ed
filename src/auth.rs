//! Who the caller is and whether they may act on the target: group-claim parsing in both
//! API Gateway formats, and the authorisation policy as plain functions over plain data.

use crate::config::Config;
use crate::directory::{TargetUser, UserStatus};
use crate::error::AppError;
use crate::request::Username;

/// A set of Cognito group names, matched exactly and case-sensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupSet(Vec<String>);

impl GroupSet {
    /// Parses a trusted, comma-separated list from configuration (whitespace around names is trimmed).
    pub fn from_config_list(list: &str) -> Result<Self, String> {
        let mut names = Vec::new();
        for name in list.split(',').map(str::trim) {
            if !is_group_name(name) {
                return Err("expected comma-separated group names without spaces, e.g. admins,helpdesk".into());
            }
            if !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
        Ok(Self(names))
    }

    pub fn names(&self) -> &[String] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether any of `groups` is in the set.
    pub fn intersects<S: AsRef<str>>(&self, groups: &[S]) -> bool {
        groups.iter().any(|g| self.0.iter().any(|n| n == g.as_ref()))
    }

    /// The members of the set that occur in `groups`.
    pub fn matching<'a, S: AsRef<str>>(&'a self, groups: &'a [S]) -> impl Iterator<Item = &'a str> {
        self.0
            .iter()
            .map(String::as_str)
            .filter(|n| groups.iter().any(|g| g.as_ref() == *n))
    }
}

/// Cognito group names: 1-128 characters, no whitespace or control characters. Anything
/// else in a claim is a forgery or a parse error, never a near-match.
fn is_group_name(name: &str) -> bool {
    let len = name.chars().count();
    (1..=128).contains(&len) && !name.chars().any(|c| c.is_whitespace() || c.is_control() || c == ',')
}

/// How an entry shape encodes the `cognito:groups` array claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupClaimFormat {
    /// REST API (v1) Cognito authorizer: `"admins,editors"`.
    CommaSeparated,
    /// HTTP API (v2) JWT authorizer: `"[admins editors]"`.
    Bracketed,
}

/// Parses a groups claim. Any irregularity (empty, stray whitespace, missing bracket, empty
/// element) rejects the whole claim: a claim that does not parse cleanly grants nothing.
pub fn parse_groups_claim(raw: &str, format: GroupClaimFormat) -> Option<Vec<String>> {
    let elements: Vec<&str> = match format {
        GroupClaimFormat::CommaSeparated => raw.split(',').collect(),
        GroupClaimFormat::Bracketed => {
            let inner = raw.strip_prefix('[')?.strip_suffix(']')?;
            if inner.is_empty() {
                return Some(Vec::new());
            }
            inner.split(' ').collect()
        }
    };
    elements
        .into_iter()
        .map(|e| is_group_name(e).then(|| e.to_owned()))
        .collect()
}

/// The caller as the API Gateway authorizer's claims describe them. Fields that are missing
/// or malformed are `None`, which grants nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiCaller {
    pub username: Option<String>,
    pub sub: Option<String>,
    pub issuer: Option<String>,
    pub groups: Option<Vec<String>>,
}

/// A caller whose token passed the claim checks; their live groups may still refuse them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorisedCaller {
    pub username: String,
    pub sub: Option<String>,
    pub claimed_groups: Vec<String>,
}

/// First gate, before any Cognito call: issuer pinned to the admin pool, a username, and a
/// cleanly parsed groups claim naming an admin or super-admin group.
pub fn authorise_claims(config: &Config, caller: &ApiCaller) -> Result<AuthorisedCaller, AppError> {
    if caller.issuer.as_deref() != Some(config.expected_issuer.as_str()) {
        return Err(AppError::Forbidden(
            "the token was not issued by the admin user pool".into(),
        ));
    }
    let username = caller
        .username
        .clone()
        .ok_or_else(|| AppError::Forbidden("the token has no usable cognito:username claim".into()))?;
    let groups = caller
        .groups
        .clone()
        .ok_or_else(|| AppError::Forbidden("the token's cognito:groups claim is missing or malformed".into()))?;
    if !config.admin_groups.intersects(&groups) && !config.super_admin_groups.intersects(&groups) {
        return Err(AppError::Forbidden(
            "the caller is not a member of an authorised admin group".into(),
        ));
    }
    Ok(AuthorisedCaller {
        username,
        sub: caller.sub.clone(),
        claimed_groups: groups,
    })
}

/// Users change their own password with ChangePassword, which proves they know the old one.
/// Usernames compare case-insensitively because pools are case-insensitive by default: this
/// refuses more, never less. The `sub` comparison after the look-up catches aliases.
pub fn refuse_self_reset(caller: &AuthorisedCaller, target: &Username) -> Result<(), AppError> {
    if caller.username.to_lowercase() == target.as_str().to_lowercase() {
        return Err(self_reset());
    }
    Ok(())
}

fn self_reset() -> AppError {
    AppError::Forbidden("callers may not set their own password here; use ChangePassword".into())
}

/// The Cognito look-ups a request needs under the enabled rules; they run concurrently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookups {
    /// The caller's live groups in the admin pool (`VERIFY_CALLER_GROUPS`).
    pub caller_groups: bool,
    /// The target's groups (`PROTECTED_GROUPS`).
    pub target_groups: bool,
    /// The target's status and `sub` (federated rule; self-reset by `sub`).
    pub target_user: bool,
}

impl Lookups {
    pub fn needed(config: &Config, caller: Option<&AuthorisedCaller>) -> Self {
        let claims_prove_super_admin = caller
            .is_some_and(|c| !config.verify_caller_groups && config.super_admin_groups.intersects(&c.claimed_groups));
        Self {
            caller_groups: caller.is_some() && config.verify_caller_groups,
            target_groups: !config.protected_groups.is_empty() && !claims_prove_super_admin,
            target_user: !config.allow_federated || caller.is_some_and(|c| c.sub.is_some()),
        }
    }
}

/// What the look-ups found; `None` where a look-up was not needed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub caller_groups: Option<Vec<String>>,
    pub target_groups: Option<Vec<String>>,
    pub target_user: Option<TargetUser>,
}

/// The caller's live membership, when `VERIFY_CALLER_GROUPS` is on: an admin removed from
/// the group is refused at once, whatever their token says. Returns the groups that count
/// (live if verified, claimed otherwise).
pub fn authorise_live_caller<'a>(
    config: &Config,
    caller: Option<&'a AuthorisedCaller>,
    live_groups: Option<&'a [String]>,
) -> Result<&'a [String], AppError> {
    match (caller, config.verify_caller_groups) {
        (None, _) => Ok(&[]),
        (Some(c), false) => Ok(&c.claimed_groups),
        (Some(_), true) => {
            let live = live_groups.unwrap_or(&[]);
            if !config.admin_groups.intersects(live) && !config.super_admin_groups.intersects(live) {
                return Err(AppError::Forbidden(
                    "the caller is no longer a member of an authorised admin group".into(),
                ));
            }
            Ok(live)
        }
    }
}

/// Second gate, on live data: membership, self-reset by `sub`, protected targets, federated
/// targets. A fact a rule needs but lacks refuses (fail closed).
pub fn authorise_target(config: &Config, caller: Option<&AuthorisedCaller>, facts: &Facts) -> Result<(), AppError> {
    let effective_groups = authorise_live_caller(config, caller, facts.caller_groups.as_deref())?;

    if let (Some(caller_sub), Some(target)) = (caller.and_then(|c| c.sub.as_deref()), &facts.target_user) {
        if target.sub.as_deref() == Some(caller_sub) {
            return Err(self_reset());
        }
    }

    if !config.protected_groups.is_empty() && !config.super_admin_groups.intersects(effective_groups) {
        let Some(target_groups) = facts.target_groups.as_deref() else {
            return Err(AppError::Forbidden("the target's groups could not be checked".into()));
        };
        if let Some(group) = config.protected_groups.matching(target_groups).next() {
            return Err(AppError::Forbidden(format!(
                "the target is a member of the protected group {group}; only a member of SUPER_ADMIN_GROUPS may set its password"
            )));
        }
    }

    if !config.allow_federated {
        match &facts.target_user {
            Some(TargetUser {
                status: UserStatus::ExternalProvider,
                ..
            }) => return Err(AppError::FederatedUser),
            Some(_) => {}
            None => return Err(AppError::Forbidden("the target's status could not be checked".into())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use GroupClaimFormat::{Bracketed, CommaSeparated};

    fn groups(names: &[&str]) -> Option<Vec<String>> {
        Some(names.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn groups_claim_in_rest_api_format_is_split_on_commas() {
        assert_eq!(
            parse_groups_claim("admins,editors", CommaSeparated),
            groups(&["admins", "editors"])
        );
        assert_eq!(parse_groups_claim("admins", CommaSeparated), groups(&["admins"]));
    }

    #[test]
    fn groups_claim_in_http_api_format_is_split_on_spaces() {
        assert_eq!(
            parse_groups_claim("[admins editors]", Bracketed),
            groups(&["admins", "editors"])
        );
        assert_eq!(parse_groups_claim("[admins]", Bracketed), groups(&["admins"]));
        assert_eq!(parse_groups_claim("[]", Bracketed), groups(&[]));
    }

    #[test]
    fn hostile_group_claims_parse_to_nothing() {
        let hostile = [
            ("", CommaSeparated),
            (" admins ", CommaSeparated),
            ("admins\n", CommaSeparated),
            ("admins,", CommaSeparated),
            (",admins", CommaSeparated),
            ("admins,,editors", CommaSeparated),
            ("admins, editors", CommaSeparated),
            ("admins\u{0},x", CommaSeparated),
            ("[admins", Bracketed),
            ("admins]", Bracketed),
            ("admins", Bracketed),
            ("[admins  editors]", Bracketed),
            ("[ admins]", Bracketed),
            ("[admins,editors]", Bracketed),
            ("[admins\teditors]", Bracketed),
            ("", Bracketed),
        ];
        for (raw, format) in hostile {
            assert_eq!(
                parse_groups_claim(raw, format),
                None,
                "{raw:?} in {format:?} must not parse"
            );
        }
    }

    fn config(vars: &[(&str, &str)]) -> Config {
        let mut all = vec![("USER_POOL_ID", "eu-west-1_Pool1"), ("ADMIN_GROUPS", "admins")];
        all.extend_from_slice(vars);
        Config::from_lookup(|k| all.iter().rev().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())).unwrap()
    }

    const ISS: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool1";

    fn caller(groups_claim: Option<Vec<String>>) -> ApiCaller {
        ApiCaller {
            username: Some("alice".into()),
            sub: Some("sub-alice".into()),
            issuer: Some(ISS.into()),
            groups: groups_claim,
        }
    }

    #[test]
    fn only_exact_admin_group_members_pass_the_claim_gate() {
        let c = config(&[]);
        let table: [(&[&str], bool); 7] = [
            (&["admins"], true),
            (&["editors", "admins"], true),
            (&["admins-readonly"], false),
            (&["notadmins"], false),
            (&["Admins"], false),
            (&["editors"], false),
            (&[], false),
        ];
        for (claimed, allowed) in table {
            let result = authorise_claims(&c, &caller(groups(claimed)));
            assert_eq!(result.is_ok(), allowed, "groups {claimed:?}: {result:?}");
        }
    }

    #[test]
    fn missing_claims_and_foreign_issuers_are_forbidden() {
        let c = config(&[]);
        let cases = [
            ApiCaller {
                groups: None,
                ..caller(None)
            },
            ApiCaller {
                username: None,
                ..caller(groups(&["admins"]))
            },
            ApiCaller {
                issuer: None,
                ..caller(groups(&["admins"]))
            },
            ApiCaller {
                issuer: Some("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other".into()),
                ..caller(groups(&["admins"]))
            },
            ApiCaller {
                issuer: Some(format!("{ISS}/")),
                ..caller(groups(&["admins"]))
            },
            ApiCaller::default(),
        ];
        for case in cases {
            let err = authorise_claims(&c, &case).unwrap_err();
            assert_eq!(err.code(), "Forbidden", "{case:?}");
        }
    }

    #[test]
    fn super_admins_pass_the_claim_gate_without_being_admins() {
        let c = config(&[("SUPER_ADMIN_GROUPS", "root")]);
        assert!(authorise_claims(&c, &caller(groups(&["root"]))).is_ok());
    }

    fn authorised(claimed: &[&str]) -> AuthorisedCaller {
        authorise_claims(&config(&[("SUPER_ADMIN_GROUPS", "root")]), &caller(groups(claimed))).unwrap()
    }

    #[test]
    fn callers_cannot_reset_themselves_by_username_in_any_case() {
        let alice = authorised(&["admins"]);
        for target in ["alice", "ALICE", "Alice"] {
            let err = refuse_self_reset(&alice, &Username::parse(target).unwrap()).unwrap_err();
            assert_eq!(err.code(), "Forbidden");
        }
        assert!(refuse_self_reset(&alice, &Username::parse("bob").unwrap()).is_ok());
    }

    fn user(status: UserStatus, sub: &str) -> Option<TargetUser> {
        Some(TargetUser {
            status,
            sub: Some(sub.into()),
        })
    }

    fn facts(caller_groups: &[&str], target_groups: &[&str], target: Option<TargetUser>) -> Facts {
        Facts {
            caller_groups: groups(caller_groups),
            target_groups: groups(target_groups),
            target_user: target,
        }
    }

    #[test]
    fn lookups_are_only_those_the_enabled_rules_need() {
        let alice = authorised(&["admins"]);
        let all_on = Lookups::needed(&config(&[]), Some(&alice));
        assert_eq!(
            all_on,
            Lookups {
                caller_groups: true,
                target_groups: true,
                target_user: true
            }
        );

        let relaxed = config(&[
            ("VERIFY_CALLER_GROUPS", "false"),
            ("PROTECTED_GROUPS", ""),
            ("ALLOW_FEDERATED", "true"),
        ]);
        assert_eq!(relaxed.protected_groups, relaxed.admin_groups, "empty means default");
        let direct = Lookups::needed(&relaxed, None);
        assert_eq!(
            direct,
            Lookups {
                caller_groups: false,
                target_groups: true,
                target_user: false
            }
        );

        let root_by_claims = config(&[("VERIFY_CALLER_GROUPS", "false"), ("SUPER_ADMIN_GROUPS", "root")]);
        let root = authorised(&["root"]);
        assert!(!Lookups::needed(&root_by_claims, Some(&root)).target_groups);
    }

    #[test]
    fn live_membership_decides_when_verification_is_on() {
        let c = config(&[]);
        let alice = authorised(&["admins"]);
        let removed = facts(&["editors"], &[], user(UserStatus::Confirmed, "sub-bob"));
        assert_eq!(
            authorise_target(&c, Some(&alice), &removed).unwrap_err().code(),
            "Forbidden"
        );
        let still = facts(&["admins"], &[], user(UserStatus::Confirmed, "sub-bob"));
        assert!(authorise_target(&c, Some(&alice), &still).is_ok());
    }

    #[test]
    fn self_reset_is_refused_by_sub_even_under_another_name() {
        let c = config(&[]);
        let alice = authorised(&["admins"]);
        let alias_of_alice = facts(&["admins"], &[], user(UserStatus::Confirmed, "sub-alice"));
        let err = authorise_target(&c, Some(&alice), &alias_of_alice).unwrap_err();
        assert!(err.to_string().contains("own password"), "{err}");
    }

    #[test]
    fn protected_targets_need_a_super_admin() {
        let c = config(&[("SUPER_ADMIN_GROUPS", "root")]);
        let target_admin = facts(&["admins"], &["admins"], user(UserStatus::Confirmed, "sub-bob"));
        let err = authorise_target(&c, Some(&authorised(&["admins"])), &target_admin).unwrap_err();
        assert!(err.to_string().contains("protected group admins"), "{err}");

        let root = authorised(&["root"]);
        let as_root = facts(&["root"], &["admins"], user(UserStatus::Confirmed, "sub-bob"));
        assert!(authorise_target(&c, Some(&root), &as_root).is_ok());

        let claims_say_root_but_live_does_not = facts(&["admins"], &["admins"], user(UserStatus::Confirmed, "sub-bob"));
        assert!(authorise_target(&c, Some(&root), &claims_say_root_but_live_does_not).is_err());
    }

    #[test]
    fn direct_invocations_cannot_reset_protected_targets() {
        let c = config(&[]);
        let target_admin = facts(&[], &["admins"], user(UserStatus::Confirmed, "sub-bob"));
        assert_eq!(
            authorise_target(&c, None, &target_admin).unwrap_err().code(),
            "Forbidden"
        );
        let plain = facts(&[], &["staff"], user(UserStatus::Confirmed, "sub-bob"));
        assert!(authorise_target(&c, None, &plain).is_ok());
    }

    #[test]
    fn federated_targets_are_refused_unless_allowed() {
        let alice = authorised(&["admins"]);
        let federated = facts(&["admins"], &[], user(UserStatus::ExternalProvider, "sub-fed"));
        let err = authorise_target(&config(&[]), Some(&alice), &federated).unwrap_err();
        assert_eq!((err.code(), err.status()), ("FederatedUser", 409));
        assert!(authorise_target(&config(&[("ALLOW_FEDERATED", "true")]), Some(&alice), &federated).is_ok());
    }

    #[test]
    fn missing_facts_fail_closed() {
        let c = config(&[]);
        let alice = authorised(&["admins"]);
        let no_target_groups = Facts {
            target_groups: None,
            ..facts(&["admins"], &[], user(UserStatus::Confirmed, "s"))
        };
        assert!(authorise_target(&c, Some(&alice), &no_target_groups).is_err());
        let no_status = facts(&["admins"], &[], None);
        assert!(authorise_target(&c, Some(&alice), &no_status).is_err());
        let no_live_groups = Facts {
            caller_groups: None,
            ..facts(&[], &[], user(UserStatus::Confirmed, "s"))
        };
        assert!(authorise_target(&c, Some(&alice), &no_live_groups).is_err());
    }
}

//! What the function checks about a password before Cognito sees it, and the passwords it
//! makes: the pool's policy with every broken rule listed at once (`policy`), the common-
//! password blocklist (`blocklist`), generated temporary passwords (`generate`), and the
//! admin's stated reason (`reason`). Pure: no I/O, no AWS types; the handler fetches the
//! pool's policy and passes it in.

pub mod blocklist;
pub mod generate;
pub mod policy;
pub mod reason;

pub use blocklist::Blocklist;
pub use generate::{generate, GenerateError, MIN_GENERATED_LENGTH};
pub use policy::{PasswordPolicy, Violation};
pub use reason::{Reason, ReasonError};

/// Pool policies that leave the policy rules to Cognito: used when `DescribeUserPool` failed.
const NO_POLICY_RULES: PasswordPolicy = PasswordPolicy {
    minimum_length: 0,
    require_uppercase: false,
    require_lowercase: false,
    require_numbers: false,
    require_symbols: false,
    temporary_password_validity_days: 7,
};

/// The policy a password is generated for when the pool's could not be read: longer than
/// almost any pool asks for, with every class, so Cognito's own check still passes.
pub const FALLBACK_GENERATION_POLICY: PasswordPolicy = PasswordPolicy {
    minimum_length: 24,
    ..PasswordPolicy::COGNITO_DEFAULT
};

/// The function's own check before Cognito sees a password: every rule it breaks, at once.
/// Without the pool's policy only the blocklist rules apply (Cognito still checks its policy);
/// with `PASSWORD_BLOCKLIST=false` only the pool's policy.
pub fn check(password: &str, username: &str, policy: Option<&PasswordPolicy>, blocklist: bool) -> Vec<Violation> {
    let list = blocklist.then(Blocklist::common_passwords);
    let mut violations = policy.unwrap_or(&NO_POLICY_RULES).violations(password, username, list);
    if !blocklist {
        violations.retain(|v| *v != Violation::ContainsUsername);
    }
    violations
}

#[cfg(test)]
mod check_tests {
    use super::*;

    const STRICT: PasswordPolicy = PasswordPolicy {
        minimum_length: 14,
        ..PasswordPolicy::COGNITO_DEFAULT
    };

    #[test]
    fn every_rule_is_listed_at_once() {
        assert_eq!(
            check("password", "bob", Some(&STRICT), true),
            [
                Violation::MinimumLength,
                Violation::RequireUppercase,
                Violation::RequireNumbers,
                Violation::RequireSymbols,
                Violation::CommonPassword
            ]
        );
        assert!(check("Correct-Horse-Battery-9", "bob", Some(&STRICT), true).is_empty());
    }

    #[test]
    fn without_the_pools_policy_only_the_blocklist_rules_apply() {
        assert_eq!(check("password", "bob", None, true), [Violation::CommonPassword]);
        assert_eq!(check("xx-alice-xx", "alice", None, true), [Violation::ContainsUsername]);
        assert!(
            check("short", "bob", None, true).is_empty(),
            "Cognito checks the length"
        );
    }

    #[test]
    fn the_blocklist_switch_turns_both_of_its_rules_off() {
        assert!(check("password", "bob", None, false).is_empty());
        assert!(check("xx-alice-xx", "alice", None, false).is_empty());
    }
}

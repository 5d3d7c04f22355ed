//! A user pool's password policy and every rule a password breaks, all at once.
//!
//! Cognito's own `InvalidPasswordException` names only the first rule broken, so an admin
//! learns the policy one refusal at a time. Checking the pool's policy ourselves before
//! `AdminSetUserPassword` lets the error list every violation. The character classes are
//! Cognito's own definitions (developer guide, "Adding user pool password requirements"):
//! Basic Latin letters, the digits 0-9, and its list of special characters, where a space
//! counts as one when it is neither the first nor the last character (Cognito refuses a
//! leading or trailing space outright).

use std::time::{Duration, SystemTime};

use secrecy::zeroize::Zeroizing;
use serde::Serialize;

use super::blocklist::Blocklist;

/// The characters Cognito counts as symbols (besides an inner space), in its documented order.
pub const COGNITO_SYMBOLS: &str = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-";

/// A username shorter than this is not looked for inside a password: any 3-letter string is
/// too likely to appear by chance to mean anything (and would refuse good passwords).
pub const MIN_USERNAME_CHARS_TO_MATCH: usize = 4;

/// The fields of Cognito's `PasswordPolicyType` that decide whether a password is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Minimum length in characters (Cognito allows 6 to 99).
    pub minimum_length: u32,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
    /// Days a temporary password stays usable (`TemporaryPasswordValidityDays`): what a
    /// temporary set tells the admin about its expiry, never a rule for the password.
    pub temporary_password_validity_days: u32,
}

impl PasswordPolicy {
    /// The policy Cognito gives a new pool that specifies none: 8 characters, every class.
    pub const COGNITO_DEFAULT: Self = Self {
        minimum_length: 8,
        require_uppercase: true,
        require_lowercase: true,
        require_numbers: true,
        require_symbols: true,
        temporary_password_validity_days: 7,
    };

    /// When a temporary password set at `now` stops working, as RFC 3339 UTC to the second.
    pub fn temporary_password_expires_at(&self, now: SystemTime) -> String {
        let validity = Duration::from_secs(u64::from(self.temporary_password_validity_days) * 86_400);
        let expires = aws_smithy_types::DateTime::from(now + validity);
        let whole_seconds = aws_smithy_types::DateTime::from_secs(expires.secs());
        whole_seconds
            .fmt(aws_smithy_types::date_time::Format::DateTime)
            .unwrap_or_default()
    }

    /// Every rule `password` breaks, in the order of [`Violation::ALL`]. `username` is the
    /// target's (matched case-insensitively when it has at least
    /// [`MIN_USERNAME_CHARS_TO_MATCH`] characters); `blocklist` is `None` when the operator
    /// turned the common-password check off.
    pub fn violations(&self, password: &str, username: &str, blocklist: Option<&Blocklist>) -> Vec<Violation> {
        let classes = Classes::of(password);
        let mut found = Vec::new();
        if classes.length < self.minimum_length as usize {
            found.push(Violation::MinimumLength);
        }
        if self.require_uppercase && !classes.uppercase {
            found.push(Violation::RequireUppercase);
        }
        if self.require_lowercase && !classes.lowercase {
            found.push(Violation::RequireLowercase);
        }
        if self.require_numbers && !classes.number {
            found.push(Violation::RequireNumbers);
        }
        if self.require_symbols && !classes.symbol {
            found.push(Violation::RequireSymbols);
        }
        if blocklist.is_some_and(|list| list.contains(password)) {
            found.push(Violation::CommonPassword);
        }
        if contains_username(password, username) {
            found.push(Violation::ContainsUsername);
        }
        found
    }
}

/// One broken rule. Serialises to the name the API's error body lists: Cognito's
/// `PasswordPolicy` field names for the policy rules, then our two blocklist rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Violation {
    MinimumLength,
    RequireUppercase,
    RequireLowercase,
    RequireNumbers,
    RequireSymbols,
    CommonPassword,
    ContainsUsername,
}

impl Violation {
    /// Every violation, in the order `violations` reports them.
    pub const ALL: [Self; 7] = [
        Self::MinimumLength,
        Self::RequireUppercase,
        Self::RequireLowercase,
        Self::RequireNumbers,
        Self::RequireSymbols,
        Self::CommonPassword,
        Self::ContainsUsername,
    ];

    /// The serialised name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MinimumLength => "minimumLength",
            Self::RequireUppercase => "requireUppercase",
            Self::RequireLowercase => "requireLowercase",
            Self::RequireNumbers => "requireNumbers",
            Self::RequireSymbols => "requireSymbols",
            Self::CommonPassword => "commonPassword",
            Self::ContainsUsername => "containsUsername",
        }
    }

    /// What the rule asks for, in words for an error message (never quotes the password).
    pub fn describe(self, policy: &PasswordPolicy) -> String {
        match self {
            Self::MinimumLength => format!("at least {} characters", policy.minimum_length),
            Self::RequireUppercase => "an uppercase letter (A-Z)".to_owned(),
            Self::RequireLowercase => "a lowercase letter (a-z)".to_owned(),
            Self::RequireNumbers => "a number (0-9)".to_owned(),
            Self::RequireSymbols => format!("a symbol ({COGNITO_SYMBOLS} or an inner space)"),
            Self::CommonPassword => "not a commonly used password".to_owned(),
            Self::ContainsUsername => "not containing the username".to_owned(),
        }
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `c` is one of Cognito's symbols (not counting the space, whose position matters).
pub fn is_cognito_symbol(c: char) -> bool {
    COGNITO_SYMBOLS.contains(c)
}

/// What a password contains, by Cognito's classes.
struct Classes {
    length: usize,
    uppercase: bool,
    lowercase: bool,
    number: bool,
    symbol: bool,
}

impl Classes {
    fn of(password: &str) -> Self {
        let length = password.chars().count();
        let mut classes = Self {
            length,
            uppercase: false,
            lowercase: false,
            number: false,
            symbol: false,
        };
        for (index, c) in password.chars().enumerate() {
            match c {
                'A'..='Z' => classes.uppercase = true,
                'a'..='z' => classes.lowercase = true,
                '0'..='9' => classes.number = true,
                ' ' => classes.symbol |= index != 0 && index + 1 != length,
                c if is_cognito_symbol(c) => classes.symbol = true,
                _ => {}
            }
        }
        classes
    }
}

fn contains_username(password: &str, username: &str) -> bool {
    if username.chars().count() < MIN_USERNAME_CHARS_TO_MATCH {
        return false;
    }
    let password = Zeroizing::new(password.to_lowercase());
    password.contains(&username.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Violation::*;

    #[test]
    fn a_temporary_password_expires_after_the_pools_validity_days() {
        let now = std::time::UNIX_EPOCH + Duration::from_millis(1_796_560_802_789); // 2026-12-06T12:40:02.789Z
        assert_eq!(
            PasswordPolicy::COGNITO_DEFAULT.temporary_password_expires_at(now),
            "2026-12-13T12:40:02Z"
        );
        let three = PasswordPolicy {
            temporary_password_validity_days: 3,
            ..PasswordPolicy::COGNITO_DEFAULT
        };
        assert_eq!(three.temporary_password_expires_at(now), "2026-12-09T12:40:02Z");
    }

    const STRICT: PasswordPolicy = PasswordPolicy {
        minimum_length: 14,
        require_uppercase: true,
        require_lowercase: true,
        require_numbers: true,
        require_symbols: true,
        temporary_password_validity_days: 7,
    };
    const LENIENT: PasswordPolicy = PasswordPolicy {
        minimum_length: 8,
        require_uppercase: false,
        require_lowercase: false,
        require_numbers: false,
        require_symbols: false,
        temporary_password_validity_days: 7,
    };

    fn check(policy: &PasswordPolicy, password: &str, username: &str) -> Vec<Violation> {
        policy.violations(password, username, Some(Blocklist::common_passwords()))
    }

    #[test]
    fn strict_policy_lists_every_rule_broken_in_the_fixed_order() {
        let table: &[(&str, &[Violation])] = &[
            ("Gl4cier-Otter-Meadow", &[]),
            (
                "",
                &[
                    MinimumLength,
                    RequireUppercase,
                    RequireLowercase,
                    RequireNumbers,
                    RequireSymbols,
                ],
            ),
            (
                "short",
                &[MinimumLength, RequireUppercase, RequireNumbers, RequireSymbols],
            ),
            ("ALLUPPERCASE-WITH-9", &[RequireLowercase]),
            ("alllowercase-with-9", &[RequireUppercase]),
            ("NoDigitsAnywhere-here", &[RequireNumbers]),
            ("NoSymbolsAnywhere9", &[RequireSymbols]),
            ("Sh0rt!", &[MinimumLength]),
            (
                "password",
                &[
                    MinimumLength,
                    RequireUppercase,
                    RequireNumbers,
                    RequireSymbols,
                    CommonPassword,
                ],
            ),
            ("Alice-Gl4cier-Otter", &[ContainsUsername]),
            (
                "ALICE",
                &[
                    MinimumLength,
                    RequireLowercase,
                    RequireNumbers,
                    RequireSymbols,
                    CommonPassword,
                    ContainsUsername,
                ],
            ),
            (
                "alice",
                &[
                    MinimumLength,
                    RequireUppercase,
                    RequireNumbers,
                    RequireSymbols,
                    CommonPassword,
                    ContainsUsername,
                ],
            ),
        ];
        for (password, expected) in table {
            assert_eq!(&check(&STRICT, password, "alice"), expected, "password {password:?}");
        }
    }

    #[test]
    fn lenient_policy_still_refuses_common_and_username_passwords() {
        assert_eq!(check(&LENIENT, "correcthorse", "bob"), []);
        assert_eq!(check(&LENIENT, "iloveyou", "bob"), [CommonPassword]);
        assert_eq!(check(&LENIENT, "Password1", "bob"), [CommonPassword]);
        assert_eq!(check(&LENIENT, "my-name-is-MARY-ANN", "mary-ann"), [ContainsUsername]);
        assert_eq!(check(&LENIENT, "short", "bob"), [MinimumLength]);
    }

    #[test]
    fn blocklist_off_skips_only_the_common_password_rule() {
        assert_eq!(LENIENT.violations("iloveyou", "bob", None), []);
        assert_eq!(LENIENT.violations("xxcarolxx", "carol", None), [ContainsUsername]);
    }

    #[test]
    fn usernames_shorter_than_four_characters_are_not_matched() {
        assert_eq!(check(&LENIENT, "qbcdezxwvu", "bcd"), []);
        assert_eq!(check(&LENIENT, "qbcdezxwvu", "bcde"), [ContainsUsername]);
        assert_eq!(check(&LENIENT, "xyzÉLODIExyz", "élodie"), [ContainsUsername]);
        assert_eq!(check(&LENIENT, "qbcdezxwvu", ""), []);
    }

    #[test]
    fn every_documented_symbol_counts_and_nothing_else_does() {
        let policy = PasswordPolicy {
            minimum_length: 1,
            require_symbols: true,
            ..LENIENT
        };
        for symbol in "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-".chars() {
            assert_eq!(
                policy.violations(&format!("a{symbol}b"), "", None),
                [],
                "symbol {symbol:?}"
            );
        }
        assert_eq!(COGNITO_SYMBOLS.chars().count(), 32);
        for not_symbol in ["a\u{00A7}b", "a\u{00A3}b", "a\u{2014}b", "a\tb", "aéb", "a\u{3000}b"] {
            assert_eq!(
                policy.violations(not_symbol, "", None),
                [RequireSymbols],
                "{not_symbol:?}"
            );
        }
    }

    #[test]
    fn a_space_is_a_symbol_only_inside_the_password() {
        let policy = PasswordPolicy {
            minimum_length: 1,
            require_symbols: true,
            ..LENIENT
        };
        assert_eq!(policy.violations("two words", "", None), []);
        assert_eq!(policy.violations(" leading", "", None), [RequireSymbols]);
        assert_eq!(policy.violations("trailing ", "", None), [RequireSymbols]);
        assert_eq!(policy.violations(" ", "", None), [RequireSymbols]);
    }

    #[test]
    fn letters_and_digits_outside_basic_latin_do_not_count() {
        let policy = PasswordPolicy {
            minimum_length: 1,
            require_uppercase: true,
            require_lowercase: true,
            require_numbers: true,
            require_symbols: false,
            temporary_password_validity_days: 7,
        };
        assert_eq!(
            policy.violations("ÉÀÖ", "", None),
            [RequireUppercase, RequireLowercase, RequireNumbers]
        );
        assert_eq!(
            policy.violations("éàö", "", None),
            [RequireUppercase, RequireLowercase, RequireNumbers]
        );
        assert_eq!(
            policy.violations("١٢٣４", "", None),
            [RequireUppercase, RequireLowercase, RequireNumbers]
        );
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        let policy = PasswordPolicy {
            minimum_length: 4,
            ..LENIENT
        };
        assert_eq!(
            policy.violations("ééé", "", None),
            [MinimumLength],
            "3 characters, 6 bytes"
        );
        assert_eq!(policy.violations("éééé", "", None), []);
        assert_eq!(policy.violations("🦀🦀🦀🦀", "", None), []);
    }

    #[test]
    fn violations_serialise_to_the_documented_names_in_order() {
        let names = serde_json::to_value(Violation::ALL).unwrap();
        assert_eq!(
            names,
            serde_json::json!([
                "minimumLength",
                "requireUppercase",
                "requireLowercase",
                "requireNumbers",
                "requireSymbols",
                "commonPassword",
                "containsUsername"
            ])
        );
        for violation in Violation::ALL {
            assert_eq!(serde_json::to_value(violation).unwrap(), violation.as_str());
            assert_eq!(violation.to_string(), violation.as_str());
        }
        let mut sorted = Violation::ALL;
        sorted.sort();
        assert_eq!(sorted, Violation::ALL, "Ord follows the reporting order");
    }

    #[test]
    fn descriptions_name_the_rule_not_the_password() {
        for violation in Violation::ALL {
            let text = violation.describe(&STRICT);
            assert!(!text.is_empty());
        }
        assert_eq!(MinimumLength.describe(&STRICT), "at least 14 characters");
    }
}

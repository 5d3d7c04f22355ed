//! The authorizer's claims as each API Gateway shape writes them. They are never trusted on
//! their own: the handler checks that they agree with the token the function verified, so
//! an event assembled by someone who may invoke the function directly gains nothing.

use std::borrow::Cow;

use super::audit_label;
use super::envelope::RawClaims;
use crate::groups::is_group_name;

/// How an entry shape encodes the `cognito:groups` array claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupClaimFormat {
    /// REST API (v1) Cognito authorizer: `"admins,editors"`.
    CommaSeparated,
    /// HTTP API (v2) JWT authorizer: `"[admins editors]"`.
    Bracketed,
}

/// The claims API Gateway passed, bounded and single-line. `groups` is `Err(())` when the
/// claim is present but does not parse cleanly in the shape's format; absent means no groups,
/// as in a token of a user who is in none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerClaims {
    pub issuer: Option<String>,
    pub sub: Option<String>,
    pub cognito_username: Option<String>,
    pub username: Option<String>,
    pub groups: Result<Vec<String>, ()>,
}

impl Default for AuthorizerClaims {
    fn default() -> Self {
        Self {
            issuer: None,
            sub: None,
            cognito_username: None,
            username: None,
            groups: Ok(Vec::new()),
        }
    }
}

impl AuthorizerClaims {
    pub(super) fn parse(raw: &RawClaims<'_>, format: GroupClaimFormat) -> Self {
        let text = |claim: &Option<Cow<'_, str>>| claim.as_deref().map(audit_label);
        Self {
            issuer: text(&raw.iss),
            sub: text(&raw.sub),
            cognito_username: text(&raw.cognito_username),
            username: text(&raw.username),
            groups: match raw.groups.as_deref() {
                None => Ok(Vec::new()),
                Some(claim) => parse_groups_claim(claim, format).ok_or(()),
            },
        }
    }
}

/// Parses a groups claim. Any irregularity (empty, stray whitespace, missing bracket, empty
/// element) rejects the whole claim: a claim that does not parse cleanly agrees with nothing.
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

    #[test]
    fn a_missing_groups_claim_means_no_groups_and_a_bad_one_is_an_error() {
        let absent = RawClaims::default();
        assert_eq!(AuthorizerClaims::parse(&absent, CommaSeparated).groups, Ok(vec![]));
        let bad = RawClaims {
            groups: Some(" admins".into()),
            ..RawClaims::default()
        };
        assert_eq!(AuthorizerClaims::parse(&bad, CommaSeparated).groups, Err(()));
    }
}

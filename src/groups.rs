//! Cognito group names and sets of them. Its own module because configuration (which groups
//! are admins), token verification (the token's groups) and the policy all need it, and none
//! of them should import another for it.

/// A set of Cognito group names, matched exactly and case-sensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupSet(Vec<String>);

impl GroupSet {
    /// Parses a trusted, comma-separated list from configuration (whitespace around names is trimmed).
    pub fn from_config_list(list: &str) -> Result<Self, String> {
        let mut set = Self::default();
        for name in list.split(',').map(str::trim) {
            if !is_group_name(name) {
                return Err("expected comma-separated group names without spaces, e.g. admins,helpdesk".into());
            }
            set.insert(name);
        }
        Ok(set)
    }

    /// Adds `name` unless present.
    pub fn insert(&mut self, name: &str) {
        if !self.0.iter().any(|n| n == name) {
            self.0.push(name.to_owned());
        }
    }

    /// This set and every name of `other`.
    pub fn union(&self, other: &GroupSet) -> GroupSet {
        let mut union = self.clone();
        for name in &other.0 {
            union.insert(name);
        }
        union
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

/// Cognito group names: 1-128 characters, no whitespace, control characters or commas.
/// Anything else in a claim is a forgery or a parse error, never a near-match.
pub fn is_group_name(name: &str) -> bool {
    let len = name.chars().count();
    (1..=128).contains(&len) && !name.chars().any(|c| c.is_whitespace() || c.is_control() || c == ',')
}

/// Whether two lists name the same groups, ignoring order and repetition.
pub fn same_groups<A: AsRef<str>, B: AsRef<str>>(a: &[A], b: &[B]) -> bool {
    a.iter().all(|x| b.iter().any(|y| y.as_ref() == x.as_ref()))
        && b.iter().all(|y| a.iter().any(|x| x.as_ref() == y.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_lists_are_trimmed_deduplicated_and_strict() {
        let set = GroupSet::from_config_list(" admins, helpdesk,admins").unwrap();
        assert_eq!(set.names(), ["admins", "helpdesk"]);
        for bad in ["", "admins,,x", "adm ins", "a\tb"] {
            assert!(GroupSet::from_config_list(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn group_names_follow_cognito_rules_and_refuse_commas() {
        for good in ["admins", "g", "Ünïcødé", "a-b_c.d@e", &"g".repeat(128)] {
            assert!(is_group_name(good), "{good:?} should be a group name");
        }
        // Cognito allows commas, but REST authorizer claims join groups with them.
        for bad in ["", " ", "a b", "a\tb", "a,b", "a\u{7f}", &"g".repeat(129)] {
            assert!(!is_group_name(bad), "{bad:?} should not be a group name");
        }
    }

    #[test]
    fn union_keeps_each_name_once() {
        let a = GroupSet::from_config_list("admins,helpdesk").unwrap();
        let b = GroupSet::from_config_list("root,admins").unwrap();
        assert_eq!(a.union(&b).names(), ["admins", "helpdesk", "root"]);
    }

    #[test]
    fn matching_is_exact_and_case_sensitive() {
        let set = GroupSet::from_config_list("admins").unwrap();
        assert!(set.intersects(&["admins"]));
        for near in ["Admins", "admins ", "admins-readonly", "notadmins"] {
            assert!(!set.intersects(&[near]), "{near}");
        }
    }

    #[test]
    fn same_groups_ignores_order_only() {
        assert!(same_groups(&["a", "b"], &["b", "a"]));
        assert!(same_groups::<&str, &str>(&[], &[]));
        assert!(!same_groups(&["a"], &["a", "b"]));
        assert!(!same_groups(&["a", "b"], &["a"]));
    }
}

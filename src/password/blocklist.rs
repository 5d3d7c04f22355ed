//! The common-password blocklist (NIST SP 800-63B 5.1.1.2: refuse "passwords obtained from
//! previous breach corpuses" and "commonly-used" ones).
//!
//! The list is the 10,000 most common entries of the list Django ships (Royce Williams' top
//! passwords; BSD-3-Clause, notice in `common-passwords.LICENSE` beside this file), rebuilt by
//! `tools/build_blocklist.py`. It is embedded as lowercase, byte-sorted, newline-terminated text
//! and binary-searched in place: no index, no allocation, nothing to do at cold start.
//! Measured on the x86_64 release profile: the module adds 93.6 kB to the binary and
//! 35.5 kB to the deflated zip; the whole 19,640-entry list would add about twice that.

use secrecy::zeroize::Zeroizing;

/// A sorted, lowercase, newline-terminated list of passwords to refuse.
#[derive(Debug)]
pub struct Blocklist {
    text: &'static str,
}

static COMMON_PASSWORDS: Blocklist = Blocklist {
    text: include_str!("common-passwords.txt"),
};

impl Blocklist {
    /// Where the embedded list comes from, for docs and logs.
    pub const SOURCE: &'static str =
        "the 10,000 most common passwords of Django 5.2.19's common-passwords list (Royce Williams; BSD-3-Clause)";

    /// The embedded common-password list.
    pub fn common_passwords() -> &'static Blocklist {
        &COMMON_PASSWORDS
    }

    /// Whether `password` is on the list, ignoring case. The lowercased copy is wiped on drop.
    pub fn contains(&self, password: &str) -> bool {
        let lowered = Zeroizing::new(password.to_lowercase());
        self.contains_lowercase(lowered.as_bytes())
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.text.bytes().filter(|&b| b == b'\n').count()
    }

    /// Whether the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Binary search over whole lines of the text. Invariant: `lo` is the start of a line and
    /// `hi` is the start of a line or the end of the text, and the needle, if present, is a
    /// line within `lo..hi`.
    fn contains_lowercase(&self, needle: &[u8]) -> bool {
        let bytes = self.text.as_bytes();
        let (mut lo, mut hi) = (0, bytes.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let start = bytes[lo..mid]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(lo, |p| lo + p + 1);
            let end = bytes[start..hi]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(hi, |p| start + p);
            match bytes[start..end].cmp(needle) {
                std::cmp::Ordering::Equal => return true,
                std::cmp::Ordering::Less => lo = end + 1,
                std::cmp::Ordering::Greater => hi = start,
            }
        }
        false
    }

    #[cfg(test)]
    fn from_text(text: &'static str) -> Self {
        Self { text }
    }

    #[cfg(test)]
    fn entries(&self) -> impl Iterator<Item = &'static str> {
        self.text.lines()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_list_is_sorted_lowercase_unique_and_newline_terminated() {
        let list = Blocklist::common_passwords();
        assert!(list.text.ends_with('\n'), "the last entry must end with a newline");
        let entries: Vec<&str> = list.entries().collect();
        assert_eq!(entries.len(), 10_000, "expected the top 10,000 entries");
        assert_eq!(list.len(), 10_000);
        for pair in entries.windows(2) {
            assert!(
                pair[0] < pair[1],
                "not strictly sorted: {:?} then {:?}",
                pair[0],
                pair[1]
            );
        }
        for entry in &entries {
            assert!(!entry.is_empty(), "empty entry");
            assert_eq!(*entry, entry.to_lowercase(), "entry not lowercase");
            assert!(!entry.chars().any(char::is_control), "control character in an entry");
        }
    }

    #[test]
    fn every_embedded_entry_is_found_in_any_case() {
        let list = Blocklist::common_passwords();
        for entry in list.entries() {
            assert!(list.contains(entry), "{entry:?} not found");
            let upper = entry.to_uppercase();
            if upper.to_lowercase() == entry {
                assert!(list.contains(&upper), "{upper:?} not found");
            }
        }
    }

    #[test]
    fn well_known_common_passwords_are_found_case_insensitively() {
        let list = Blocklist::common_passwords();
        for password in [
            "123456",
            "password",
            "Password1",
            "QWERTY",
            "iloveyou",
            "dragon",
            "P@ssw0rd",
            "Qwerty123",
            "Welcome1",
        ] {
            assert!(list.contains(password), "{password} should be on the list");
        }
    }

    #[test]
    fn uncommon_passwords_and_near_misses_are_not_found() {
        let list = Blocklist::common_passwords();
        for password in [
            "",
            "Tr0ub4dor&3-horse-staple",
            "password1234567890x",
            " password",
            "password ",
            "passwor",
            "!!!!!!!!!!!!!!!!!!!!!!!!!",
        ] {
            assert!(!list.contains(password), "{password:?} should not be on the list");
        }
    }

    #[test]
    fn search_finds_first_last_and_only_entries_of_small_lists() {
        let list = Blocklist::from_text("a\nb\nc\n");
        assert!(list.contains("a") && list.contains("b") && list.contains("c"));
        assert!(!list.contains("") && !list.contains("0") && !list.contains("bb") && !list.contains("d"));
        let one = Blocklist::from_text("only\n");
        assert!(one.contains("ONLY") && !one.contains("onl") && !one.contains("onlyx"));
        let none = Blocklist::from_text("");
        assert!(none.is_empty() && !none.contains("x"));
        let unterminated = Blocklist::from_text("a\nm\nz");
        assert!(unterminated.contains("z") && unterminated.contains("a") && !unterminated.contains("q"));
    }

    #[test]
    fn search_agrees_with_a_linear_scan_for_neighbours_of_every_entry() {
        let list = Blocklist::common_passwords();
        let set: std::collections::HashSet<&str> = list.entries().collect();
        for entry in list.entries().step_by(7) {
            for probe in [
                format!("{entry}0"),
                format!("0{entry}"),
                entry[..entry.len() - entry.chars().last().unwrap().len_utf8()].to_owned(),
            ] {
                assert_eq!(
                    list.contains_lowercase(probe.as_bytes()),
                    set.contains(probe.as_str()),
                    "{probe:?}"
                );
            }
        }
    }
}

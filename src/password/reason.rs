//! Why an admin set a password (typically a ticket number), recorded in the audit line and the
//! change event. It ends up in logs and downstream systems, so it is parsed here once: 1 to
//! 200 printable characters, nothing that could forge a log line or hide text from a reader.

use serde::Serialize;

/// A checked reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Reason(String);

/// Why a reason was refused. The messages never quote the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReasonError {
    #[error("must not be empty or only whitespace")]
    Empty,
    #[error("must be at most {max} characters; it has {chars}", max = Reason::MAX_CHARS)]
    TooLong { chars: usize },
    #[error("must not contain control, line-separator or invisible formatting characters (character {position})")]
    Unprintable { position: usize },
}

impl Reason {
    /// The longest reason accepted, in characters.
    pub const MAX_CHARS: usize = 200;

    /// Accepts 1 to [`Self::MAX_CHARS`] characters, not all whitespace, with no control
    /// characters (C0, DEL, C1), no line or paragraph separators and no invisible formatting
    /// characters (zero-width, bidirectional overrides, BOM) that could disguise what it says.
    pub fn parse(raw: &str) -> Result<Self, ReasonError> {
        if raw.trim().is_empty() {
            return Err(ReasonError::Empty);
        }
        let chars = raw.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(ReasonError::TooLong { chars });
        }
        if let Some(position) = raw.chars().position(|c| !is_printable(c)) {
            return Err(ReasonError::Unprintable { position: position + 1 });
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_printable(c: char) -> bool {
    !(c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typical_reasons_are_kept_as_given() {
        for raw in [
            "INC-12345",
            "a",
            "user locked out, ticket #42 (called helpdesk)",
            "Zurücksetzen für Jürgen 🙂",
            " padded ",
        ] {
            assert_eq!(Reason::parse(raw).unwrap().as_str(), raw);
        }
        let longest = "x".repeat(200);
        assert_eq!(Reason::parse(&longest).unwrap().as_str(), longest);
        assert!(Reason::parse(&"é".repeat(200)).is_ok(), "200 characters, 400 bytes");
    }

    #[test]
    fn refusals_say_why_without_echoing_the_value() {
        let table: &[(&str, ReasonError)] = &[
            ("", ReasonError::Empty),
            ("   \t ", ReasonError::Empty),
            ("secret-ish\ninjected", ReasonError::Unprintable { position: 11 }),
            ("carriage\rreturn", ReasonError::Unprintable { position: 9 }),
            ("nul\0", ReasonError::Unprintable { position: 4 }),
            ("esc\u{1b}[31m", ReasonError::Unprintable { position: 4 }),
            ("del\u{7f}", ReasonError::Unprintable { position: 4 }),
            ("c1\u{85}", ReasonError::Unprintable { position: 3 }),
            ("zero\u{200B}width", ReasonError::Unprintable { position: 5 }),
            ("bidi\u{202E}txet", ReasonError::Unprintable { position: 5 }),
            ("line\u{2028}sep", ReasonError::Unprintable { position: 5 }),
            ("\u{FEFF}bom", ReasonError::Unprintable { position: 1 }),
        ];
        for (raw, expected) in table {
            let err = Reason::parse(raw).unwrap_err();
            assert_eq!(&err, expected, "{raw:?}");
            let message = err.to_string();
            for word in ["secret", "injected", "carriage", "width", "txet", "bom"] {
                assert!(!message.contains(word), "{message:?} echoes the value");
            }
        }
        let long = "y".repeat(201);
        let err = Reason::parse(&long).unwrap_err();
        assert_eq!(err, ReasonError::TooLong { chars: 201 });
        assert_eq!(err.to_string(), "must be at most 200 characters; it has 201");
        assert!(!err.to_string().contains("yy"));
    }

    #[test]
    fn serialises_as_a_plain_string() {
        assert_eq!(serde_json::to_value(Reason::parse("INC-1").unwrap()).unwrap(), "INC-1");
    }
}

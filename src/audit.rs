//! The audit trail: exactly one record per invocation, whatever the outcome. The record is
//! one typed value, serialised once by serde into one JSON line (no second list of its fields
//! for a logging macro that could drift), with the `timestamp`, `level`, `message` and
//! `target` keys a tracing JSON line has, so queries treat both alike.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Serialize, Serializer};

use crate::output::Output;

/// The audit event name that queries and metric filters match on.
pub const AUDIT_EVENT: &str = "admin_set_user_password";

/// How an invocation ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    #[default]
    Success,
    /// A rule refused the caller (401, 403, 409).
    Denied,
    /// The request was malformed or named something that does not exist (400, 404).
    Invalid,
    /// We or Cognito failed (429, 5xx).
    Failed,
}

impl Outcome {
    /// The metric this outcome counts towards.
    pub fn metric_name(self) -> &'static str {
        match self {
            Self::Success => "PasswordSet",
            Self::Denied => "Denied",
            Self::Invalid => "Rejected",
            Self::Failed => "Failed",
        }
    }

    /// The log level of the audit line. All three pass every `ApplicationLogLevel` the
    /// template allows (TRACE, DEBUG, INFO); a test holds the template to that.
    pub fn level(self) -> &'static str {
        match self {
            Self::Success | Self::Invalid => "INFO",
            Self::Denied => "WARN",
            Self::Failed => "ERROR",
        }
    }
}

/// Whether the password changed: `true`, `false`, or `"unknown"` when the set was sent and
/// no answer came (a timeout, or the Lambda deadline) — the operator must check before
/// anyone retries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PasswordSet {
    #[default]
    No,
    Yes,
    Unknown,
}

impl Serialize for PasswordSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::No => serializer.serialize_bool(false),
            Self::Yes => serializer.serialize_bool(true),
            Self::Unknown => serializer.serialize_str("unknown"),
        }
    }
}

/// Everything the audit line says, written once from the invocation's outcome; no field can hold
/// the password (there is no field of a secret type, and the error messages never quote it).
/// `None` fields are left out of the line.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AuditRecord {
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    /// The caller-facing reason for a refusal or failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Internal detail (which token check failed, the SDK error chain); only ever logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub entry: &'static str,
    /// `user` (API Gateway, verified token) or `iam` (direct invocation).
    pub actor_type: &'static str,
    /// From a verified token only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_sub: Option<String>,
    /// From a verified token only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_username: Option<String>,
    /// The caller's live groups when looked up, else the verified token's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_groups: Option<String>,
    /// The name the authorizer's claims give, when the token did not verify: a claim, not an actor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimed_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    pub user_pool_id: String,
    /// `set` (a password set) or `reset_code` (Cognito sent the user a reset code), once the
    /// event named its route.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<&'static str>,
    /// As Cognito resolved the target once it was looked up; as given before that.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_username: Option<String>,
    /// The target's `sub`, as Cognito returned it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permanent: Option<bool>,
    /// Whether a global sign-out was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_out: Option<bool>,
    pub password_set: PasswordSet,
    /// Whether the asked-for sign-out happened (`false`: the set succeeded, the sign-out failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_out: Option<bool>,
    /// The error code of a failed sign-out after a successful set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_out_error: Option<&'static str>,
    /// Why the admin or workflow did it (the request's `reason`, e.g. a ticket number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_reason: Option<String>,
    /// The name Secrets Manager reported for the secret the password was read from (never
    /// its value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// `true` when the function generated the password (never the password itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated: Option<bool>,
    /// Whether the `Password Set` event reached the bus (only with `EVENT_BUS_NAME`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_published: Option<bool>,
    /// Why the publish failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_error: Option<String>,
    /// The phase in progress when the work was abandoned at the Lambda deadline: `jwks`,
    /// `look_up`, `set`, `sign_out` or `publish`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<&'static str>,
    pub lambda_request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_request_id: Option<String>,
    pub duration_ms: u64,
}

/// The line as written: the event name and the record's fields at the top level, beside the
/// log envelope.
#[derive(Serialize)]
struct AuditLine<'a> {
    timestamp: String,
    level: &'static str,
    message: &'static str,
    target: &'static str,
    event: &'static str,
    #[serde(flatten)]
    record: &'a AuditRecord,
}

impl AuditRecord {
    /// The record as one JSON line.
    pub fn line(&self, now: SystemTime) -> String {
        let line = AuditLine {
            timestamp: rfc3339(now),
            level: self.outcome.level(),
            message: AUDIT_EVENT,
            target: "audit",
            event: AUDIT_EVENT,
            record: self,
        };
        serde_json::to_string(&line).expect("the audit record serialises (no maps with non-string keys)")
    }

    /// Writes the line. Not through `tracing`: no log level setting can drop it.
    pub fn emit(&self, output: &Output) {
        output.write_line(&self.line(SystemTime::now()));
    }
}

/// `2026-11-28T06:14:48.123456Z`, from the civil-from-days algorithm (no date crate for one
/// timestamp).
fn rfc3339(time: SystemTime) -> String {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since_epoch.as_secs();
    let days = (seconds / 86_400) as i64;
    let second_of_day = seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        second_of_day / 3_600,
        second_of_day / 60 % 60,
        second_of_day % 60,
        since_epoch.subsec_micros()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn record() -> AuditRecord {
        AuditRecord {
            actor_sub: Some("sub-alice".into()),
            actor_username: Some("alice".into()),
            actor_groups: Some("admins".into()),
            target_username: Some("bob".into()),
            permanent: Some(false),
            sign_out: Some(true),
            password_set: PasswordSet::Yes,
            signed_out: Some(false),
            sign_out_error: Some("UpstreamError"),
            entry: "rest",
            actor_type: "user",
            user_pool_id: "us-east-1_Example".into(),
            lambda_request_id: "r".into(),
            duration_ms: 3,
            ..AuditRecord::default()
        }
    }

    #[test]
    fn outcomes_name_their_metric() {
        let names: Vec<_> = [Outcome::Success, Outcome::Denied, Outcome::Invalid, Outcome::Failed]
            .map(|o| (serde_json::to_value(o).unwrap(), o.metric_name()))
            .into();
        assert_eq!(
            names,
            [
                (json!("success"), "PasswordSet"),
                (json!("denied"), "Denied"),
                (json!("invalid"), "Rejected"),
                (json!("failed"), "Failed")
            ]
        );
    }

    #[test]
    fn the_line_is_the_record_at_the_top_level_without_empty_fields() {
        let line: serde_json::Value =
            serde_json::from_str(&record().line(UNIX_EPOCH + Duration::from_micros(1_764_310_488_123_456))).unwrap();
        assert_eq!(line["timestamp"], "2025-11-28T06:14:48.123456Z");
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["message"], AUDIT_EVENT);
        assert_eq!(line["target"], "audit");
        assert_eq!(line["event"], AUDIT_EVENT);
        assert_eq!(line["password_set"], true);
        assert_eq!(line["signed_out"], false);
        assert!(line.get("code").is_none() && line.get("requested_by").is_none());
    }

    #[test]
    fn an_unknown_set_is_said_as_such() {
        let unknown = AuditRecord {
            password_set: PasswordSet::Unknown,
            ..record()
        };
        let line: serde_json::Value = serde_json::from_str(&unknown.line(UNIX_EPOCH)).unwrap();
        assert_eq!(line["password_set"], "unknown");
        assert_eq!(line["timestamp"], "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn timestamps_are_rfc3339_across_leap_years() {
        let at = |s: u64| rfc3339(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00.000000Z");
        assert_eq!(at(4_107_542_399), "2100-02-28T23:59:59.000000Z");
    }

    /// docs/audit.md documents exactly the fields the record serialises.
    #[test]
    fn the_documented_schema_is_the_serialised_one() {
        let full = AuditRecord {
            code: Some("Forbidden"),
            reason: Some("r".into()),
            detail: Some("d".into()),
            claimed_username: Some("c".into()),
            source_ip: Some("s".into()),
            user_agent: Some("u".into()),
            requested_by: Some("w".into()),
            correlation_id: Some("x".into()),
            api_request_id: Some("a".into()),
            change_reason: Some("INC-1".into()),
            secret_name: Some("onboarding/bob".into()),
            target_sub: Some("sub-bob".into()),
            phase: Some("set"),
            action: Some("set"),
            generated: Some(true),
            event_published: Some(false),
            event_error: Some("e".into()),
            ..record()
        };
        let line: serde_json::Value = serde_json::from_str(&full.line(UNIX_EPOCH)).unwrap();
        let documented: Vec<String> = include_str!("../docs/audit.md")
            .lines()
            .filter(|l| l.starts_with("| `"))
            .flat_map(|l| {
                l.split('|')
                    .nth(1)
                    .unwrap()
                    .split(',')
                    .map(|f| f.trim().trim_matches('`').to_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
        let serialised: Vec<&String> = line.as_object().unwrap().keys().collect();
        for key in &serialised {
            assert!(documented.contains(key), "docs/audit.md does not document {key}");
        }
        for field in &documented {
            assert!(
                line.get(field).is_some(),
                "docs/audit.md documents {field}, which the record does not have"
            );
        }
    }
}

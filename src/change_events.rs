//! The change event: after every successful set, one event tells downstream systems that a
//! user's password changed (OWASP: notify the user; a team wires a rule to email them).
//!
//! What consumers rely on (source, detail-type, the detail's shape) is defined here, apart from
//! the bus it travels on (`directory::eventbridge`). The event type has no field that can hold
//! a password, so publishing one cannot leak it.

use serde::Serialize;

use crate::password::Reason;

/// The event's `source`, what a rule matches on.
pub const EVENT_SOURCE: &str = "admin-set-password";
/// The `detail-type` of a set.
pub const DETAIL_TYPE: &str = "Password Set";
/// The `detail-type` of a reset: Cognito sent the user a code; the password changes when the
/// user uses it.
pub const RESET_DETAIL_TYPE: &str = "Password Reset Requested";

/// Which change the event reports; decides its `detail-type`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Change {
    #[default]
    Set,
    ResetRequested,
}

impl Change {
    pub fn detail_type(self) -> &'static str {
        match self {
            Self::Set => DETAIL_TYPE,
            Self::ResetRequested => RESET_DETAIL_TYPE,
        }
    }
}

/// The event's `detail`: who set whose password, how and why. Absent values are `null`, so
/// every event has the same shape for rules and consumers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordSetEvent {
    /// The `detail-type`'s choice, not part of the detail.
    #[serde(skip)]
    pub change: Change,
    /// The target user.
    pub username: String,
    pub user_pool_id: String,
    /// `false`: a temporary password, the user must choose a new one at next sign-in (and
    /// always `false` for a reset, whose password the user chooses).
    pub permanent: bool,
    /// Whether the user's refresh tokens were revoked (`signOut` asked and done).
    pub signed_out: bool,
    /// Whether the function generated the password.
    pub generated: bool,
    /// `"actor": {username, sub}` for an admin through the API, `"requestedBy"` for a workflow.
    #[serde(flatten)]
    pub initiator: Initiator,
    pub reason: Option<Reason>,
    pub correlation_id: Option<String>,
    pub request_ids: RequestIds,
}

/// Who asked for the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Initiator {
    /// An admin authenticated by API Gateway.
    #[serde(rename = "actor")]
    Admin(Actor),
    /// A direct invocation (a workflow); what its payload named as `requestedBy`, if anything.
    #[serde(rename = "requestedBy")]
    Workflow(Option<String>),
}

/// The admin, from the token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub username: Option<String>,
    pub sub: Option<String>,
}

/// The ids that find this request in the function's and API Gateway's logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestIds {
    pub lambda: String,
    pub api: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn admin_event() -> PasswordSetEvent {
        PasswordSetEvent {
            change: Change::Set,
            username: "bob".into(),
            user_pool_id: "us-east-1_Example".into(),
            permanent: false,
            signed_out: true,
            generated: true,
            initiator: Initiator::Admin(Actor {
                username: Some("alice".into()),
                sub: Some("0000-alice".into()),
            }),
            reason: Some(Reason::parse("INC-42").unwrap()),
            correlation_id: None,
            request_ids: RequestIds {
                lambda: "lambda-1".into(),
                api: Some("api-1".into()),
            },
        }
    }

    #[test]
    fn admin_event_detail_has_the_documented_shape() {
        assert_eq!(
            serde_json::to_value(admin_event()).unwrap(),
            json!({
                "username": "bob",
                "userPoolId": "us-east-1_Example",
                "permanent": false,
                "signedOut": true,
                "generated": true,
                "actor": {"username": "alice", "sub": "0000-alice"},
                "reason": "INC-42",
                "correlationId": null,
                "requestIds": {"lambda": "lambda-1", "api": "api-1"}
            })
        );
    }

    #[test]
    fn workflow_event_names_who_requested_it_instead_of_an_actor() {
        let event = PasswordSetEvent {
            initiator: Initiator::Workflow(Some("arn:aws:states:us-east-1:123456789012:execution:reset:1".into())),
            reason: None,
            correlation_id: Some("ticket-7".into()),
            request_ids: RequestIds {
                lambda: "lambda-2".into(),
                api: None,
            },
            ..admin_event()
        };
        let detail = serde_json::to_value(event).unwrap();
        assert_eq!(
            detail["requestedBy"],
            "arn:aws:states:us-east-1:123456789012:execution:reset:1"
        );
        assert!(detail.get("actor").is_none(), "{detail}");
        assert_eq!(detail["reason"], serde_json::Value::Null);
        assert_eq!(detail["correlationId"], "ticket-7");
        assert_eq!(detail["requestIds"], json!({"lambda": "lambda-2", "api": null}));
        let anonymous = serde_json::to_value(PasswordSetEvent {
            initiator: Initiator::Workflow(None),
            ..admin_event()
        })
        .unwrap();
        assert_eq!(anonymous["requestedBy"], serde_json::Value::Null);
    }
}

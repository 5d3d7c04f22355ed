//! Change events: after every successful set, one event tells downstream systems that a
//! user's password changed (OWASP: notify the user; a team wires a rule to email them).
//!
//! `ChangeEvents` is the port, `EventBridgeChangeEvents` the adapter. The event type has no
//! field that can hold a password, so publishing one cannot leak it. A failed publish is an
//! `Err` with a detail string for the log; the handler decides that it does not fail the
//! request. Measured at eeffe3a (x86_64 release profile): aws-sdk-eventbridge adds 141 kB to
//! the binary and 47 kB to the deflated zip.

use std::future::Future;

use aws_sdk_eventbridge::error::DisplayErrorContext;
use aws_sdk_eventbridge::operation::put_events::PutEventsOutput;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use serde::Serialize;

use crate::password::Reason;

/// The event's `source`, what a rule matches on.
pub const EVENT_SOURCE: &str = "admin-set-password";
/// The event's `detail-type`.
pub const DETAIL_TYPE: &str = "Password Set";

/// Where change events go.
pub trait ChangeEvents {
    /// Publishes one event; `Err` carries a detail for the operator's log.
    fn publish(&self, event: &PasswordSetEvent) -> impl Future<Output = Result<(), String>> + Send;
}

/// The event's `detail`: who set whose password, how and why. Absent values are `null`, so
/// every event has the same shape for rules and consumers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordSetEvent {
    /// The target user.
    pub username: String,
    pub user_pool_id: String,
    /// `false`: a temporary password, the user must choose a new one at next sign-in.
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

/// Publishes to one EventBridge bus with `PutEvents`.
#[derive(Debug, Clone)]
pub struct EventBridgeChangeEvents {
    client: aws_sdk_eventbridge::Client,
    bus_name: String,
}

impl EventBridgeChangeEvents {
    /// `bus_name` is the bus name or ARN (`EVENT_BUS_NAME`).
    pub fn new(client: aws_sdk_eventbridge::Client, bus_name: impl Into<String>) -> Self {
        Self {
            client,
            bus_name: bus_name.into(),
        }
    }

    pub fn bus_name(&self) -> &str {
        &self.bus_name
    }
}

impl ChangeEvents for EventBridgeChangeEvents {
    async fn publish(&self, event: &PasswordSetEvent) -> Result<(), String> {
        let detail = serde_json::to_string(event).map_err(|e| format!("PutEvents: serialising the event: {e}"))?;
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus_name)
            .source(EVENT_SOURCE)
            .detail_type(DETAIL_TYPE)
            .detail(detail)
            .build();
        let output = self
            .client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| format!("PutEvents: {}", DisplayErrorContext(&e)))?;
        refusal(&output).map_or(Ok(()), Err)
    }
}

/// PutEvents answers 200 even when it refused the entry: the refusal is per entry, counted in
/// `FailedEntryCount`, with the reason on the entry.
fn refusal(output: &PutEventsOutput) -> Option<String> {
    if output.failed_entry_count() == 0 {
        return None;
    }
    let refused = output.entries().iter().find(|e| e.error_code().is_some());
    Some(format!(
        "PutEvents: {} entry refused: {}: {}",
        output.failed_entry_count(),
        refused.and_then(|e| e.error_code()).unwrap_or("unknown"),
        refused.and_then(|e| e.error_message()).unwrap_or("no message"),
    ))
}

/// The in-memory twin for handler tests: records what was published, or fails every publish.
#[cfg(test)]
#[derive(Debug, Default)]
pub struct MemoryChangeEvents {
    pub published: std::sync::Mutex<Vec<PasswordSetEvent>>,
    pub fail_with: Option<String>,
}

#[cfg(test)]
impl<T: ChangeEvents + Sync + Send> ChangeEvents for std::sync::Arc<T> {
    async fn publish(&self, event: &PasswordSetEvent) -> Result<(), String> {
        T::publish(self, event).await
    }
}

#[cfg(test)]
impl ChangeEvents for MemoryChangeEvents {
    async fn publish(&self, event: &PasswordSetEvent) -> Result<(), String> {
        if let Some(detail) = &self.fail_with {
            return Err(detail.clone());
        }
        self.published.lock().unwrap().push(event.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn admin_event() -> PasswordSetEvent {
        PasswordSetEvent {
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

    #[test]
    fn a_refused_entry_is_a_failure_even_though_the_call_succeeded() {
        use aws_sdk_eventbridge::types::PutEventsResultEntry;
        let accepted = PutEventsOutput::builder()
            .failed_entry_count(0)
            .entries(PutEventsResultEntry::builder().event_id("e-1").build())
            .build();
        assert_eq!(refusal(&accepted), None);
        let refused = PutEventsOutput::builder()
            .failed_entry_count(1)
            .entries(
                PutEventsResultEntry::builder()
                    .error_code("InternalFailure")
                    .error_message("try again")
                    .build(),
            )
            .build();
        assert_eq!(
            refusal(&refused).as_deref(),
            Some("PutEvents: 1 entry refused: InternalFailure: try again")
        );
        let bare = PutEventsOutput::builder().failed_entry_count(1).build();
        assert_eq!(
            refusal(&bare).as_deref(),
            Some("PutEvents: 1 entry refused: unknown: no message")
        );
    }

    #[tokio::test]
    async fn the_memory_twin_records_or_fails() {
        let events = MemoryChangeEvents::default();
        events.publish(&admin_event()).await.unwrap();
        assert_eq!(*events.published.lock().unwrap(), [admin_event()]);
        let failing = MemoryChangeEvents {
            fail_with: Some("bus unavailable".into()),
            ..Default::default()
        };
        assert_eq!(failing.publish(&admin_event()).await, Err("bus unavailable".into()));
        assert!(failing.published.lock().unwrap().is_empty());
    }
}

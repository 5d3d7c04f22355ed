//! `ChangeEvents` over EventBridge: one `PutEvents` per successful set. A failed publish is an
//! `Err` with a detail for the log; the handler decides that it does not fail the request.
//! aws-sdk-eventbridge adds 141 kB to the x86_64 release binary and 47 kB to the deflated zip.

use aws_sdk_eventbridge::error::DisplayErrorContext;
use aws_sdk_eventbridge::operation::put_events::PutEventsOutput;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use super::ChangeEvents;
use crate::change_events::{PasswordSetEvent, EVENT_SOURCE};

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
            .detail_type(event.change.detail_type())
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

#[cfg(test)]
mod tests {
    use super::*;

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
}

//! CloudWatch Embedded Metric Format: one JSON document per invocation on stdout, which
//! CloudWatch turns into metrics without an API call. Written by hand because it is one small
//! document; the `metrics` crate ecosystem would add a dependency tree for it.

use serde_json::{json, Map, Value};

use crate::audit::Outcome;
use crate::event::EntryShape;

/// Counted when a change event could not be published.
pub const EVENT_PUBLISH_FAILED: &str = "EventPublishFailed";

/// Counted, instead of `PasswordSet`, when Cognito sent a user a reset code.
pub const RESET_CODE_SENT: &str = "ResetCodeSent";

/// The EMF document: the outcome's metric (value 1) with dimension sets for the total, by
/// entry shape, by action (`set`, `reset_code`, once the event named its route) and, for
/// failures, by error code. All dimension values come from fixed sets.
pub fn emf_document(
    namespace: &str,
    outcome: Outcome,
    shape: EntryShape,
    action: Option<&str>,
    code: Option<&str>,
    event_publish_failed: bool,
    timestamp_ms: u128,
) -> Value {
    let metric = match (outcome, action) {
        (Outcome::Success, Some("reset_code")) => RESET_CODE_SENT,
        _ => outcome.metric_name(),
    };
    let mut dimension_sets = vec![json!([]), json!(["EntryShape"])];
    let mut document = Map::new();
    document.insert("EntryShape".into(), json!(shape.metric_name()));
    if let Some(action) = action {
        dimension_sets.push(json!(["Action"]));
        document.insert("Action".into(), json!(action));
    }
    if let Some(code) = code {
        dimension_sets.push(json!(["ErrorCode"]));
        document.insert("ErrorCode".into(), json!(code));
    }
    document.insert(metric.into(), json!(1));
    let mut metrics = vec![json!({"Name": metric, "Unit": "Count"})];
    // The password changed but nothing downstream heard of it: worth an alarm of its own.
    if event_publish_failed {
        document.insert(EVENT_PUBLISH_FAILED.into(), json!(1));
        metrics.push(json!({"Name": EVENT_PUBLISH_FAILED, "Unit": "Count"}));
    }
    document.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": dimension_sets,
                "Metrics": metrics
            }]
        }),
    );
    Value::Object(document)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_document_declares_total_and_shape_dimensions() {
        let doc = emf_document(
            "Ns",
            Outcome::Success,
            EntryShape::RestApi,
            None,
            None,
            false,
            1_700_000_000_000,
        );
        assert_eq!(
            doc,
            json!({
                "EntryShape": "RestApi",
                "PasswordSet": 1,
                "_aws": {"Timestamp": 1_700_000_000_000u64, "CloudWatchMetrics": [{
                    "Namespace": "Ns", "Dimensions": [[], ["EntryShape"]],
                    "Metrics": [{"Name": "PasswordSet", "Unit": "Count"}]
                }]}
            })
        );
    }

    #[test]
    fn a_failed_event_publish_is_counted_beside_the_outcome() {
        let doc = emf_document("Ns", Outcome::Success, EntryShape::RestApi, None, None, true, 1);
        assert_eq!(
            (doc["PasswordSet"].clone(), doc[EVENT_PUBLISH_FAILED].clone()),
            (json!(1), json!(1))
        );
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Metrics"][1]["Name"],
            EVENT_PUBLISH_FAILED
        );
    }

    #[test]
    fn failure_document_adds_the_error_code_dimension() {
        let doc = emf_document(
            "Ns",
            Outcome::Denied,
            EntryShape::Direct,
            Some("set"),
            Some("Forbidden"),
            false,
            1,
        );
        assert_eq!(doc["Denied"], json!(1));
        assert_eq!(doc["ErrorCode"], json!("Forbidden"));
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([[], ["EntryShape"], ["Action"], ["ErrorCode"]])
        );
        assert_eq!(doc["Action"], json!("set"));
        // Every dimension a set names is present as a top-level member, as EMF requires.
        for set in doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"].as_array().unwrap() {
            for name in set.as_array().unwrap() {
                assert!(doc.get(name.as_str().unwrap()).is_some(), "{name}");
            }
        }
    }

    #[test]
    fn a_sent_reset_code_is_its_own_metric_by_action() {
        let doc = emf_document(
            "Ns",
            Outcome::Success,
            EntryShape::HttpApi,
            Some("reset_code"),
            None,
            false,
            1,
        );
        assert_eq!(
            (doc[RESET_CODE_SENT].clone(), doc["Action"].clone()),
            (json!(1), json!("reset_code"))
        );
        assert!(doc.get("PasswordSet").is_none());
        let failed = emf_document(
            "Ns",
            Outcome::Failed,
            EntryShape::HttpApi,
            Some("reset_code"),
            Some("CodeDeliveryFailed"),
            false,
            1,
        );
        assert_eq!(failed["Failed"], json!(1));
    }
}

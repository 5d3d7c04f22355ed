//! The EventBridge adapter against moto: an event published by `EventBridgeChangeEvents`
//! reaches, through a rule on its source, exactly one SQS message whose detail is the event;
//! a bus that does not exist is an error, not a silent success.

mod support;

use admin_set_password::change_events::{Actor, Initiator, PasswordSetEvent, RequestIds, DETAIL_TYPE, EVENT_SOURCE};
use admin_set_password::directory::eventbridge::EventBridgeChangeEvents;
use admin_set_password::directory::ChangeEvents;
use admin_set_password::password::Reason;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

async fn clients() -> (aws_sdk_eventbridge::Client, aws_sdk_sqs::Client) {
    let sdk = support::sdk_config(support::moto_endpoint(), &admin_set_password::testing::config(&[])).await;
    (aws_sdk_eventbridge::Client::new(&sdk), aws_sdk_sqs::Client::new(&sdk))
}

fn event() -> PasswordSetEvent {
    PasswordSetEvent {
        change: admin_set_password::change_events::Change::Set,
        username: "bob".into(),
        user_pool_id: format!("{}_Events", support::REGION),
        permanent: false,
        signed_out: true,
        generated: true,
        initiator: Initiator::Admin(Actor {
            username: Some("alice".into()),
            sub: Some("11111111-2222-3333-4444-555555555555".into()),
        }),
        reason: Some(Reason::parse("INC-1234").unwrap()),
        correlation_id: None,
        request_ids: RequestIds {
            lambda: "8f5e0c1e-lambda".into(),
            api: Some("api-request-1".into()),
        },
    }
}

#[tokio::test]
async fn a_published_event_reaches_the_queue_once_through_a_rule_on_its_source() {
    let target = support::events::BusToQueue::create().await;
    let (events, bus) = (target.events.clone(), target.bus.clone());

    // Another source on the same bus: the rule must not pass it on.
    events
        .put_events()
        .entries(
            PutEventsRequestEntry::builder()
                .event_bus_name(&bus)
                .source("someone-else")
                .detail_type(DETAIL_TYPE)
                .detail("{}")
                .build(),
        )
        .send()
        .await
        .expect("decoy event");

    let publisher = EventBridgeChangeEvents::new(events.clone(), &bus);
    publisher.publish(&event()).await.expect("publish");

    let messages = target.drain().await;
    assert_eq!(messages.len(), 1, "expected exactly one message, got {messages:#?}");
    let message = &messages[0];
    assert_eq!(message["source"], EVENT_SOURCE, "{message:#}");
    assert_eq!(message["detail-type"], DETAIL_TYPE, "{message:#}");
    assert_eq!(message["detail"], serde_json::to_value(event()).unwrap(), "{message:#}");
    assert_eq!(message["detail"]["actor"]["username"], "alice");
    assert_eq!(message["detail"]["reason"], "INC-1234");
}

#[tokio::test]
async fn publishing_to_a_bus_that_does_not_exist_is_an_error_with_a_detail() {
    let (events, _) = clients().await;
    let publisher = EventBridgeChangeEvents::new(events, format!("no-such-bus-{}", support::free_port()));
    let detail = publisher.publish(&event()).await.expect_err("a missing bus must fail");
    assert!(detail.starts_with("PutEvents: "), "{detail}");
    assert!(
        detail.contains("ResourceNotFound") || detail.contains("does not exist"),
        "{detail}"
    );
}

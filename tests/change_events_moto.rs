//! The EventBridge adapter against moto: an event published by `EventBridgeChangeEvents`
//! reaches, through a rule on its source, exactly one SQS message whose detail is the event;
//! a bus that does not exist is an error, not a silent success.

mod support;

use std::time::{Duration, Instant};

use admin_set_password::change_events::{
    Actor, ChangeEvents, EventBridgeChangeEvents, Initiator, PasswordSetEvent, RequestIds, DETAIL_TYPE, EVENT_SOURCE,
};
use admin_set_password::password::Reason;
use admin_set_password::Config;
use aws_sdk_eventbridge::types::{PutEventsRequestEntry, Target};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{json, Value};

async fn clients() -> (aws_sdk_eventbridge::Client, aws_sdk_sqs::Client) {
    let config = Config::from_lookup(|k| match k {
        "USER_POOL_ID" => Some(format!("{}_Events", support::REGION)),
        "ADMIN_GROUPS" => Some("admins".into()),
        _ => None,
    })
    .unwrap();
    let sdk = support::sdk_config(support::moto_endpoint(), &config).await;
    (aws_sdk_eventbridge::Client::new(&sdk), aws_sdk_sqs::Client::new(&sdk))
}

fn event() -> PasswordSetEvent {
    PasswordSetEvent {
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

/// Every message the queue hands out until it stays empty for a second (moto delivers the
/// rule's target synchronously, so a second is ample), deleting each.
async fn drain(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Vec<Value> {
    let mut bodies = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let received = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive");
        if received.messages().is_empty() {
            break;
        }
        for message in received.messages() {
            bodies.push(serde_json::from_str(message.body().unwrap()).expect("message body is JSON"));
            sqs.delete_message()
                .queue_url(queue_url)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .expect("delete");
        }
    }
    bodies
}

#[tokio::test]
async fn a_published_event_reaches_the_queue_once_through_a_rule_on_its_source() {
    let (events, sqs) = clients().await;
    let suffix = support::free_port();
    let bus = format!("password-changes-{suffix}");
    events.create_event_bus().name(&bus).send().await.expect("create bus");
    let queue_url = sqs
        .create_queue()
        .queue_name(format!("password-set-{suffix}"))
        .send()
        .await
        .expect("create queue")
        .queue_url()
        .unwrap()
        .to_owned();
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue attributes")
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .unwrap()
        .to_owned();
    events
        .put_rule()
        .name("password-set")
        .event_bus_name(&bus)
        .event_pattern(json!({"source": [EVENT_SOURCE], "detail-type": [DETAIL_TYPE]}).to_string())
        .send()
        .await
        .expect("put rule");
    events
        .put_targets()
        .rule("password-set")
        .event_bus_name(&bus)
        .targets(Target::builder().id("queue").arn(&queue_arn).build().unwrap())
        .send()
        .await
        .expect("put targets");

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

    let messages = drain(&sqs, &queue_url).await;
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

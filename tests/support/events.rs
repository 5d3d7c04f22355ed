//! A custom EventBridge bus in moto whose rule on the function's events delivers to an SQS
//! queue, so tests can count what downstream consumers receive.

use std::time::{Duration, Instant};

use admin_set_password::change_events::{DETAIL_TYPE, EVENT_SOURCE};
use aws_sdk_eventbridge::types::Target;
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{json, Value};

pub struct BusToQueue {
    pub bus: String,
    pub queue_url: String,
    pub events: aws_sdk_eventbridge::Client,
    pub sqs: aws_sdk_sqs::Client,
}

impl BusToQueue {
    /// A new bus and queue on the test binary's moto, with a rule on source
    /// `admin-set-password` and detail-type `Password Set`.
    pub async fn create() -> Self {
        let base = admin_set_password::testing::config(&[]);
        let sdk = super::sdk_config(super::moto_endpoint(), &base).await;
        let (events, sqs) = (aws_sdk_eventbridge::Client::new(&sdk), aws_sdk_sqs::Client::new(&sdk));
        let suffix = super::free_port();
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
        Self {
            bus,
            queue_url,
            events,
            sqs,
        }
    }

    /// Every message the queue hands out until it stays empty for a second (moto delivers
    /// the rule's target synchronously, so a second is ample), deleting each.
    pub async fn drain(&self) -> Vec<Value> {
        let mut bodies = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let received = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
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
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(message.receipt_handle().unwrap())
                    .send()
                    .await
                    .expect("delete");
            }
        }
        bodies
    }
}

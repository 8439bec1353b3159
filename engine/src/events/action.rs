//! The payloads of an action's outcomes, in its job's stream: one attempt
//! (`action.succeeded`, `action.retry_scheduled`, `action.failed`, which say the same
//! things and differ in what follows) and an action a failure stopped (`action.skipped`).
//! None carries a credential: the request is a digest, the answer a redacted excerpt.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Payload;
use crate::log::EventType;

/// One attempt of an action run, and what came of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionAttempted {
    pub action_run_id: Uuid,
    pub name: String,
    /// Its place among its transition's actions, from 0.
    pub ordinal: i32,
    pub transition: String,
    /// The `job.transitioned` event that made the run.
    pub transition_event_id: Uuid,
    /// From 1.
    pub attempt: i32,
    /// Whether a request left (a template that fails to render, a credential that cannot
    /// be opened or a destination that refuses the address sends nothing).
    pub sent: bool,
    pub error: Option<String>,
    /// What was sent and answered; only when a request left.
    #[serde(flatten)]
    pub exchange: Option<Exchange>,
}

/// A request that left and its answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// `null` when no answer came (a refused connection, a timeout).
    pub status_code: Option<u16>,
    pub duration_ms: i32,
    pub request: RequestDigest,
    pub response: ResponseExcerpt,
    /// With `action.retry_scheduled`: when the next attempt is due.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// What was sent, without its body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestDigest {
    pub method: String,
    pub body_sha256: String,
    pub body_bytes: u64,
}

/// What came back: its size and a redacted excerpt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseExcerpt {
    pub bytes: u64,
    pub excerpt: String,
}

impl ActionAttempted {
    /// Its stored form.
    pub fn to_data(&self) -> Result<serde_json::Value, crate::StoreError> {
        super::encode(self, "action outcome")
    }
}

/// `action.skipped`: a later action of a transition whose earlier action failed and does
/// not continue on failure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionSkipped {
    pub action_run_id: Uuid,
    pub name: String,
    pub ordinal: i32,
    pub transition: String,
    pub reason: String,
}

impl Payload for ActionSkipped {
    const TYPE: EventType = EventType::ActionSkipped;
}

/// `action.retried`: a failed action was retried by hand (the event's metadata says who).
/// It gets one more attempt; the actions its failure skipped wait behind it again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionRetried {
    pub action_run_id: Uuid,
    pub name: String,
    pub ordinal: i32,
    pub transition: String,
    /// The skipped actions that wait again, in order.
    pub resumed: Vec<Uuid>,
}

impl Payload for ActionRetried {
    const TYPE: EventType = EventType::ActionRetried;
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn through(data: Value) -> Value {
        let attempt: ActionAttempted = serde_json::from_value(data).unwrap();
        attempt.to_data().unwrap()
    }

    fn common() -> Value {
        json!({
            "action_run_id": "01a23ce9-5096-705f-8bcd-b94f259b392c", "name": "update_crm",
            "ordinal": 0, "transition": "schedule", "attempt": 1,
            "transition_event_id": "01a23ce9-5096-705f-8bcd-b951e5eb23ea",
        })
    }

    fn with(mut base: Value, more: Value) -> Value {
        base.as_object_mut()
            .unwrap()
            .extend(more.as_object().unwrap().clone());
        base
    }

    #[test]
    fn an_attempt_that_sent_nothing_has_no_exchange_and_writes_back_without_one() {
        let data = with(common(), json!({ "sent": false, "error": "no credential" }));
        let attempt: ActionAttempted = serde_json::from_value(data.clone()).unwrap();
        assert_eq!(attempt.exchange, None);
        assert_eq!(through(data.clone()), data);
    }

    #[test]
    fn an_attempt_without_an_answer_keeps_its_null_status() {
        let data = with(
            common(),
            json!({
                "sent": true, "error": "could not connect", "status_code": null,
                "duration_ms": 3, "next_attempt_at": "2026-12-03T17:17:49.703306224Z",
                "request": { "method": "POST", "body_bytes": 44, "body_sha256": "cf40" },
                "response": { "bytes": 0, "excerpt": "" },
            }),
        );
        let attempt: ActionAttempted = serde_json::from_value(data.clone()).unwrap();
        let exchange = attempt.exchange.unwrap();
        assert_eq!(exchange.status_code, None);
        assert!(exchange.next_attempt_at.is_some());
        assert_eq!(through(data.clone()), data);
    }
}

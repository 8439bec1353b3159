//! What a subscriber receives: seed 002's `{"event": {...}, "webhook": {...}}` as compact
//! JSON, signed with `X-Hook-Signature` (also sent as seed 004's `X-Webhook-Signature`) and
//! the Standard Webhooks headers. The same event object is what the Zapier poll answers
//! with.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use switchyard_engine::subscription::delivery::ClaimedDelivery;
use uuid::Uuid;

use crate::rotation::{self, Previous};
use crate::signing;

/// An event as subscribers and pollers see it.
pub struct EventView<'a> {
    pub id: Uuid,
    pub event_type: &'a str,
    pub tenant_id: Uuid,
    pub stream_id: Uuid,
    pub position: i64,
    pub recorded_at: DateTime<Utc>,
    pub data: &'a Value,
}

impl EventView<'_> {
    /// The event object: `id`, `type`, `timestamp`, `source`, `payload`, plus where it
    /// sits in the log.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "type": self.event_type,
            "timestamp": self.recorded_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            "source": source(self.event_type, self.data),
            "tenantId": self.tenant_id,
            "streamId": self.stream_id,
            "position": self.position,
            "payload": self.data,
        })
    }
}

/// What the event is about: `job` (action events are in the job's stream), `connection`,
/// `workflow` or `subscription`; for seed 002's `app:*` names, the app (the provider), as
/// the seed's examples show.
fn source<'a>(event_type: &'a str, data: &'a Value) -> &'a str {
    if event_type.starts_with("app:") {
        return data["appType"].as_str().unwrap_or("connection");
    }
    match event_type
        .split_once('.')
        .map_or(event_type, |(kind, _)| kind)
    {
        "action" => "job",
        kind => kind,
    }
}

/// The delivery body, compact JSON.
pub fn body(delivery: &ClaimedDelivery) -> Vec<u8> {
    let event = EventView {
        id: delivery.event_id,
        event_type: &delivery.event_type,
        tenant_id: delivery.tenant_id.0,
        stream_id: delivery.event_stream_id,
        position: delivery.event_position,
        recorded_at: delivery.event_recorded_at,
        data: &delivery.event_data,
    };
    let value = json!({
        "event": event.to_json(),
        "webhook": { "id": delivery.subscription_id, "name": delivery.subscription_name },
    });
    serde_json::to_vec(&value).expect("a JSON value serialises")
}

/// The headers of one attempt. `id` (the delivery's) is the same on every attempt, so a
/// receiver can de-duplicate.
/// During a rotation's overlap `previous` signs `webhook-signature` too; the seed's
/// single-valued `X-Hook-Signature` carries the current secret's only.
pub fn headers(
    id: &str,
    timestamp: i64,
    body: &[u8],
    secret: Option<&str>,
    previous: Option<&Previous>,
) -> Vec<(&'static str, String)> {
    let mut headers = vec![
        ("content-type", "application/json".to_string()),
        ("idempotency-key", id.to_string()),
        ("webhook-id", id.to_string()),
        ("webhook-timestamp", timestamp.to_string()),
        ("traceparent", crate::trace::traceparent(id)),
        (
            "user-agent",
            concat!("Switchyard/", env!("CARGO_PKG_VERSION")).to_string(),
        ),
    ];
    if let Some(secret) = secret {
        headers.push((
            "webhook-signature",
            rotation::standard_webhooks(secret, previous, id, timestamp, body),
        ));
        let hook = signing::hook_signature(secret, body);
        // Seed 004 promised the same signature under this name.
        headers.push(("x-webhook-signature", hook.clone()));
        headers.push(("x-hook-signature", hook));
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_events_come_from_the_job() {
        let none = Value::Null;
        assert_eq!(source("action.failed", &none), "job");
        assert_eq!(source("connection.created", &none), "connection");
        assert_eq!(source("job.created", &none), "job");
        let app = json!({"appType": "twilio"});
        assert_eq!(source("app:health_warning", &app), "twilio");
    }
}

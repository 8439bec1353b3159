//! Schemas of event objects the API answers with as built elsewhere: the event as
//! subscriptions deliver it (and the Zapier poll lists it), and an entry of the event type
//! catalogue. The JSON is produced by `switchyard_actions::deliveries`; a test checks these
//! schemas against what it produces.

use poem_openapi::Object;
use uuid::Uuid;

use super::{Closed, Documented, EventTypes, JsonObject};

/// An event as subscriptions deliver it.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct DeliveredEvent {
    /// The event's id in the log: receivers de-duplicate on it.
    id: Uuid,
    /// The event's type, e.g. `job.transitioned`.
    #[oai(rename = "type")]
    event_type: String,
    /// When the event was recorded (RFC 3339, milliseconds).
    timestamp: String,
    /// What it is about: `job`, `workflow`, `connection`, ...
    source: String,
    tenant_id: Uuid,
    stream_id: Uuid,
    /// Its position in the tenant's log.
    position: i64,
    /// The event's data.
    payload: Documented<JsonObject>,
}

/// An event type one can subscribe to.
#[derive(Object)]
pub struct EventTypeEntry {
    /// The name to subscribe with.
    #[oai(rename = "type")]
    event_type: String,
    description: String,
    /// For the product's older names (`app:connected`, ...): the event type they stand for.
    alias_of: Option<Closed<EventTypes>>,
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use poem_openapi::types::ParseFromJSON;
    use serde_json::json;
    use switchyard_actions::deliveries::payload::EventView;
    use switchyard_actions::deliveries::subscriptions::catalogue;

    use super::*;

    #[test]
    fn the_schemas_read_what_deliveries_produce() {
        let data = json!({"job_id": Uuid::nil(), "to": "done"});
        let event = EventView {
            id: Uuid::new_v4(),
            event_type: "job.transitioned",
            tenant_id: Uuid::new_v4(),
            stream_id: Uuid::new_v4(),
            position: 7,
            recorded_at: Utc::now(),
            data: &data,
        }
        .to_json();
        if let Err(err) = DeliveredEvent::parse_from_json(Some(event)) {
            panic!("{}", err.into_message());
        }
        for entry in catalogue().as_array().unwrap() {
            if let Err(err) = EventTypeEntry::parse_from_json(Some(entry.clone())) {
                panic!("{entry}: {}", err.into_message());
            }
        }
    }
}

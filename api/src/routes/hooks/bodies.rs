//! The request and response bodies of `/api/hooks`: seed 002's camelCase fields.

use crate::schema::{Closed, Documented, EventTypeEntry, Healths, Outcomes, Statuses};
use chrono::{DateTime, Utc};
use poem_openapi::types::MaybeUndefined;
use poem_openapi::Object;
use serde::Deserialize;
use switchyard_engine::subscription::delivery_log::DeliveryView;
use switchyard_engine::subscription::Subscription;
use uuid::Uuid;

use crate::routes::limits::{FlowBodyCamel, LimitsBody};
use crate::routes::progress::ProgressBodyCamel;

#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct CreateWebhook {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: String,
    pub url: String,
    /// Event types or patterns such as `job.*`.
    #[oai(validator(min_items = 1))]
    pub event_types: Vec<String>,
    /// Signs each delivery (`X-Hook-Signature`, `webhook-signature`) when given.
    pub secret: Option<String>,
    pub enabled: Option<bool>,
    /// Also deliver the events recorded before this subscription, from a time or a
    /// cursor of the events API (at most 10,000 events).
    pub backfill: Option<BackfillFrom>,
    /// How often and how many at once the endpoint is called; without a `rate`, the
    /// server's per-minute limit applies.
    pub limits: Option<LimitsBody>,
}

/// Where a backfill starts: give exactly one.
#[derive(Object, Deserialize)]
pub struct BackfillFrom {
    /// Events recorded at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Events after this `next_cursor` of `GET /api/v1/events`.
    pub after: Option<String>,
}

/// A window of failed deliveries to queue again.
#[derive(Object, Deserialize)]
pub struct RecoverWebhook {
    /// Deliveries created at or after this time.
    pub since: DateTime<Utc>,
    /// And before this one; now when left out.
    pub until: Option<DateTime<Utc>>,
}

/// What a recovery queued.
#[derive(Object)]
pub struct Recovered {
    /// Failed deliveries queued again for one more attempt each, oldest first.
    pub requeued: u64,
    /// Failed deliveries of the window left for another call (one call queues at most 1000).
    pub remaining: u64,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct UpdateWebhook {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: Option<String>,
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    /// A new secret, or `null` to stop signing.
    #[serde(default)]
    pub secret: MaybeUndefined<String>,
    pub enabled: Option<bool>,
    /// New limits, or `null` to remove them.
    #[serde(default)]
    pub limits: MaybeUndefined<LimitsBody>,
}

/// A subscription; never its full URL or its secret.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct Webhook {
    pub id: Uuid,
    pub name: String,
    /// Scheme and host of the target URL (the full URL is stored encrypted).
    pub url: String,
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub has_secret: bool,
    /// `unknown`, `healthy` or `failing` (a delivery used up its attempts).
    pub health: Closed<Healths>,
    /// Set when a 410 answer disabled the subscription.
    pub disabled_reason: Option<String>,
    pub last_delivery_at: Option<DateTime<Utc>>,
    /// After the secret was replaced: until when the old one also signs
    /// (`webhook-signature` carries both).
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    #[oai(flatten)]
    pub flow: FlowBodyCamel,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// On creation with a backfill: the deliveries it queued.
    #[oai(skip_serializing_if_is_none)]
    pub backfilled: Option<u64>,
}

impl From<Subscription> for Webhook {
    fn from(s: Subscription) -> Self {
        Webhook {
            id: s.id,
            name: s.name,
            url: s.url_preview,
            event_types: s.event_types,
            enabled: s.enabled,
            has_secret: s.has_secret,
            health: s.health.as_str().into(),
            disabled_reason: s.disabled_reason,
            last_delivery_at: s.last_delivery_at,
            previous_secret_expires_at: s.previous_secret_until.filter(|at| *at > Utc::now()),
            flow: s.flow.into(),
            created_at: s.created_at,
            updated_at: s.updated_at,
            backfilled: None,
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct WebhookList {
    pub items: Vec<Webhook>,
    #[oai(rename = "next_cursor")]
    pub next_cursor: Option<String>,
}

#[derive(Object)]
pub struct EventTypes {
    pub items: Vec<Documented<EventTypeEntry>>,
}

/// One attempt in the delivery log.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct Attempt {
    pub attempt: i32,
    /// `succeeded`, `failed`, `timeout`, `network_error` or `not_sent`.
    pub outcome: Closed<Outcomes>,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub response_excerpt: String,
    pub duration_ms: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub recorded_at: DateTime<Utc>,
}

/// A delivery of one event to one subscription.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct Delivery {
    pub id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    #[oai(flatten)]
    pub progress: ProgressBodyCamel,
    /// `live`, or `backfill` (asked for when the subscription was created).
    pub origin: String,
    /// When a finished delivery was last queued again, and by what: `retry` or `recover`.
    pub requeued_at: Option<DateTime<Utc>>,
    pub requeued_by: Option<String>,
    pub attempt_log: Vec<Attempt>,
}

impl From<DeliveryView> for Delivery {
    fn from(d: DeliveryView) -> Self {
        Delivery {
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            progress: d.progress.into(),
            origin: d.origin,
            requeued_at: d.requeued_at,
            requeued_by: d.requeued_by,
            attempt_log: d
                .attempt_log
                .into_iter()
                .map(|a| Attempt {
                    attempt: a.attempt,
                    outcome: a.outcome.as_str().into(),
                    status_code: a.status_code,
                    error: a.error,
                    response_excerpt: a.response_excerpt,
                    duration_ms: a.duration_ms,
                    next_attempt_at: a.next_attempt_at,
                    recorded_at: a.recorded_at,
                })
                .collect(),
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct DeliveryList {
    pub items: Vec<Delivery>,
    #[oai(rename = "next_cursor")]
    pub next_cursor: Option<String>,
}

#[derive(Object)]
pub struct Redelivered {
    pub id: Uuid,
    pub status: Closed<Statuses>,
}

//! Deliveries as the worker moves them through the one work queue ([`crate::queue`]):
//! claimed under a lease, held to the subscription's rate limit, and recorded (the
//! delivery, its attempt, a ledger row, the subscription's health) in one transaction.
//! The delivery log and redelivery are in [`super::delivery_log`].

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::connection::Sealed;
use crate::flow::Limits;
use crate::health::Health;
use crate::ledger::{self, LedgerEntry};
use crate::log::EventType;
use crate::outcome::Outcome;
use crate::queue::{Item, Queue, Settled, Status};
use crate::{stored_json, Pool, StoreError, TenantId};

/// Deliveries in the work queue: due only while their subscription is enabled (a
/// disabled subscription's deliveries wait, and go out if it is enabled again) and not
/// held (its per-minute sends used up: its deliveries wait unclaimed until the window
/// reopens, instead of being claimed and put back again and again). A worker may hold one
/// for 60 seconds before another may take it over.
pub static DELIVERIES: Queue = Queue::new(
    "deliveries",
    "JOIN webhook_subscriptions s ON s.id = q.subscription_id",
    "AND s.enabled AND (s.held_until IS NULL OR s.held_until <= now())",
    "60",
    "c.id, c.tenant_id, c.subscription_id, s.name AS subscription_name, s.ciphertext, s.key_id, \
     c.attempts AS attempt, e.event_id, c.event_type, e.stream_id AS event_stream_id, \
     e.position AS event_position, e.data AS event_data, e.recorded_at AS event_recorded_at, \
     s.limits, s.consecutive_failures AS failures",
    "JOIN webhook_subscriptions s ON s.id = c.subscription_id JOIN event_log e ON e.event_id = c.event_id",
);

/// A delivery the worker now holds, with what it needs to build the request. Event data
/// that does not decode is carried as the marker of [`stored_json`], and the sender fails
/// that one delivery with its reason.
#[derive(Clone, Debug, postgres_from_row::FromRow)]
pub struct ClaimedDelivery {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub subscription_id: Uuid,
    pub subscription_name: String,
    #[from_row(flatten)]
    pub sealed: Sealed,
    pub attempt: i32,
    pub event_id: Uuid,
    pub event_type: String,
    pub event_stream_id: Uuid,
    pub event_position: i64,
    #[from_row(from = "stored_json::Stored")]
    pub event_data: Value,
    pub event_recorded_at: DateTime<Utc>,
    /// The subscription's limits and consecutive failures as claimed (see [`crate::flow`]).
    pub limits: Limits,
    pub failures: i32,
}

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq)]
pub enum DeliveryFinish {
    Succeeded,
    Retry(DateTime<Utc>),
    Failed,
    /// The target answered 410 Gone: the delivery fails and the subscription is disabled.
    Gone,
}

/// One attempt as recorded.
#[derive(Clone, Debug)]
pub struct DeliveryRecording {
    pub finish: DeliveryFinish,
    pub outcome: Outcome,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub response_excerpt: String,
    pub duration_ms: i32,
    /// The receiver's `Retry-After`, when it sent one.
    pub retry_after: Option<std::time::Duration>,
    /// Present when a request actually left.
    pub ledger: Option<LedgerEntry>,
}

crate::queue::claimed_item!(ClaimedDelivery, DELIVERIES);

/// Records an attempt in one transaction; returns `false` when the lease had expired and
/// another worker owns the delivery (nothing is written).
#[tracing::instrument(name = "record_delivery", skip_all, fields(delivery.id = %delivery.id))]
pub async fn record(
    pool: &Pool,
    delivery: &ClaimedDelivery,
    rec: &DeliveryRecording,
) -> Result<bool, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let (status, next) = match &rec.finish {
        DeliveryFinish::Succeeded => (Status::Succeeded, None),
        DeliveryFinish::Retry(at) => (Status::Pending, Some(*at)),
        DeliveryFinish::Failed | DeliveryFinish::Gone => (Status::Failed, None),
    };
    let settled = Settled {
        status,
        retry_at: next,
        status_code: rec.status_code,
        error: rec.error.clone(),
    };
    if !DELIVERIES.settle(&tx, delivery.fence(), &settled).await? {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO delivery_attempts (delivery_id, attempt, outcome, status_code, error, \
         response_excerpt, duration_ms, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &delivery.id,
            &delivery.attempt,
            &rec.outcome.as_str(),
            &rec.status_code,
            &rec.error,
            &rec.response_excerpt,
            &rec.duration_ms,
            &next,
        ],
    )
    .await?;
    if let Some(entry) = &rec.ledger {
        ledger::insert(
            &tx,
            delivery.tenant_id,
            delivery.id,
            delivery.attempt,
            None,
            entry,
        )
        .await?;
    }
    // Health: a success clears failing; a delivery that used up its attempts sets it.
    let health = match rec.finish {
        DeliveryFinish::Succeeded => Some(Health::Healthy.as_str()),
        DeliveryFinish::Failed | DeliveryFinish::Gone => Some(Health::Failing.as_str()),
        DeliveryFinish::Retry(_) => None,
    };
    // At most about once a second unless the health changes: a busy subscription's
    // deliveries would otherwise queue on this one row. A change is written by `changed`
    // only from the states it starts from, so racing writers make it (and its event)
    // once; `touched` writes the rest and takes no lock when it is not due.
    let from: &[&str] = match rec.finish {
        DeliveryFinish::Succeeded => &["failing"],
        DeliveryFinish::Failed | DeliveryFinish::Gone => &["healthy", "unknown"],
        DeliveryFinish::Retry(_) => &[],
    };
    // Built once and prepared once per connection: every delivery's record runs it.
    static HEALTH_SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sql = HEALTH_SQL.get_or_init(|| {
        format!(
            "WITH changed AS (UPDATE webhook_subscriptions SET health = $2, \
                                last_delivery_at = CASE WHEN $3 THEN now() ELSE last_delivery_at END \
                              WHERE id = $1 AND health = ANY($4::text[]) RETURNING {columns}), \
                  touched AS (UPDATE webhook_subscriptions SET health = coalesce($2, health), \
                                last_delivery_at = CASE WHEN $3 THEN now() ELSE last_delivery_at END \
                              WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM changed) \
                                AND (health <> coalesce($2, health) OR ($3 AND (last_delivery_at IS NULL \
                                     OR last_delivery_at < now() - interval '1 second'))) \
                              RETURNING 1) \
             SELECT * FROM changed",
            columns = super::COLUMNS
        )
    });
    let stmt = tx.prepare_cached(sql).await?;
    let changed = tx
        .query_opt(
            &stmt,
            &[
                &delivery.subscription_id,
                &health,
                &rec.ledger.is_some(),
                &from,
            ],
        )
        .await?;
    if let Some(row) = changed {
        announce_health(&tx, delivery, rec, &row).await?;
    }
    if rec.finish == DeliveryFinish::Gone {
        disable(&tx, delivery).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Appends `subscription.failing` when a delivery used up its attempts on a subscription
/// that was healthy (or untried), and `subscription.recovered` when one succeeds on a
/// failing subscription: the events a receiver pages someone on.
async fn announce_health(
    tx: &deadpool_postgres::Transaction<'_>,
    delivery: &ClaimedDelivery,
    rec: &DeliveryRecording,
    row: &tokio_postgres::Row,
) -> Result<(), StoreError> {
    let subscription: super::Subscription = crate::store::read_row(row)?;
    let event_type = match subscription.health {
        Health::Failing => EventType::SubscriptionFailing,
        Health::Healthy => EventType::SubscriptionRecovered,
        Health::Unknown => return Ok(()),
    };
    let metadata = serde_json::json!({
        "actor_key_id": null, "request_id": null, "idempotency_key": null,
        "delivery_id": delivery.id,
    });
    let extra = serde_json::json!({
        "delivery_id": delivery.id, "event_id": delivery.event_id,
        "status_code": rec.status_code, "error": rec.error,
    });
    super::record_with(
        tx,
        delivery.tenant_id,
        metadata,
        event_type,
        &subscription,
        extra,
    )
    .await
}

/// Sets the subscription's health as its circuit opens (`failing`) or closes (`healthy`)
/// and appends `subscription.failing` or `subscription.recovered` with `extra`.
pub async fn circuit_changed(
    tx: &deadpool_postgres::Transaction<'_>,
    id: Uuid,
    opened: bool,
    extra: serde_json::Value,
) -> Result<(), StoreError> {
    let (health, event_type) = if opened {
        (Health::Failing, EventType::SubscriptionFailing)
    } else {
        (Health::Healthy, EventType::SubscriptionRecovered)
    };
    let row = tx
        .query_opt(
            &format!(
                "UPDATE webhook_subscriptions SET health = $2 WHERE id = $1 RETURNING {}",
                super::COLUMNS
            ),
            &[&id, &health.as_str()],
        )
        .await?;
    let Some(row) = row else {
        return Ok(());
    };
    let subscription: super::Subscription = crate::store::read_row(&row)?;
    let metadata = serde_json::json!({
        "actor_key_id": null, "request_id": null, "idempotency_key": null,
    });
    super::record_with(
        tx,
        subscription.tenant_id,
        metadata,
        event_type,
        &subscription,
        extra,
    )
    .await
}

/// Disables the subscription after a 410 and says so in its stream.
async fn disable(
    tx: &deadpool_postgres::Transaction<'_>,
    delivery: &ClaimedDelivery,
) -> Result<(), StoreError> {
    let row = tx
        .query_opt(
            &format!(
                "UPDATE webhook_subscriptions SET enabled = false, updated_at = now(), \
                 disabled_reason = 'the target answered 410 Gone' WHERE id = $1 AND enabled \
                 RETURNING {}",
                super::COLUMNS
            ),
            &[&delivery.subscription_id],
        )
        .await?;
    if let Some(row) = row {
        let subscription: super::Subscription = crate::store::read_row(&row)?;
        let metadata = serde_json::json!({
            "actor_key_id": null, "request_id": null, "idempotency_key": null,
            "delivery_id": delivery.id,
        });
        super::record(
            tx,
            delivery.tenant_id,
            metadata,
            EventType::SubscriptionDisabled,
            &subscription,
        )
        .await?;
    }
    Ok(())
}

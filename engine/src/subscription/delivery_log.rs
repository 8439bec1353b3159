//! The delivery log a subscriber reads: each delivery with its attempts, where it came
//! from and whether it was queued again; and a manual redelivery of one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::outcome::Outcome;
use crate::queue::Status;
use crate::{Pool, StoreError, TenantId};

/// A delivery in the log, with its attempts.
#[derive(Clone, Debug, Serialize)]
pub struct DeliveryView {
    pub id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub status: Status,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// `live` (from the dispatcher) or `backfill` (asked for at the subscription's creation).
    pub origin: String,
    /// When the delivery was last queued again after it finished, and by what: `retry`
    /// (one delivery) or `recover` (a window of failed ones).
    pub requeued_at: Option<DateTime<Utc>>,
    pub requeued_by: Option<String>,
    pub attempt_log: Vec<AttemptView>,
}

/// One attempt in the delivery log.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AttemptView {
    pub attempt: i32,
    pub outcome: Outcome,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub response_excerpt: String,
    pub duration_ms: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub recorded_at: DateTime<Utc>,
}

/// The subscription's deliveries, newest first, with their attempts.
pub async fn list(
    pool: &Pool,
    tenant_id: TenantId,
    subscription_id: Uuid,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<DeliveryView>, StoreError> {
    let client = pool.get().await?;
    let (before_at, before_id) = before.unzip();
    let rows = client
        .query(
            "SELECT d.id, d.event_id, d.event_type, d.status, d.attempts, d.next_attempt_at, \
                    d.last_status_code, d.last_error, d.created_at, d.updated_at, \
                    coalesce((SELECT json_agg(json_build_object('attempt', a.attempt, 'outcome', a.outcome, \
                        'status_code', a.status_code, 'error', a.error, 'response_excerpt', a.response_excerpt, \
                        'duration_ms', a.duration_ms, 'next_attempt_at', a.next_attempt_at, \
                        'recorded_at', a.recorded_at) ORDER BY a.attempt) \
                      FROM delivery_attempts a WHERE a.delivery_id = d.id), '[]'::json) AS attempt_log, \
                    d.origin, d.requeued_at, d.requeued_by \
             FROM deliveries d WHERE d.subscription_id = $1 AND d.tenant_id = $2 \
               AND ($3::timestamptz IS NULL OR (d.created_at, d.id) < ($3, $4)) \
             ORDER BY d.created_at DESC, d.id DESC LIMIT $5",
            &[&subscription_id, &tenant_id, &before_at, &before_id, &limit],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let attempts: Value = r.try_get("attempt_log")?;
            Ok(DeliveryView {
                id: r.try_get("id")?,
                event_id: r.try_get("event_id")?,
                event_type: r.try_get("event_type")?,
                status: r.try_get("status")?,
                attempts: r.try_get("attempts")?,
                next_attempt_at: r.try_get("next_attempt_at")?,
                last_status_code: r.try_get("last_status_code")?,
                last_error: r.try_get("last_error")?,
                origin: r.try_get("origin")?,
                requeued_at: r.try_get("requeued_at")?,
                requeued_by: r.try_get("requeued_by")?,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
                attempt_log: serde_json::from_value(attempts)
                    .map_err(|err| StoreError::Corrupt(format!("delivery attempts: {err}")))?,
            })
        })
        .collect()
}

/// Why a redelivery was not scheduled.
#[derive(Debug, PartialEq, Eq)]
pub enum Redelivery {
    Scheduled,
    NotFound,
    /// It is already waiting for or making an attempt.
    InProgress(String),
}

/// Schedules one more attempt of a finished delivery, now.
pub async fn redeliver(
    pool: &Pool,
    tenant_id: TenantId,
    subscription_id: Uuid,
    delivery_id: Uuid,
) -> Result<Redelivery, StoreError> {
    let client = pool.get().await?;
    let row = client
        .query_opt(
            "WITH target AS (SELECT id, status FROM deliveries \
                             WHERE id = $1 AND subscription_id = $2 AND tenant_id = $3 FOR UPDATE), \
             moved AS (UPDATE deliveries d SET status = $4, next_attempt_at = now(), updated_at = now(), \
                       requeued_at = now(), requeued_by = 'retry' \
                       FROM target WHERE d.id = target.id AND target.status IN ($5, $6) RETURNING 1) \
             SELECT target.status, EXISTS (SELECT 1 FROM moved) AS moved FROM target",
            &[
                &delivery_id,
                &subscription_id,
                &tenant_id,
                &Status::Pending,
                &Status::Succeeded,
                &Status::Failed,
            ],
        )
        .await?;
    Ok(match row {
        None => Redelivery::NotFound,
        Some(r) if r.try_get::<_, bool>("moved")? => Redelivery::Scheduled,
        Some(r) => Redelivery::InProgress(r.try_get("status")?),
    })
}

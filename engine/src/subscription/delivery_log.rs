//! The delivery log a subscriber reads: each delivery with its attempts, where it came
//! from and whether it was queued again; and a manual redelivery of one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::outcome::Outcome;
use crate::queue::{Progress, Status};
use crate::{Pool, StoreError, TenantId};

/// A delivery in the log, with its attempts.
#[derive(Clone, Debug, Serialize, postgres_from_row::FromRow)]
pub struct DeliveryView {
    pub id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    #[serde(flatten)]
    #[from_row(flatten)]
    pub progress: Progress,
    /// `live` (from the dispatcher) or `backfill` (asked for at the subscription's creation).
    pub origin: String,
    /// When the delivery was last queued again after it finished, and by what: `retry`
    /// (one delivery) or `recover` (a window of failed ones).
    pub requeued_at: Option<DateTime<Utc>>,
    pub requeued_by: Option<String>,
    #[from_row(from = "AttemptLog")]
    pub attempt_log: Vec<AttemptView>,
}

/// The attempts of a delivery as the log's query aggregates them (a JSON array).
struct AttemptLog(Vec<AttemptView>);

impl<'a> tokio_postgres::types::FromSql<'a> for AttemptLog {
    fn from_sql(
        ty: &tokio_postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let tokio_postgres::types::Json(attempts) = tokio_postgres::types::Json::from_sql(ty, raw)
            .map_err(|err| format!("delivery attempts: {err}"))?;
        Ok(AttemptLog(attempts))
    }

    fn accepts(ty: &tokio_postgres::types::Type) -> bool {
        <tokio_postgres::types::Json<Value> as tokio_postgres::types::FromSql>::accepts(ty)
    }
}

impl From<AttemptLog> for Vec<AttemptView> {
    fn from(log: AttemptLog) -> Vec<AttemptView> {
        log.0
    }
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
    crate::store::read_rows(&rows)
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

//! The utility ledger: one append-only row per outbound request actually sent, for
//! metering (`WebhookEgress`).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::{JobId, Pool, StoreError, TenantId};

/// The kind of metered request an action or delivery makes.
pub const WEBHOOK_EGRESS: &str = "WebhookEgress";

/// One request as metered.
#[derive(Clone, Debug)]
pub struct LedgerEntry {
    pub connection_id: Option<Uuid>,
    pub status_code: Option<i32>,
    /// `succeeded`, `failed`, `timeout` or `network_error`.
    pub outcome: String,
    pub bytes_out: i64,
    pub bytes_in: i64,
    pub duration_ms: i32,
}

/// A stored ledger row.
#[derive(Clone, Debug, Serialize)]
pub struct LedgerRow {
    pub id: i64,
    pub kind: String,
    pub source_id: Uuid,
    pub attempt: i32,
    pub connection_id: Option<Uuid>,
    pub job_id: Option<Uuid>,
    pub status_code: Option<i32>,
    pub outcome: String,
    pub bytes_out: i64,
    pub bytes_in: i64,
    pub duration_ms: i32,
    pub recorded_at: DateTime<Utc>,
}

/// Totals of one kind on one day.
#[derive(Clone, Debug, Serialize)]
pub struct UsageDay {
    pub day: NaiveDate,
    pub kind: String,
    pub requests: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub bytes_out: i64,
    pub bytes_in: i64,
}

/// Records a sent request. A second record of the same attempt is ignored, so a retried
/// recording cannot meter one request twice.
pub async fn insert(
    tx: &deadpool_postgres::Transaction<'_>,
    tenant_id: TenantId,
    source_id: Uuid,
    attempt: i32,
    job_id: Option<JobId>,
    entry: &LedgerEntry,
) -> Result<(), StoreError> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO utility_ledger (tenant_id, kind, source_id, attempt, connection_id, job_id, \
             status_code, outcome, bytes_out, bytes_in, duration_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (source_id, attempt) DO NOTHING",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &tenant_id.0,
            &WEBHOOK_EGRESS,
            &source_id,
            &attempt,
            &entry.connection_id,
            &job_id.map(|j| j.0),
            &entry.status_code,
            &entry.outcome,
            &entry.bytes_out,
            &entry.bytes_in,
            &entry.duration_ms,
        ],
    )
    .await?;
    Ok(())
}

/// The tenant's ledger rows, oldest first, after row `after`.
pub async fn list(
    pool: &Pool,
    tenant_id: TenantId,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<LedgerRow>, StoreError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            "SELECT id, kind, source_id, attempt, connection_id, job_id, status_code, outcome, \
             bytes_out, bytes_in, duration_ms, recorded_at FROM utility_ledger \
             WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3",
            &[&tenant_id.0, &after.unwrap_or(0), &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| LedgerRow {
            id: r.get(0),
            kind: r.get(1),
            source_id: r.get(2),
            attempt: r.get(3),
            connection_id: r.get(4),
            job_id: r.get(5),
            status_code: r.get(6),
            outcome: r.get(7),
            bytes_out: r.get(8),
            bytes_in: r.get(9),
            duration_ms: r.get(10),
            recorded_at: r.get(11),
        })
        .collect())
}

/// Totals by kind and UTC day, for days in `[from, to]` (either may be open).
pub async fn usage(
    pool: &Pool,
    tenant_id: TenantId,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<UsageDay>, StoreError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            "SELECT (recorded_at AT TIME ZONE 'UTC')::date AS day, kind, count(*), \
             count(*) FILTER (WHERE outcome = 'succeeded'), count(*) FILTER (WHERE outcome <> 'succeeded'), \
             coalesce(sum(bytes_out), 0)::bigint, coalesce(sum(bytes_in), 0)::bigint \
             FROM utility_ledger WHERE tenant_id = $1 \
             AND ($2::date IS NULL OR (recorded_at AT TIME ZONE 'UTC')::date >= $2) \
             AND ($3::date IS NULL OR (recorded_at AT TIME ZONE 'UTC')::date <= $3) \
             GROUP BY 1, 2 ORDER BY 1, 2",
            &[&tenant_id.0, &from, &to],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| UsageDay {
            day: r.get(0),
            kind: r.get(1),
            requests: r.get(2),
            succeeded: r.get(3),
            failed: r.get(4),
            bytes_out: r.get(5),
            bytes_in: r.get(6),
        })
        .collect())
}

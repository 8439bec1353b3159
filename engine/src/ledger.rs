//! The utility ledger: one append-only row per outbound request actually sent, for
//! metering (`WebhookEgress`).

use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::GenericClient;
use postgres_from_row::FromRow;
use serde::Serialize;
use uuid::Uuid;

use crate::outcome::Outcome;
use crate::{JobId, Pool, StoreError, TenantId};

/// The kind of metered request an action or delivery makes.
pub const WEBHOOK_EGRESS: &str = "WebhookEgress";

/// One request as metered.
#[derive(Clone, Debug)]
pub struct LedgerEntry {
    pub connection_id: Option<Uuid>,
    pub status_code: Option<i32>,
    pub outcome: Outcome,
    pub bytes_out: i64,
    pub bytes_in: i64,
    pub duration_ms: i32,
}

/// A stored ledger row.
#[derive(Clone, Debug, Serialize, FromRow)]
pub struct LedgerRow {
    pub id: i64,
    pub kind: String,
    pub source_id: Uuid,
    pub attempt: i32,
    pub connection_id: Option<Uuid>,
    pub job_id: Option<Uuid>,
    pub status_code: Option<i32>,
    pub outcome: Outcome,
    pub bytes_out: i64,
    pub bytes_in: i64,
    pub duration_ms: i32,
    pub recorded_at: DateTime<Utc>,
}

/// Totals of one kind on one day.
#[derive(Clone, Debug, Serialize, FromRow)]
pub struct UsageDay {
    pub day: NaiveDate,
    pub kind: String,
    pub requests: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub bytes_out: i64,
    pub bytes_in: i64,
}

/// One sent request to meter: whose, which attempt of what, and the entry.
#[derive(Clone, Copy, Debug)]
pub struct Metered<'a> {
    pub tenant_id: TenantId,
    pub source_id: Uuid,
    pub attempt: i32,
    pub job_id: Option<JobId>,
    pub entry: &'a LedgerEntry,
}

/// Records a sent request. A second record of the same attempt is ignored, so a retried
/// recording cannot meter one request twice.
pub async fn insert(
    client: &impl GenericClient,
    tenant_id: TenantId,
    source_id: Uuid,
    attempt: i32,
    job_id: Option<JobId>,
    entry: &LedgerEntry,
) -> Result<(), StoreError> {
    insert_all(
        client,
        &[Metered {
            tenant_id,
            source_id,
            attempt,
            job_id,
            entry,
        }],
    )
    .await
}

/// Records many sent requests in one statement, each as [`insert`] would.
pub async fn insert_all(
    client: &impl GenericClient,
    rows: &[Metered<'_>],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let stmt = client
        .prepare_cached(
            "INSERT INTO utility_ledger (tenant_id, kind, source_id, attempt, connection_id, job_id, \
             status_code, outcome, bytes_out, bytes_in, duration_ms) \
             SELECT u.tenant_id, $1, u.source_id, u.attempt, u.connection_id, u.job_id, u.status_code, \
                    u.outcome, u.bytes_out, u.bytes_in, u.duration_ms \
             FROM unnest($2::uuid[], $3::uuid[], $4::int4[], $5::uuid[], $6::uuid[], $7::int4[], \
                         $8::text[], $9::int8[], $10::int8[], $11::int4[]) \
                  AS u(tenant_id, source_id, attempt, connection_id, job_id, status_code, outcome, \
                       bytes_out, bytes_in, duration_ms) \
             ON CONFLICT (source_id, attempt) DO NOTHING",
        )
        .await?;
    let tenants: Vec<Uuid> = rows.iter().map(|r| r.tenant_id.0).collect();
    let sources: Vec<Uuid> = rows.iter().map(|r| r.source_id).collect();
    let attempts: Vec<i32> = rows.iter().map(|r| r.attempt).collect();
    let connections: Vec<Option<Uuid>> = rows.iter().map(|r| r.entry.connection_id).collect();
    let jobs: Vec<Option<Uuid>> = rows.iter().map(|r| r.job_id.map(|j| j.0)).collect();
    let codes: Vec<Option<i32>> = rows.iter().map(|r| r.entry.status_code).collect();
    let outcomes: Vec<&str> = rows.iter().map(|r| r.entry.outcome.as_str()).collect();
    let bytes_out: Vec<i64> = rows.iter().map(|r| r.entry.bytes_out).collect();
    let bytes_in: Vec<i64> = rows.iter().map(|r| r.entry.bytes_in).collect();
    let durations: Vec<i32> = rows.iter().map(|r| r.entry.duration_ms).collect();
    client
        .execute(
            &stmt,
            &[
                &WEBHOOK_EGRESS,
                &tenants,
                &sources,
                &attempts,
                &connections,
                &jobs,
                &codes,
                &outcomes,
                &bytes_out,
                &bytes_in,
                &durations,
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
            &[&tenant_id, &after.unwrap_or(0), &limit],
        )
        .await?;
    crate::store::read_rows(&rows)
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
            "SELECT (recorded_at AT TIME ZONE 'UTC')::date AS day, kind, count(*) AS requests, \
             count(*) FILTER (WHERE outcome = $4) AS succeeded, \
             count(*) FILTER (WHERE outcome <> $4) AS failed, \
             coalesce(sum(bytes_out), 0)::bigint AS bytes_out, \
             coalesce(sum(bytes_in), 0)::bigint AS bytes_in \
             FROM utility_ledger WHERE tenant_id = $1 \
             AND ($2::date IS NULL OR (recorded_at AT TIME ZONE 'UTC')::date >= $2) \
             AND ($3::date IS NULL OR (recorded_at AT TIME ZONE 'UTC')::date <= $3) \
             GROUP BY 1, 2 ORDER BY 1, 2",
            &[&tenant_id, &from, &to, &Outcome::Succeeded],
        )
        .await?;
    crate::store::read_rows(&rows)
}

//! Receipts: every verified request, and what it did. A repeat of a delivery (the same
//! delivery id at the same endpoint) finds the first receipt instead of making another.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::store::read_row;
use crate::{Pool, StoreError, TenantId};

/// The largest body a receipt keeps (the request limit is the same).
pub const MAX_BODY: usize = 256 * 1024;

/// What a verified request did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Received; its route has not finished yet.
    Pending,
    /// A job was moved.
    Applied,
    /// A job was created (and moved, when the route names a transition).
    Created,
    /// No route held, or no job was found.
    Unmatched,
    /// The route failed, or the transition was refused.
    Refused,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pending => "pending",
            Outcome::Applied => "applied",
            Outcome::Created => "created",
            Outcome::Unmatched => "unmatched",
            Outcome::Refused => "refused",
        }
    }

    fn parse(text: &str) -> Outcome {
        match text {
            "applied" => Outcome::Applied,
            "created" => Outcome::Created,
            "unmatched" => Outcome::Unmatched,
            "refused" => Outcome::Refused,
            _ => Outcome::Pending,
        }
    }

    /// Whether a replay may run it again: nothing was applied.
    pub fn replayable(self) -> bool {
        matches!(self, Outcome::Unmatched | Outcome::Refused)
    }
}

/// How long a receipt may stay `pending` before a replay may finish it: its route's task
/// ended with its process (a crash, a restart) before writing the outcome.
pub const STUCK_AFTER: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

impl Receipt {
    /// Whether a replay may run it: nothing applied, or pending longer than any route
    /// runs. Running one again is safe: its writes carry the receipt's idempotency keys.
    pub fn replayable(&self, now: DateTime<Utc>) -> bool {
        self.outcome.replayable()
            || (self.outcome == Outcome::Pending && now - self.updated_at > STUCK_AFTER)
    }
}

/// A receipt as stored; the body is kept as bytes and shown as text when it is UTF-8.
#[derive(Clone, Debug, Serialize)]
pub struct Receipt {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub endpoint_id: Uuid,
    pub delivery_id: String,
    pub received_at: DateTime<Utc>,
    pub content_type: Option<String>,
    pub headers: Value,
    pub query: String,
    #[serde(skip)]
    pub body: Vec<u8>,
    pub outcome: Outcome,
    pub route: Option<i32>,
    pub job_id: Option<Uuid>,
    pub event_id: Option<Uuid>,
    pub detail: Option<Value>,
    pub replays: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(postgres_from_row::FromRow)]
struct Row {
    id: Uuid,
    tenant_id: TenantId,
    endpoint_id: Uuid,
    delivery_id: String,
    received_at: DateTime<Utc>,
    content_type: Option<String>,
    headers: Value,
    query: String,
    body: Vec<u8>,
    outcome: String,
    route: Option<i32>,
    job_id: Option<Uuid>,
    event_id: Option<Uuid>,
    detail: Option<Value>,
    replays: i32,
    updated_at: DateTime<Utc>,
}

impl From<Row> for Receipt {
    fn from(r: Row) -> Receipt {
        Receipt {
            id: r.id,
            tenant_id: r.tenant_id,
            endpoint_id: r.endpoint_id,
            delivery_id: r.delivery_id,
            received_at: r.received_at,
            content_type: r.content_type,
            headers: r.headers,
            query: r.query,
            body: r.body,
            outcome: Outcome::parse(&r.outcome),
            route: r.route,
            job_id: r.job_id,
            event_id: r.event_id,
            detail: r.detail,
            replays: r.replays,
            updated_at: r.updated_at,
        }
    }
}

const COLUMNS: &str = "id, tenant_id, endpoint_id, delivery_id, received_at, content_type, \
                       headers, query, body, outcome, route, job_id, event_id, detail, replays, \
                       updated_at";

fn receipt(row: &tokio_postgres::Row) -> Result<Receipt, StoreError> {
    Ok(read_row::<Row>(row)?.into())
}

/// A verified request to record.
pub struct NewReceipt<'a> {
    pub tenant_id: TenantId,
    pub endpoint_id: Uuid,
    pub delivery_id: &'a str,
    pub content_type: Option<&'a str>,
    pub headers: &'a Value,
    pub query: &'a str,
    pub body: &'a [u8],
}

/// Records a new receipt, `pending`; `(receipt, true)` when this delivery had one already;
/// `None` when the endpoint is gone (deleted by another process since it was read).
pub async fn record(
    pool: &Pool,
    new: NewReceipt<'_>,
) -> Result<Option<(Receipt, bool)>, StoreError> {
    let client = pool.get().await?;
    let insert = client
        .prepare_cached(&format!(
            "INSERT INTO intake_receipts (id, tenant_id, endpoint_id, delivery_id, content_type, \
             headers, query, body, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (endpoint_id, delivery_id) DO NOTHING RETURNING {COLUMNS}"
        ))
        .await?;
    let inserted = client
        .query_opt(
            &insert,
            &[
                &Uuid::now_v7(),
                &new.tenant_id.0,
                &new.endpoint_id,
                &new.delivery_id,
                &new.content_type,
                new.headers,
                &new.query,
                &new.body,
                &Outcome::Pending.as_str(),
            ],
        )
        .await
        .map_err(StoreError::from);
    let row = match inserted {
        Err(err) if err.constraint() == Some("intake_receipts_endpoint_id_fkey") => {
            return Ok(None)
        }
        other => other?,
    };
    if let Some(row) = row {
        return Ok(Some((receipt(&row)?, false)));
    }
    let first = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM intake_receipts WHERE endpoint_id = $1 AND delivery_id = $2"
        ))
        .await?;
    let row = client
        .query_one(&first, &[&new.endpoint_id, &new.delivery_id])
        .await?;
    Ok(Some((receipt(&row)?, true)))
}

/// What applying a receipt's route came to.
#[derive(Clone, Debug, PartialEq)]
pub struct Settled {
    pub outcome: Outcome,
    pub route: Option<i32>,
    pub job_id: Option<Uuid>,
    pub event_id: Option<Uuid>,
    pub detail: Option<Value>,
}

/// Writes what the receipt's route did; `replay` counts a replay.
pub async fn settle(
    pool: &Pool,
    id: Uuid,
    settled: &Settled,
    replay: bool,
) -> Result<Receipt, StoreError> {
    let client = pool.get().await?;
    let stmt = client
        .prepare_cached(&format!(
            "UPDATE intake_receipts SET outcome = $2, route = $3, job_id = $4, event_id = $5, \
             detail = $6, replays = replays + $7::int4, updated_at = now() WHERE id = $1 \
             RETURNING {COLUMNS}"
        ))
        .await?;
    let row = client
        .query_one(
            &stmt,
            &[
                &id,
                &settled.outcome.as_str(),
                &settled.route,
                &settled.job_id,
                &settled.event_id,
                &settled.detail,
                &i32::from(replay),
            ],
        )
        .await?;
    receipt(&row)
}

/// The tenant's receipt `id` of endpoint `endpoint_id`.
pub async fn get(
    pool: &Pool,
    tenant_id: TenantId,
    endpoint_id: Uuid,
    id: Uuid,
) -> Result<Option<Receipt>, StoreError> {
    let client = pool.get().await?;
    let row = client
        .query_opt(
            &format!(
                "SELECT {COLUMNS} FROM intake_receipts \
                 WHERE id = $1 AND endpoint_id = $2 AND tenant_id = $3"
            ),
            &[&id, &endpoint_id, &tenant_id.0],
        )
        .await?;
    row.as_ref().map(receipt).transpose()
}

/// A page of the endpoint's receipts, newest first, before `before`; only those of
/// `job_id` when given.
pub async fn list(
    pool: &Pool,
    tenant_id: TenantId,
    endpoint_id: Uuid,
    job_id: Option<Uuid>,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Receipt>, StoreError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM intake_receipts WHERE endpoint_id = $1 AND tenant_id = $2 \
                 AND ($3::uuid IS NULL OR job_id = $3) AND ($4::uuid IS NULL OR id < $4) \
                 ORDER BY id DESC LIMIT $5"
            ),
            &[&endpoint_id, &tenant_id.0, &job_id, &before, &limit],
        )
        .await?;
    rows.iter().map(receipt).collect()
}

/// The tenant's receipts that moved or named job `job_id`, newest first, with their
/// endpoint's name.
pub async fn for_job(
    pool: &Pool,
    tenant_id: TenantId,
    job_id: Uuid,
    limit: i64,
) -> Result<Vec<(Receipt, String)>, StoreError> {
    let client = pool.get().await?;
    let columns: String = COLUMNS
        .split(',')
        .map(|c| format!("r.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = client
        .query(
            &format!(
                "SELECT {columns}, e.name AS endpoint_name FROM intake_receipts r \
                 JOIN intake_endpoints e ON e.id = r.endpoint_id \
                 WHERE r.tenant_id = $1 AND r.job_id = $2 ORDER BY r.id DESC LIMIT $3"
            ),
            &[&tenant_id.0, &job_id, &limit],
        )
        .await?;
    rows.iter()
        .map(|row| Ok((receipt(row)?, row.try_get("endpoint_name")?)))
        .collect()
}

//! A job's lane of actions, as the worker moves it through the one work queue
//! ([`crate::queue`]): claiming due runs under a lease, recovering runs whose worker died,
//! and recording each attempt's outcome.
//!
//! Recording ([`record`]) writes many outcomes in one transaction.

mod record;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::definition::ActionSpec;
use crate::flow::Limits;
use crate::ledger::LedgerEntry;
use crate::queue::{Attempt, Queue};
use crate::{stored_json, JobId, Pool, StoreError, TenantId};

pub use record::{record, record_all};

/// A run the worker now holds a lease on.
#[derive(Clone, Debug)]
pub struct ClaimedRun {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub job_id: JobId,
    pub event_id: Uuid,
    pub transition: String,
    pub ordinal: i32,
    pub name: String,
    pub spec: ActionSpec,
    /// The template context snapshotted when the transition committed.
    pub context: Value,
    /// This attempt's number, from 1.
    pub attempt: i32,
    /// The connection it calls, with its limits and consecutive failures as claimed:
    /// the worker asks the flow gate first when either says so.
    pub connection_id: Option<Uuid>,
    pub limits: Limits,
    pub failures: i32,
    /// Why the stored run cannot be attempted (its spec or context does not decode); the
    /// worker fails it with this reason instead of trying.
    pub poison: Option<String>,
}

/// How an attempt ended, as far as the lane is concerned.
#[derive(Clone, Debug, PartialEq)]
pub enum Finish {
    Succeeded,
    /// Try again at this time.
    Retry(DateTime<Utc>),
    Failed,
}

/// Everything recorded about one attempt.
#[derive(Clone, Debug)]
pub struct Recording {
    pub finish: Finish,
    /// The event's data: status, duration, request digest, response excerpt, error.
    pub details: Value,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    /// Present when a request was actually sent.
    pub ledger: Option<LedgerEntry>,
}

/// Whether the recording took effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    Done,
    /// The lease had expired and the run moved on without us; nothing was written.
    Stale,
}

/// Action runs in the work queue. The lease lasts the action's timeout plus a margin.
/// A run whose connection is paused or held (see [`crate::flow`]) is not due.
pub static ACTIONS: Queue = Queue::new(
    "action_runs",
    "LEFT JOIN connections k ON k.id = q.connection_id",
    "AND (k.id IS NULL OR (k.paused_at IS NULL AND (k.held_until IS NULL OR k.held_until <= now())))",
    "coalesce((q.spec->>'timeout_ms')::float8, 10000) / 1000 + 30",
    "c.id, c.tenant_id, c.job_id, c.event_id, c.transition, c.ordinal, c.name, c.spec, c.context, c.attempts, \
     c.connection_id, k.limits, coalesce(k.consecutive_failures, 0)",
    "LEFT JOIN connections k ON k.id = c.connection_id",
);

impl ClaimedRun {
    /// This attempt's fence in the queue.
    pub fn fence(&self) -> Attempt {
        Attempt {
            id: self.id,
            attempt: self.attempt,
        }
    }
}

/// Claims up to `limit` of `tenant`'s due runs, oldest due first, skipping runs other
/// workers hold.
pub async fn claim(
    pool: &Pool,
    tenant: TenantId,
    limit: i64,
) -> Result<Vec<ClaimedRun>, StoreError> {
    let rows = ACTIONS.claim(pool, tenant, limit).await?;
    rows.iter().map(claimed_run).collect()
}

/// A claimed row as a run. A spec or context that does not decode poisons only this run.
fn claimed_run(r: &tokio_postgres::Row) -> Result<ClaimedRun, StoreError> {
    let context = stored_json::read(r, 8);
    let mut poison = stored_json::undecodable(&context).map(str::to_string);
    let spec = stored_json::read(r, 7);
    let spec = match serde_json::from_value::<ActionSpec>(spec) {
        Ok(spec) => spec,
        Err(err) => {
            poison.get_or_insert(format!("the stored action cannot be read: {err}"));
            ActionSpec::default()
        }
    };
    Ok(ClaimedRun {
        id: r.try_get(0)?,
        tenant_id: TenantId(r.try_get(1)?),
        job_id: JobId(r.try_get(2)?),
        event_id: r.try_get(3)?,
        transition: r.try_get(4)?,
        ordinal: r.try_get(5)?,
        name: r.try_get(6)?,
        spec,
        context,
        attempt: r.try_get(9)?,
        connection_id: r.try_get(10)?,
        limits: Limits::from_stored(r.try_get(11)?),
        failures: r.try_get(12)?,
        poison,
    })
}

/// Returns runs whose lease expired (their worker died or hung) to `pending`. They will
/// be sent again with the same Idempotency-Key.
pub async fn recover_expired(pool: &Pool) -> Result<u64, StoreError> {
    ACTIONS.recover_expired(pool).await
}

/// Gives a claimed run back without an outcome (a worker shutting down mid-attempt, or
/// its connection held): due again at once, though a held connection's runs are not
/// claimed before the hold ends. The attempt does not count.
pub async fn release(pool: &Pool, run: &ClaimedRun) -> Result<(), StoreError> {
    ACTIONS.give_back(pool, run.fence(), None).await
}

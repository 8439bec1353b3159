//! A job's lane of actions, as the worker moves it through the one work queue
//! ([`crate::queue`]): claiming due runs under a lease, recovering runs whose worker died,
//! and recording each attempt's outcome.
//!
//! Recording is one transaction: the run's new status, an `action.*` event in the job's
//! stream, a ledger row for a request actually sent, the connection's health, and then
//! the lane moves on: the next waiting action is released, or, after a final failure
//! without `continue_on_failure`, the rest of that transition's actions are skipped.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::connection;
use crate::definition::ActionSpec;
use crate::ledger::{self, LedgerEntry};
use crate::log::{append, NewEvent, StreamLock};
use crate::queue::{Attempt, Queue, Settled, Status};
use crate::{stored_json, JobId, Pool, StoreError, TenantId};

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
#[derive(Debug, PartialEq, Eq)]
pub enum Recorded {
    Done,
    /// The lease had expired and the run moved on without us; nothing was written.
    Stale,
}

/// Action runs in the work queue. The lease lasts the action's timeout plus a margin.
pub static ACTIONS: Queue = Queue::new(
    "action_runs",
    "",
    "",
    "coalesce((q.spec->>'timeout_ms')::float8, 10000) / 1000 + 30",
    "c.id, c.tenant_id, c.job_id, c.event_id, c.transition, c.ordinal, c.name, c.spec, c.context, c.attempts",
    "",
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

/// Claims up to `limit` due runs, oldest due first, skipping runs other workers hold.
pub async fn claim(pool: &Pool, limit: i64) -> Result<Vec<ClaimedRun>, StoreError> {
    let rows = ACTIONS.claim(pool, limit).await?;
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
        poison,
    })
}

/// Returns runs whose lease expired (their worker died or hung) to `pending`. They will
/// be sent again with the same Idempotency-Key.
pub async fn recover_expired(pool: &Pool) -> Result<u64, StoreError> {
    ACTIONS.recover_expired(pool).await
}

/// Gives a claimed run back without an outcome (a worker shutting down mid-attempt).
pub async fn release(pool: &Pool, run: &ClaimedRun) -> Result<(), StoreError> {
    ACTIONS.give_back(pool, run.fence(), None).await
}

/// Records an attempt's outcome and moves the lane on, in one transaction.
pub async fn record(
    pool: &Pool,
    run: &ClaimedRun,
    rec: &Recording,
) -> Result<Recorded, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    // The job's row lock serialises its stream with transitions and other recordings.
    let lock = tx
        .prepare_cached("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE")
        .await?;
    tx.query_one(&lock, &[&run.job_id.0]).await?;

    let settled = match &rec.finish {
        Finish::Succeeded => (Status::Succeeded, None),
        Finish::Retry(at) => (Status::Pending, Some(*at)),
        Finish::Failed => (Status::Failed, None),
    };
    let settled = Settled {
        status: settled.0,
        retry_at: settled.1,
        status_code: rec.status_code,
        error: rec.error.clone(),
    };
    if !ACTIONS.settle(&tx, run.fence(), &settled).await? {
        return Ok(Recorded::Stale);
    }
    let event_type = match rec.finish {
        Finish::Succeeded => "action.succeeded",
        Finish::Retry(_) => "action.retry_scheduled",
        Finish::Failed => "action.failed",
    };
    append(
        &tx,
        NewEvent {
            tenant_id: run.tenant_id,
            stream_id: run.job_id.0,
            event_type,
            data: rec.details.clone(),
            metadata: json!({ "action_run_id": run.id, "attempt": run.attempt }),
        },
        StreamLock::HeldByCaller,
    )
    .await?;
    if let Some(entry) = &rec.ledger {
        ledger::insert(
            &tx,
            run.tenant_id,
            run.id,
            run.attempt,
            Some(run.job_id),
            entry,
        )
        .await?;
        if let Some(connection_id) = entry.connection_id {
            connection::mark_health(&tx, connection_id, rec.finish == Finish::Succeeded, true)
                .await?;
        }
    }
    if rec.finish == Finish::Failed && !run.spec.continue_on_failure {
        skip_rest_of_transition(&tx, run).await?;
    }
    if !matches!(rec.finish, Finish::Retry(_)) {
        release_next(&tx, run.job_id).await?;
    }
    tx.commit().await?;
    Ok(Recorded::Done)
}

/// After a final failure: the transition's later actions will not run.
async fn skip_rest_of_transition(
    tx: &deadpool_postgres::Transaction<'_>,
    run: &ClaimedRun,
) -> Result<(), StoreError> {
    let skipped = tx
        .query(
            "UPDATE action_runs SET status = 'skipped', updated_at = now() \
             WHERE event_id = $1 AND ordinal > $2 AND status = 'waiting' RETURNING id, name, ordinal",
            &[&run.event_id, &run.ordinal],
        )
        .await?;
    let mut skipped: Vec<(Uuid, String, i32)> = skipped
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    skipped.sort_by_key(|s| s.2);
    for (id, name, ordinal) in skipped {
        append(
            tx,
            NewEvent {
                tenant_id: run.tenant_id,
                stream_id: run.job_id.0,
                event_type: "action.skipped",
                data: json!({
                    "action_run_id": id, "name": name, "ordinal": ordinal, "transition": run.transition,
                    "reason": format!("action '{}' failed and does not continue on failure", run.name),
                }),
                metadata: json!({ "action_run_id": id }),
            },
            StreamLock::HeldByCaller,
        )
        .await?;
    }
    Ok(())
}

/// Makes the lane's next waiting action due, unless something is already due or running.
async fn release_next(
    tx: &deadpool_postgres::Transaction<'_>,
    job_id: JobId,
) -> Result<(), StoreError> {
    let stmt = tx
        .prepare_cached(
            "UPDATE action_runs SET status = 'pending', next_attempt_at = now(), updated_at = now() \
             WHERE id = (SELECT id FROM action_runs WHERE job_id = $1 AND status = 'waiting' \
                         ORDER BY event_position, ordinal LIMIT 1) \
             AND NOT EXISTS (SELECT 1 FROM action_runs WHERE job_id = $1 AND status IN ('pending', 'running'))",
        )
        .await?;
    tx.execute(&stmt, &[&job_id.0]).await?;
    Ok(())
}

//! Timers a service asks for: a transition scheduled at a time instead of applied now,
//! cancelled on request, and a job's open timers listed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;
use uuid::Uuid;

use crate::events::timer::{TimerCancelled, TimerKind, TimerScheduled};
use crate::idempotency::{self, IdempotencyError, IdempotencyKey};
use crate::job::stream::{JobStream, RowChange};
use crate::queue::Status;
use crate::{workflow, Actor, JobId, Pool, StoreError, TenantId};

/// The statuses of a timer that has not fired or been cancelled.
const OPEN: [Status; 2] = [Status::Pending, Status::Running];

/// A timer as the API shows it.
#[derive(Clone, Debug, Serialize, Deserialize, postgres_from_row::FromRow)]
pub struct TimerView {
    pub id: Uuid,
    pub job_id: JobId,
    /// `state_timeout` or `scheduled`.
    pub kind: String,
    /// The state the timeout belongs to, or the job's state when it was scheduled.
    pub state: String,
    pub transition: String,
    pub due_at: DateTime<Utc>,
    pub status: Status,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, job_id, kind, state, transition, due_at, status, created_at";

/// Why a transition could not be scheduled.
#[derive(Debug, Error)]
pub enum ScheduleError {
    #[error("job {0} not found")]
    JobNotFound(JobId),
    #[error("the workflow has no transition named '{0}'")]
    UnknownTransition(String),
    #[error("the job has {MAX_OPEN_PER_JOB} open timers already, the most a job may have; cancel one or let it fire")]
    TooManyTimers,
    #[error("the tenant has {MAX_OPEN_PER_TENANT} open timers already, the most a tenant may have; cancel some or let them fire")]
    TenantTimers,
    #[error(transparent)]
    Idempotency(#[from] IdempotencyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The most timers (scheduled transitions and the state's timeout) one job may have open:
/// a job's page and its timer list stay small, and one job cannot fill the queue.
pub const MAX_OPEN_PER_JOB: i64 = 100;

/// The most open timers a tenant may have across its jobs: one tenant cannot fill the
/// timer queue for everyone. Counted as each is scheduled (requests racing on different
/// jobs may pass it by a few).
pub const MAX_OPEN_PER_TENANT: i64 = 100_000;

/// A transition to take later.
#[derive(Clone, Debug)]
pub struct Scheduled {
    pub job_id: JobId,
    pub transition: String,
    pub data: Value,
    /// Firing refuses (and records the timer cancelled) unless the job is at this version.
    pub expected_version: Option<i64>,
    pub due_at: DateTime<Utc>,
}

/// Schedules a transition; appends `timer.scheduled` to the job's stream. Returns
/// `(timer, replayed)`: with an idempotency key seen before, the timer it made.
pub async fn schedule_transition(
    pool: &Pool,
    actor: &Actor,
    scheduled: &Scheduled,
    key: Option<&IdempotencyKey>,
) -> Result<(TimerView, bool), ScheduleError> {
    let Scheduled {
        job_id,
        transition,
        data,
        expected_version,
        due_at,
    } = scheduled;
    let job_id = *job_id;
    let mut client = pool.get().await.map_err(StoreError::from)?;
    let tx = client.transaction().await.map_err(StoreError::from)?;
    let mut stream = JobStream::lock(&tx, actor.tenant_id, job_id)
        .await?
        .ok_or(ScheduleError::JobNotFound(job_id))?;
    if let Some(key) = key {
        if let Some(stored) = idempotency::lookup(&tx, actor.tenant_id, key).await? {
            return Ok((stored, true));
        }
    }
    // Counted under the job's row lock: concurrent requests cannot both take the last one.
    let open: i64 = tx
        .query_one(
            "SELECT count(*) FROM timers WHERE job_id = $1 AND status = ANY($2)",
            &[&job_id, &&OPEN[..]],
        )
        .await
        .map_err(StoreError::from)?
        .try_get("count")
        .map_err(StoreError::from)?;
    if open >= MAX_OPEN_PER_JOB {
        return Err(ScheduleError::TooManyTimers);
    }
    // Reads at most the quota's worth of the tenant's pending index.
    let tenant_open: i64 = tx
        .query_one(
            "SELECT count(*) FROM (SELECT 1 FROM timers WHERE tenant_id = $1 \
             AND status = ANY($3) LIMIT $2) open",
            &[&actor.tenant_id, &MAX_OPEN_PER_TENANT, &&OPEN[..]],
        )
        .await
        .map_err(StoreError::from)?
        .try_get("count")
        .map_err(StoreError::from)?;
    if tenant_open >= MAX_OPEN_PER_TENANT {
        return Err(ScheduleError::TenantTimers);
    }
    // Whether it is allowed is decided when it fires, from the state the job is in then.
    let definition = workflow::definition(&tx, stream.job.workflow_id).await?;
    if !definition.transitions.iter().any(|t| &t.name == transition) {
        return Err(ScheduleError::UnknownTransition(transition.clone()));
    }
    let id = Uuid::now_v7();
    let row = tx
        .query_one(
            &format!(
                "INSERT INTO timers (id, tenant_id, job_id, kind, state, transition, data, job_version, \
                 due_at, status, next_attempt_at) \
                 VALUES ($1, $2, $3, $9, $4, $5, $6, $7, $8, $10, $8) RETURNING {COLUMNS}"
            ),
            &[
                &id,
                &actor.tenant_id.0,
                &job_id.0,
                &stream.job.state,
                transition,
                data,
                expected_version,
                due_at,
                &TimerKind::Scheduled.as_str(),
                &Status::Pending.as_str(),
            ],
        )
        .await
        .map_err(StoreError::from)?;
    let view = crate::store::read_row::<TimerView>(&row)?;
    let scheduled = TimerScheduled {
        timer_id: id,
        kind: TimerKind::Scheduled,
        state: stream.job.state.clone(),
        transition: transition.clone(),
        due_at: *due_at,
        job_version: *expected_version,
    };
    stream.push(&scheduled, &actor.metadata())?;
    stream.flush(&tx, RowChange::HeadOnly).await?;
    if let Some(key) = key {
        idempotency::remember(&tx, actor.tenant_id, key, &view).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok((view, false))
}

/// Cancels a timer of the job that has not started firing; `false` when there is no such
/// pending timer (unknown, another tenant's, fired or cancelled already).
pub async fn cancel(
    pool: &Pool,
    actor: &Actor,
    job_id: JobId,
    timer_id: Uuid,
) -> Result<bool, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let Some(mut stream) = JobStream::lock(&tx, actor.tenant_id, job_id).await? else {
        return Ok(false);
    };
    let Some(row) = tx
        .query_opt(
            "UPDATE timers SET status = $3, next_attempt_at = NULL, updated_at = now() \
             WHERE id = $1 AND job_id = $2 AND status = $4 RETURNING state, transition",
            &[
                &timer_id,
                &job_id.0,
                &Status::Cancelled.as_str(),
                &Status::Pending.as_str(),
            ],
        )
        .await?
    else {
        return Ok(false);
    };
    let cancelled = TimerCancelled {
        timer_id,
        state: row.try_get("state")?,
        transition: row.try_get("transition")?,
        due_at: None,
        reason: "cancelled over the API".into(),
    };
    stream.push(&cancelled, &actor.metadata())?;
    stream.flush(&tx, RowChange::HeadOnly).await?;
    tx.commit().await?;
    Ok(true)
}

/// The job's timers that have not fired or been cancelled, soonest first.
pub async fn list_open(
    pool: &Pool,
    tenant_id: TenantId,
    job_id: JobId,
    limit: i64,
) -> Result<Vec<TimerView>, StoreError> {
    let client = pool.get().await?;
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM timers WHERE job_id = $1 AND tenant_id = $2 \
             AND status = ANY($4) ORDER BY due_at, id LIMIT $3"
        ))
        .await?;
    client
        .query(&stmt, &[&job_id.0, &tenant_id.0, &limit, &&OPEN[..]])
        .await?
        .iter()
        .map(crate::store::read_row::<TimerView>)
        .collect()
}

//! Timers: a transition a job takes at a time, as a kind of the one work queue
//! ([`crate::queue`]), so they inherit its leases, batching and crash safety.
//!
//! A state's `timeout` is scheduled in the transaction that moves the job into the state
//! (`timer.scheduled`) and cancelled in the one that moves it out (`timer.cancelled`).
//! When due, the worker fires it ([`fire`]): the transition is applied by the actor
//! `timer` through the same planning, guards and expected-version check as any other,
//! with the timer's id as its idempotency key, so a firing repeated after a crash
//! finds its first result. If the job has moved on, the firing is recorded as cancelled.

mod api;
mod schedule;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::idempotency::IdempotencyKey;
use crate::job::transition::{self, TransitionError, TransitionRequest};
use crate::log::{self, EventType, NewEvent, StreamHead};
use crate::queue::{Attempt, Queue, Settled, Status};
use crate::{stored_json, Actor, JobId, Pool, StoreError, TenantId};

pub use api::{
    cancel, list_open, schedule_transition, ScheduleError, Scheduled, TimerView, MAX_OPEN_PER_JOB,
};
pub use schedule::on_move;

/// Timers in the work queue. Firing is one short transaction; the lease covers it.
pub static TIMERS: Queue = Queue::new(
    "timers",
    "",
    "",
    "30",
    "c.id, c.tenant_id, c.job_id, c.state, c.transition, c.data, c.job_version, c.due_at, c.attempts",
    "",
);

/// A due timer the worker now holds a lease on.
#[derive(Clone, Debug)]
pub struct ClaimedTimer {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub job_id: JobId,
    /// The state whose timeout this is.
    pub state: String,
    pub transition: String,
    pub data: Value,
    /// The version firing expects the job at, if any.
    pub job_version: Option<i64>,
    pub due_at: DateTime<Utc>,
    pub attempt: i32,
}

impl ClaimedTimer {
    fn fence(&self) -> Attempt {
        Attempt {
            id: self.id,
            attempt: self.attempt,
        }
    }
}

/// How a firing ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fired {
    /// The transition was applied (now or by an earlier attempt of this firing).
    Applied,
    /// The job had moved on (or the transition is no longer allowed): nothing applied.
    Cancelled(String),
    /// The lease expired and another attempt owns the timer; nothing was written.
    Stale,
}

/// Claims up to `limit` of `tenant`'s due timers, oldest due first.
pub async fn claim(
    pool: &Pool,
    tenant: TenantId,
    limit: i64,
) -> Result<Vec<ClaimedTimer>, StoreError> {
    TIMERS
        .claim(pool, tenant, limit)
        .await?
        .iter()
        .map(|r| {
            Ok(ClaimedTimer {
                id: r.try_get(0)?,
                tenant_id: TenantId(r.try_get(1)?),
                job_id: JobId(r.try_get(2)?),
                state: r.try_get(3)?,
                transition: r.try_get(4)?,
                data: stored_json::read(r, 5),
                job_version: r.try_get(6)?,
                due_at: r.try_get(7)?,
                attempt: r.try_get(8)?,
            })
        })
        .collect()
}

/// When the next pending timer is due, so a worker can wake for it rather than poll.
pub async fn next_due(pool: &Pool) -> Result<Option<DateTime<Utc>>, StoreError> {
    TIMERS.next_due(pool).await
}

/// Returns timers whose worker died mid-firing to the queue.
pub async fn recover_expired(pool: &Pool) -> Result<u64, StoreError> {
    TIMERS.recover_expired(pool).await
}

/// Gives a claimed timer back to fire later (the database was unavailable).
pub async fn release(pool: &Pool, timer: &ClaimedTimer) -> Result<(), StoreError> {
    TIMERS.give_back(pool, timer.fence(), None).await
}

/// Fires a claimed timer: applies its transition as the actor `timer`, then records
/// `timer.fired` (with how late it was) or `timer.cancelled`.
#[tracing::instrument(name = "fire_timer", skip_all, fields(timer.id = %timer.id, job.id = %timer.job_id))]
pub async fn fire(pool: &Pool, timer: &ClaimedTimer) -> Result<Fired, StoreError> {
    let actor = Actor::timer(timer.tenant_id, timer.id);
    let request = TransitionRequest {
        job_id: timer.job_id,
        transition: Some(timer.transition.clone()),
        to: None,
        data: timer.data.clone(),
        expected_version: timer.job_version,
    };
    // A key no client can send (a header value cannot hold a line break), so a client's
    // Idempotency-Key never collides with a timer's.
    let key = IdempotencyKey::new(format!("timer\n{}", timer.id), &[timer.id.as_bytes()]);
    let outcome = match transition::apply(pool, &actor, &request, Some(&key)).await {
        Ok((result, _)) => Ok(result.event.id.0),
        Err(TransitionError::Store(err)) => return Err(err),
        Err(TransitionError::VersionConflict { actual, expected }) => Err(format!(
            "the job moved on (it is at version {actual}, the timer was for {expected})"
        )),
        Err(other) => Err(other.to_string()),
    };
    record(pool, timer, outcome).await
}

/// Settles the timer and appends its event, in one transaction under the job's lock.
async fn record(
    pool: &Pool,
    timer: &ClaimedTimer,
    outcome: Result<Uuid, String>,
) -> Result<Fired, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let stmt = tx
        .prepare_cached("SELECT stream_version, stream_hash FROM jobs WHERE id = $1 FOR UPDATE")
        .await?;
    let row = tx.query_one(&stmt, &[&timer.job_id.0]).await?;
    let mut head = StreamHead::stored(row.try_get(0)?, row.try_get(1)?);
    let (status, error) = match &outcome {
        Ok(_) => (Status::Succeeded, None),
        Err(reason) => (Status::Cancelled, Some(reason.clone())),
    };
    let settled = Settled {
        status,
        retry_at: None,
        status_code: None,
        error,
    };
    if !TIMERS.settle(&tx, timer.fence(), &settled).await? {
        return Ok(Fired::Stale);
    }
    let base = json!({
        "timer_id": timer.id, "state": timer.state, "transition": timer.transition,
        "due_at": timer.due_at,
    });
    let (event_type, data, fired) = match outcome {
        Ok(event_id) => {
            let late_ms = (Utc::now() - timer.due_at).num_milliseconds().max(0);
            let data = merged(
                base,
                json!({ "transition_event_id": event_id, "late_ms": late_ms }),
            );
            (EventType::TimerFired, data, Fired::Applied)
        }
        Err(reason) => {
            let data = merged(base, json!({ "reason": reason }));
            (EventType::TimerCancelled, data, Fired::Cancelled(reason))
        }
    };
    let sealed = head.seal(NewEvent {
        tenant_id: timer.tenant_id,
        stream_id: timer.job_id.0,
        event_type,
        data,
        metadata: Actor::timer(timer.tenant_id, timer.id).metadata(),
    });
    log::insert(&tx, vec![sealed]).await?;
    schedule::move_head(&tx, timer.job_id, &head).await?;
    tx.commit().await?;
    Ok(fired)
}

fn merged(mut base: Value, extra: Value) -> Value {
    if let (Some(base), Value::Object(extra)) = (base.as_object_mut(), extra) {
        base.extend(extra);
    }
    base
}

//! Timers: a transition a job takes at a time, as a kind of the one work queue
//! ([`crate::queue`]), so they inherit its leases, batching and crash safety.
//!
//! A state's `timeout` is decided with the transition that moves the job into the state
//! (`timer.scheduled`) and cancelled by the one that moves it out (`timer.cancelled`); see
//! [`crate::job::decide`]. When due, the worker fires it ([`fire`]): claim, decide and
//! apply, settle, in one transaction.

mod api;
mod fire;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::queue::{Attempt, Queue};
use crate::{stored_json, JobId, Pool, StoreError, TenantId};

pub use api::{
    cancel, list_open, schedule_transition, ScheduleError, Scheduled, TimerView, MAX_OPEN_PER_JOB,
};
pub use fire::{fire, Fired};

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

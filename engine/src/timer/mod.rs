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

use crate::queue::Queue;
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
    "c.id, c.tenant_id, c.job_id, c.state, c.transition, c.data, c.job_version, c.due_at, \
     c.attempts AS attempt",
    "",
);

/// A due timer the worker now holds a lease on.
#[derive(Clone, Debug, postgres_from_row::FromRow)]
pub struct ClaimedTimer {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub job_id: JobId,
    /// The state whose timeout this is.
    pub state: String,
    pub transition: String,
    #[from_row(from = "stored_json::Stored")]
    pub data: Value,
    /// The version firing expects the job at, if any.
    pub job_version: Option<i64>,
    pub due_at: DateTime<Utc>,
    pub attempt: i32,
}

crate::queue::claimed_item!(ClaimedTimer, TIMERS);

/// When the next pending timer is due, so a worker can wake for it rather than poll.
pub async fn next_due(pool: &Pool) -> Result<Option<DateTime<Utc>>, StoreError> {
    TIMERS.next_due(pool).await
}

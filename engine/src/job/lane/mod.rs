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
use crate::events::action::ActionAttempted;
use crate::flow::Limits;
use crate::ledger::LedgerEntry;
use crate::queue::Queue;
use crate::{stored_json, JobId, TenantId};
use tokio_postgres::Row;

pub(crate) use record::release_next;
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
    /// The `action.*` event's data: whether a request left, its digest, the answer's
    /// status and excerpt, the error.
    pub details: ActionAttempted,
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
    "c.id, c.tenant_id, c.job_id, c.event_id, c.transition, c.ordinal, c.name, c.spec, c.context, \
     c.attempts AS attempt, c.connection_id, k.limits, coalesce(k.consecutive_failures, 0) AS failures",
    "LEFT JOIN connections k ON k.id = c.connection_id",
);

crate::queue::claimed_item!(ClaimedRun, ACTIONS);

/// Read by column name like every claimed item, by hand for one rule: a spec or context
/// that does not decode poisons only this run (the worker fails it with the reason).
impl postgres_from_row::FromRow for ClaimedRun {
    fn from_row(row: &Row) -> Self {
        Self::try_from_row(row).expect("a claimed action run reads by column name")
    }

    fn try_from_row(r: &Row) -> Result<Self, tokio_postgres::Error> {
        let context = stored_json::read(r, "context");
        let mut poison = stored_json::undecodable(&context).map(str::to_string);
        let spec = match serde_json::from_value::<ActionSpec>(stored_json::read(r, "spec")) {
            Ok(spec) => spec,
            Err(err) => {
                poison.get_or_insert(format!("the stored action cannot be read: {err}"));
                ActionSpec::default()
            }
        };
        Ok(ClaimedRun {
            id: r.try_get("id")?,
            tenant_id: r.try_get("tenant_id")?,
            job_id: r.try_get("job_id")?,
            event_id: r.try_get("event_id")?,
            transition: r.try_get("transition")?,
            ordinal: r.try_get("ordinal")?,
            name: r.try_get("name")?,
            spec,
            context,
            attempt: r.try_get("attempt")?,
            connection_id: r.try_get("connection_id")?,
            limits: r.try_get("limits")?,
            failures: r.try_get("failures")?,
            poison,
        })
    }
}

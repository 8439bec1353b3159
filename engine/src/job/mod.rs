//! Jobs: running instances of a pinned workflow version, projected from their event stream.
//!
//! - [`decide`]: the state machine without I/O: a request and a job in, a decision or a
//!   refusal out.
//! - [`stream`]: the one owner of a job's event stream inside a transaction.
//! - [`create`]: a new job in its workflow's initial state (`job.created`).
//! - [`transition`]: one transition, decided then written through the stream.
//! - [`dry_run`]: the same decision, written nowhere, with the actions' payloads rendered.
//! - [`timeouts`]: the timer rows a state's timeout writes.
//! - [`outbox`]: the `action_runs` rows a transition writes for the worker.
//! - [`lane`]: the worker's side of those rows: claiming and recording outcomes.
//! - [`read`]: one job, a filtered list.
//! - [`retry`]: a failed action retried by hand.

pub mod create;
pub mod decide;
pub mod dry_run;
pub mod lane;
pub mod outbox;
pub mod read;
mod refusal;
pub mod retry;
pub mod stream;
mod timeouts;
pub mod transition;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::{JobId, TenantId};

/// A job as the API shows it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, postgres_from_row::FromRow)]
pub struct Job {
    pub id: JobId,
    pub tenant_id: TenantId,
    pub workflow_id: Uuid,
    #[from_row(rename = "workflow_name")]
    pub workflow: String,
    pub workflow_version: i32,
    pub state: String,
    pub previous_state: Option<String>,
    /// Number of applied transitions; what services pass as `expected_version`.
    pub version: i64,
    pub context: Value,
    pub external_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) const JOB_COLUMNS: &str =
    "id, tenant_id, workflow_id, workflow_name, workflow_version, \
     state, previous_state, version, context, external_id, created_at, updated_at";

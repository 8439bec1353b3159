//! Applying a transition, in one database transaction:
//!
//! 1. load the job `FOR UPDATE` (with its stream's head) and check `expected_version`;
//! 2. find the transition by name or by target state, allowed from the current state, and
//!    evaluate its guard against the template context;
//! 3. append `job.transitioned` to the job's stream (guard inputs and result included) and
//!    update the job row with its new state and stream head, the two statements sent
//!    together;
//! 4. write the `action_runs` rows, one statement for all actions;
//! 5. commit. The caller then wakes the worker; nothing is sent before commit.
//!
//! A dry run does steps 1-3 without writing and renders the action payloads.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;
use uuid::Uuid;

use super::outbox::{self, ActionRun};
use super::plan::{check_data, load, merge, plan, Loaded};
use super::{Job, JOB_COLUMNS};
use crate::idempotency::{self, IdempotencyError, IdempotencyKey};
use crate::log::{self, Event, EventType, NewEvent};
use crate::{timer, Actor, JobId, Pool, StoreError};

pub use super::dry_run::{dry_run, DryRun, RenderedAction};

/// What a service asks for: a transition by name, or the state to move to.
#[derive(Clone, Debug)]
pub struct TransitionRequest {
    pub job_id: JobId,
    pub transition: Option<String>,
    pub to: Option<String>,
    /// An object; its top-level keys are merged into the job's context.
    pub data: Value,
    pub expected_version: Option<i64>,
}

/// The committed transition: the job after it, its event and its action runs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TransitionResult {
    pub job: Job,
    pub event: Event,
    pub actions: Vec<ActionRun>,
}

/// A transition that may be taken from the current state.
#[derive(Clone, Debug, Serialize)]
pub struct Allowed {
    pub name: String,
    pub to: String,
}

/// Why a transition was not applied.
#[derive(Debug, Error)]
pub enum TransitionError {
    #[error("job {0} not found")]
    JobNotFound(JobId),
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("the job is at version {actual}, not {expected}")]
    VersionConflict { expected: i64, actual: i64 },
    #[error("the workflow has no transition named '{name}'")]
    UnknownTransition { name: String, known: Vec<String> },
    #[error("{requested} is not allowed from state '{current_state}'")]
    NotAllowed {
        requested: String,
        current_state: String,
        allowed: Vec<Allowed>,
    },
    #[error("more than one transition leads to '{to}' from here: {}", .candidates.join(", "))]
    Ambiguous { to: String, candidates: Vec<String> },
    #[error("the guard of transition '{transition}' is not satisfied")]
    GuardFailed {
        transition: String,
        guard: Value,
        inputs: Map<String, Value>,
    },
    #[error("the guard of transition '{transition}' could not be evaluated: {message}")]
    GuardError { transition: String, message: String },
    #[error(transparent)]
    Idempotency(#[from] IdempotencyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Applies the transition; returns `(result, replayed)`. Counted in
/// [`crate::metrics::TRANSITIONS`] under the job's workflow once it is known.
#[tracing::instrument(name = "transition", skip_all, fields(job.id = %req.job_id.0, tenant.id = %actor.tenant_id.0))]
pub async fn apply(
    pool: &Pool,
    actor: &Actor,
    req: &TransitionRequest,
    key: Option<&IdempotencyKey>,
) -> Result<(TransitionResult, bool), TransitionError> {
    let mut workflow = None;
    let applied = apply_counted(pool, actor, req, key, &mut workflow).await;
    let outcome = match &applied {
        Ok((_, false)) => "applied",
        Ok((_, true)) => "replayed",
        Err(err) => err.metric_label(),
    };
    crate::metrics::transition(
        actor.tenant_id,
        workflow.as_deref().unwrap_or("unknown"),
        outcome,
    );
    applied
}

impl TransitionError {
    /// Why a transition was refused, as a metric label.
    fn metric_label(&self) -> &'static str {
        match self {
            TransitionError::JobNotFound(_) => "not_found",
            TransitionError::Invalid { .. } => "invalid",
            TransitionError::VersionConflict { .. } => "conflict",
            TransitionError::UnknownTransition { .. }
            | TransitionError::NotAllowed { .. }
            | TransitionError::Ambiguous { .. } => "not_allowed",
            TransitionError::GuardFailed { .. } | TransitionError::GuardError { .. } => {
                "guard_failed"
            }
            TransitionError::Idempotency(_) => "idempotency_conflict",
            TransitionError::Store(_) => "error",
        }
    }
}

async fn apply_counted(
    pool: &Pool,
    actor: &Actor,
    req: &TransitionRequest,
    key: Option<&IdempotencyKey>,
    workflow: &mut Option<String>,
) -> Result<(TransitionResult, bool), TransitionError> {
    check_data(&req.data)?;
    let mut client = pool.get().await.map_err(StoreError::from)?;
    let tx = client.transaction().await.map_err(StoreError::from)?;
    let Loaded {
        job,
        tenant_name,
        mut head,
    } = load(&tx, actor.tenant_id, req.job_id, true).await?;
    *workflow = Some(job.workflow.clone());
    // After the job lock: a concurrent duplicate waits for the first request, then finds
    // its stored result instead of failing on the version it moved.
    if let Some(key) = key {
        if let Some(stored) = idempotency::lookup(&tx, actor.tenant_id, key).await? {
            return Ok((stored, true));
        }
    }
    let plan = plan(&tx, &job, &tenant_name, req).await?;
    let t = plan.transition();

    let run_ids: Vec<Uuid> = t.actions.iter().map(|_| Uuid::now_v7()).collect();
    let sealed = head.seal(NewEvent {
        tenant_id: actor.tenant_id,
        stream_id: job.id.0,
        event_type: EventType::JobTransitioned,
        data: plan.event_data(&job.state, req, job.version + 1, &run_ids),
        metadata: actor.metadata(),
    });
    let update = tx
        .prepare_cached(&format!(
            "UPDATE jobs SET state = $3, previous_state = $4, context = $5, version = version + 1, \
             stream_version = $6, stream_hash = $7, updated_at = now() \
             WHERE id = $1 AND tenant_id = $2 RETURNING {JOB_COLUMNS}"
        ))
        .await
        .map_err(StoreError::from)?;
    let context = merge(&job.context, &req.data);
    let update_params: [&(dyn tokio_postgres::types::ToSql + Sync); 7] = [
        &job.id.0,
        &actor.tenant_id.0,
        &t.to,
        &job.state,
        &context,
        &head.version,
        &head.hash,
    ];
    // Sent together: tokio-postgres pipelines the two on the one connection.
    let (mut events, row) = tokio::try_join!(log::insert(&tx, vec![sealed]), async {
        tx.query_one(&update, &update_params)
            .await
            .map_err(StoreError::from)
    })?;
    let event = events
        .pop()
        .ok_or_else(|| StoreError::Corrupt("the transition's event was not returned".into()))?;
    let after = Job::from_row(&row)?;

    let ctx = plan.context(&after, &job.state, req, Some(&event));
    let actions = outbox::insert(&tx, &after, &event, t, &run_ids, &ctx).await?;
    timer::on_move(
        &tx,
        actor,
        &after,
        Some(&job.state),
        &plan.definition,
        &ctx,
        &mut head,
    )
    .await?;
    let result = TransitionResult {
        job: after,
        event,
        actions,
    };
    if let Some(key) = key {
        idempotency::remember(&tx, actor.tenant_id, key, &result).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok((result, false))
}

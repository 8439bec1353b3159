//! Applying a transition, in one database transaction: decide, then write.
//!
//! 1. lock the job's stream ([`JobStream::lock`]: the row `FOR UPDATE`, with its head);
//! 2. [`decide`](super::decide::decide) from the job, its definition and the request:
//!    version check, choice of transition, guard, timers to cancel and schedule. Nothing
//!    is written for a refusal;
//! 3. [`write`] the decision: cancel the left state's open timeouts, seal
//!    `job.transitioned` and the timer events onto the head, then one event insert, one
//!    job update and the new timer's insert, sent together; then the `action_runs` rows,
//!    one statement for all actions;
//! 4. commit. The caller then wakes the worker; nothing is sent before commit.
//!
//! A dry run is step 2 without the writes ([`super::dry_run`]); a timer's firing is steps
//! 1-3 inside the transaction that settles the timer ([`crate::timer`]).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::decide::{self, Decision};
use super::outbox::{self, ActionRun};
use super::stream::{JobStream, RowChange};
use super::{timeouts, Job};
use crate::context::{self, TransitionContext};
use crate::definition::WorkflowDefinition;
use crate::events::timer::TimerCancelled;
use crate::idempotency::{self, IdempotencyKey};
use crate::log::Event;
use crate::{workflow, Actor, EventId, Pool, StoreError};

pub use super::refusal::{Allowed, TransitionError, TransitionRequest};

/// The committed transition: the job after it, its event and its action runs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TransitionResult {
    pub job: Job,
    pub event: Event,
    pub actions: Vec<ActionRun>,
    /// When the timer the transition scheduled is due, so the caller can wake the worker
    /// for a time already past instead of leaving it to the poll.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timer_due: Option<DateTime<Utc>>,
}

impl TransitionResult {
    /// Whether the transition queued work for the worker (actions or a timer).
    pub fn queued_work(&self) -> bool {
        !self.actions.is_empty() || self.timer_due.is_some()
    }
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

async fn apply_counted(
    pool: &Pool,
    actor: &Actor,
    req: &TransitionRequest,
    key: Option<&IdempotencyKey>,
    workflow: &mut Option<String>,
) -> Result<(TransitionResult, bool), TransitionError> {
    decide::check_data(&req.data)?;
    let mut client = pool.get().await.map_err(StoreError::from)?;
    let tx = client.transaction().await.map_err(StoreError::from)?;
    let stream = JobStream::lock(&tx, actor.tenant_id, req.job_id)
        .await?
        .ok_or(TransitionError::JobNotFound(req.job_id))?;
    *workflow = Some(stream.job.workflow.clone());
    // After the job lock: a concurrent duplicate waits for the first request, then finds
    // its stored result instead of failing on the version it moved.
    if let Some(key) = key {
        if let Some(stored) = idempotency::lookup(&tx, actor.tenant_id, key).await? {
            return Ok((stored, true));
        }
    }
    let (definition, decision) = decide_for(&tx, &stream, req).await?;
    let mut stream = stream;
    let staged = stage(
        &tx,
        &mut stream,
        &definition,
        &decision,
        req,
        &actor.metadata(),
    )
    .await?;
    let result = finish(&tx, stream, &definition, &decision, req, staged).await?;
    if let Some(key) = key {
        idempotency::remember(&tx, actor.tenant_id, key, &result).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok((result, false))
}

/// Reads what deciding needs beyond the job (its definition, and its actions' outcomes
/// when something can see them) and decides, off the async threads when a guard or a
/// time template runs.
pub(crate) async fn decide_for(
    client: &impl deadpool_postgres::GenericClient,
    stream: &JobStream,
    req: &TransitionRequest,
) -> Result<(Arc<WorkflowDefinition>, Decision), TransitionError> {
    let job = &stream.job;
    let definition = workflow::definition(client, job.workflow_id).await?;
    let last_actions = if decide::needs_last_actions(&definition, &job.state) {
        outbox::last_actions(client, job.id).await?
    } else {
        Value::Object(Default::default())
    };
    let decision = decide::decide_off_thread(
        job.clone(),
        stream.tenant_name.clone(),
        definition.clone(),
        req.clone(),
        last_actions,
    )
    .await?;
    Ok((definition, decision))
}

/// What [`stage`] sealed, for [`finish`] to write.
pub(crate) struct Staged {
    /// The `job.transitioned` event's id.
    pub(crate) event_id: EventId,
}

/// Seals the decision's events onto the stream (cancelling the left state's open
/// timeouts first, which names them). A caller may seal more before [`finish`].
pub(crate) async fn stage(
    tx: &Transaction<'_>,
    stream: &mut JobStream,
    definition: &WorkflowDefinition,
    decision: &Decision,
    req: &TransitionRequest,
    metadata: &Value,
) -> Result<Staged, StoreError> {
    let cancelled = match &decision.cancels_timeouts_of {
        Some(_) => timeouts::cancel_open(tx, stream.job.id).await?,
        None => Vec::new(),
    };
    let event_id = stream.push(&decision.event(definition, &req.data), metadata)?;
    if let Some(left) = &decision.cancels_timeouts_of {
        for (timer_id, transition) in cancelled {
            let cancelled = TimerCancelled {
                timer_id,
                state: left.clone(),
                transition,
                due_at: None,
                reason: format!("the job left state '{left}'"),
            };
            stream.push(&cancelled, metadata)?;
        }
    }
    if let Some(t) = &decision.schedules {
        stream.push(&t.event(), metadata)?;
    }
    Ok(Staged { event_id })
}

/// Writes the staged transition: the events and the job's row (one insert, one update),
/// the new timer beside them, then the action runs, whose context snapshot names the
/// stored event.
pub(crate) async fn finish(
    tx: &Transaction<'_>,
    stream: JobStream,
    definition: &WorkflowDefinition,
    decision: &Decision,
    req: &TransitionRequest,
    staged: Staged,
) -> Result<TransitionResult, StoreError> {
    let t = decision.transition(definition);
    let tenant_name = stream.tenant_name.clone();
    let (tenant_id, job_id) = (stream.job.tenant_id, stream.job.id);
    let change = RowChange::Move {
        to: &t.to,
        context: &decision.after.context,
    };
    let timer = async {
        match &decision.schedules {
            Some(timeout) => timeouts::insert(tx, tenant_id, job_id, timeout).await,
            None => Ok(()),
        }
    };
    let ((events, after), ()) = tokio::try_join!(stream.flush(tx, change), timer)?;
    let event = events
        .into_iter()
        .find(|e| e.id == staged.event_id)
        .ok_or_else(|| StoreError::Corrupt("the transition's event was not returned".into()))?;
    let transition = TransitionContext {
        name: &t.name,
        from: &decision.from,
        to: &t.to,
        data: &req.data,
    };
    let ctx = context::build(
        &after,
        &tenant_name,
        &transition,
        Some(&event),
        decision.last_actions.clone(),
    );
    let actions = outbox::insert(tx, &after, &event, t, &decision.run_ids, &ctx).await?;
    Ok(TransitionResult {
        job: after,
        event,
        actions,
        timer_due: decision.schedules.as_ref().map(|t| t.due_at),
    })
}

//! Firing a due timer, in one transaction under the job's lock: decide the timer's
//! transition as the actor `timer` (the same decision, guards and expected-version check
//! as any other), settle the timer (fenced on its attempt), and write the transition with
//! `timer.fired` after it, or only `timer.cancelled` when the decision is a refusal. A
//! firing repeated after a crash finds either nothing written or the timer settled.

use super::{ClaimedTimer, TIMERS};
use crate::events::timer::{TimerCancelled, TimerFired};
use crate::job::stream::{JobStream, RowChange};
use crate::job::transition::{self, TransitionError, TransitionRequest};
use crate::queue::{Item, Settled, Status};
use crate::{metrics, Actor, Pool, StoreError};

/// How a firing ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fired {
    /// The transition was applied.
    Applied,
    /// The job had moved on (or the transition is no longer allowed): nothing applied.
    Cancelled(String),
    /// The lease expired and another attempt owns the timer; nothing was written.
    Stale,
}

/// Fires a claimed timer.
#[tracing::instrument(name = "fire_timer", skip_all, fields(timer.id = %timer.id, job.id = %timer.job_id))]
pub async fn fire(pool: &Pool, timer: &ClaimedTimer) -> Result<Fired, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let metadata = Actor::timer(timer.tenant_id, timer.id).metadata();
    let Some(mut stream) = JobStream::lock(&tx, timer.tenant_id, timer.job_id).await? else {
        return Err(StoreError::Corrupt(format!(
            "timer {} belongs to job {}, which has no row",
            timer.id, timer.job_id
        )));
    };
    let workflow = stream.job.workflow.clone();
    let request = TransitionRequest {
        job_id: timer.job_id,
        transition: Some(timer.transition.clone()),
        to: None,
        data: timer.data.clone(),
        expected_version: timer.job_version,
    };
    let decided = transition::decide_for(&tx, &stream, &request).await;
    let settled = |status, error| Settled {
        status,
        retry_at: None,
        status_code: None,
        error,
    };
    let (fired, outcome) = match decided {
        Err(TransitionError::Store(err)) => return Err(err),
        Err(refusal) => {
            let outcome = refusal.metric_label();
            let reason = match refusal {
                TransitionError::VersionConflict { actual, expected } => format!(
                    "the job moved on (it is at version {actual}, the timer was for {expected})"
                ),
                other => other.to_string(),
            };
            let status = settled(Status::Cancelled, Some(reason.clone()));
            if !TIMERS.settle(&tx, timer.fence(), &status).await? {
                return Ok(Fired::Stale);
            }
            let cancelled = TimerCancelled {
                timer_id: timer.id,
                state: timer.state.clone(),
                transition: timer.transition.clone(),
                due_at: Some(timer.due_at),
                reason: reason.clone(),
            };
            stream.push(&cancelled, &metadata)?;
            stream.flush(&tx, RowChange::HeadOnly).await?;
            (Fired::Cancelled(reason), outcome)
        }
        Ok((definition, decision)) => {
            if !TIMERS
                .settle(&tx, timer.fence(), &settled(Status::Succeeded, None))
                .await?
            {
                return Ok(Fired::Stale);
            }
            let staged = transition::stage(
                &tx,
                &mut stream,
                &definition,
                &decision,
                &request,
                &metadata,
            )
            .await?;
            let late_ms = (decision.after.updated_at - timer.due_at)
                .num_milliseconds()
                .max(0);
            let fired = TimerFired {
                timer_id: timer.id,
                state: timer.state.clone(),
                transition: timer.transition.clone(),
                due_at: timer.due_at,
                transition_event_id: staged.event_id.0,
                late_ms,
            };
            stream.push(&fired, &metadata)?;
            transition::finish(&tx, stream, &definition, &decision, &request, staged).await?;
            (Fired::Applied, "applied")
        }
    };
    tx.commit().await?;
    metrics::transition(timer.tenant_id, &workflow, outcome);
    Ok(fired)
}

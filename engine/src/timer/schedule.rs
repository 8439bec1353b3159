//! Scheduling and cancelling state timeouts inside the transaction that moves a job.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::definition::{parse_duration, TimeoutDef, WorkflowDefinition, MAX_AHEAD};
use crate::job::transition::TransitionError;
use crate::job::Job;
use crate::log::{self, Event, EventType, NewEvent, StreamHead};
use crate::template;
use crate::{Actor, JobId, StoreError};

/// After `job` moved out of `left` (`None` when it was just created) into its current
/// state: cancels the timers of the state it left and schedules the timeout of the state
/// it entered, appending their events after `head` and moving the head on the job row.
/// Does nothing, and sends nothing, when neither state has a timeout.
pub async fn on_move(
    tx: &deadpool_postgres::Transaction<'_>,
    actor: &Actor,
    job: &Job,
    left: Option<&str>,
    definition: &WorkflowDefinition,
    context: &Value,
    head: &mut StreamHead,
) -> Result<Vec<Event>, TransitionError> {
    let timeout_of = |state: &str| definition.state(state).and_then(|s| s.timeout.clone());
    let mut events = Vec::new();
    if let Some(left) = left.filter(|l| timeout_of(l).is_some()) {
        for (id, transition) in cancel_open(tx, job.id).await? {
            events.push(NewEvent {
                tenant_id: job.tenant_id,
                stream_id: job.id.0,
                event_type: EventType::TimerCancelled,
                data: json!({
                    "timer_id": id, "state": left, "transition": transition,
                    "reason": format!("the job left state '{left}'"),
                }),
                metadata: actor.metadata(),
            });
        }
    }
    if let Some(timeout) = timeout_of(&job.state) {
        let due_at = due_at(&timeout, context).await?;
        let id = Uuid::now_v7();
        let stmt = tx
            .prepare_cached(
                "INSERT INTO timers (id, tenant_id, job_id, kind, state, transition, job_version, \
                 due_at, status, next_attempt_at) \
                 VALUES ($1, $2, $3, 'state_timeout', $4, $5, $6, $7, 'pending', $7)",
            )
            .await
            .map_err(StoreError::from)?;
        tx.execute(
            &stmt,
            &[
                &id,
                &job.tenant_id.0,
                &job.id.0,
                &job.state,
                &timeout.transition,
                &job.version,
                &due_at,
            ],
        )
        .await
        .map_err(StoreError::from)?;
        events.push(NewEvent {
            tenant_id: job.tenant_id,
            stream_id: job.id.0,
            event_type: EventType::TimerScheduled,
            data: json!({
                "timer_id": id, "kind": "state_timeout", "state": job.state,
                "transition": timeout.transition, "due_at": due_at, "job_version": job.version,
            }),
            metadata: actor.metadata(),
        });
    }
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let sealed = events.into_iter().map(|e| head.seal(e)).collect();
    let stored = log::insert(tx, sealed).await?;
    move_head(tx, job.id, head).await?;
    Ok(stored)
}

/// Cancels the job's timers that have not started firing; returns their ids and
/// transitions. One already firing finds the job moved on and records itself cancelled.
async fn cancel_open(
    tx: &deadpool_postgres::Transaction<'_>,
    job_id: JobId,
) -> Result<Vec<(Uuid, String)>, StoreError> {
    let stmt = tx
        .prepare_cached(
            "UPDATE timers SET status = 'cancelled', next_attempt_at = NULL, updated_at = now() \
             WHERE job_id = $1 AND kind = 'state_timeout' AND status = 'pending' \
             RETURNING id, transition",
        )
        .await?;
    let rows = tx.query(&stmt, &[&job_id.0]).await?;
    let mut cancelled: Vec<(Uuid, String)> = rows
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, StoreError>>()?;
    cancelled.sort();
    Ok(cancelled)
}

/// When a timeout is due: `after` from now, or the time `at` renders to.
async fn due_at(timeout: &TimeoutDef, context: &Value) -> Result<DateTime<Utc>, TransitionError> {
    // The time renders from the job's context, which the request's data changed.
    let invalid = |message: String| TransitionError::Invalid {
        field: "data",
        message,
    };
    if let Some(after) = &timeout.after {
        let after = parse_duration(after).map_err(invalid)?;
        let after = TimeDelta::from_std(after).map_err(|e| invalid(e.to_string()))?;
        return Ok(Utc::now() + after);
    }
    let source = timeout.at.clone().unwrap_or_default();
    let rendered = template::render_payload_off_thread(Some(source), None, context.clone())
        .await
        .map_err(|err| invalid(format!("the state's timeout time did not render: {err}")))?
        .0
        .unwrap_or_default();
    let at = DateTime::parse_from_rfc3339(rendered.trim())
        .map_err(|_| {
            invalid(format!(
                "the state's timeout time '{rendered}' is not an RFC 3339 time like 2026-12-01T09:00:00Z"
            ))
        })?
        .with_timezone(&Utc);
    let latest = Utc::now() + TimeDelta::from_std(MAX_AHEAD).unwrap_or(TimeDelta::MAX);
    if at > latest {
        return Err(invalid(format!(
            "the state's timeout time {at} is more than a year ahead"
        )));
    }
    Ok(at)
}

/// Writes the job's stream head after appends outside its main update.
pub(crate) async fn move_head(
    tx: &deadpool_postgres::Transaction<'_>,
    job_id: JobId,
    head: &StreamHead,
) -> Result<(), StoreError> {
    let stmt = tx
        .prepare_cached("UPDATE jobs SET stream_version = $2, stream_hash = $3 WHERE id = $1")
        .await?;
    tx.execute(&stmt, &[&job_id.0, &head.version, &head.hash])
        .await?;
    Ok(())
}

//! Recording attempts' outcomes, many in one transaction. For each outcome whose attempt
//! still holds its lease: the run's new status, an `action.*` event in the job's stream, a
//! ledger row for a request actually sent, the connection's health, and then the lane moves
//! on: the next waiting action is released, or, after a final failure without
//! `continue_on_failure`, the rest of that transition's actions are skipped.
//!
//! The number of statements does not grow with the batch: lock the jobs' streams
//! ([`Heads`], in id order, so two batches cannot deadlock on them), settle every attempt
//! (fenced), skip what a failure stops, then, sent together, append every event (each
//! job's chained onto its head, in the batch's order) and move the heads, meter, mark
//! health and release each lane's next action.

use std::collections::{HashMap, HashSet};

use serde_json::json;
use uuid::Uuid;

use super::{ClaimedRun, Finish, Recorded, Recording, ACTIONS};
use crate::connection;
use crate::events::action::ActionSkipped;
use crate::events::Payload;
use crate::job::stream::Heads;
use crate::ledger::{self, Metered};
use crate::log::{EventType, NewEvent};
use crate::queue::{Attempt, Item, Settled, Status};
use crate::{JobId, Pool, StoreError};

/// Records one attempt's outcome and moves its lane on.
pub async fn record(
    pool: &Pool,
    run: &ClaimedRun,
    rec: &Recording,
) -> Result<Recorded, StoreError> {
    let mut done = record_all(pool, &[(run, rec)]).await?;
    Ok(done.pop().unwrap_or(Recorded::Stale))
}

/// Records many attempts' outcomes in one transaction; returns, in the same order, whether
/// each took effect. A stale attempt (its lease expired and the run moved on) writes
/// nothing; the others are unaffected by it.
#[tracing::instrument(name = "record_outcomes", skip_all, fields(batch = outcomes.len()))]
pub async fn record_all(
    pool: &Pool,
    outcomes: &[(&ClaimedRun, &Recording)],
) -> Result<Vec<Recorded>, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let jobs: Vec<JobId> = outcomes.iter().map(|(run, _)| run.job_id).collect();
    let mut heads = Heads::lock(&tx, &jobs).await?;

    let settled: Vec<Settled> = outcomes.iter().map(|(_, rec)| settled(rec)).collect();
    let fences: Vec<(Attempt, &Settled)> = outcomes
        .iter()
        .zip(&settled)
        .map(|((run, _), s)| (run.fence(), s))
        .collect();
    let took: HashSet<Attempt> = ACTIONS
        .settle_all(&tx, &fences)
        .await?
        .into_iter()
        .collect();
    let live: Vec<(&ClaimedRun, &Recording)> = outcomes
        .iter()
        .filter(|(run, _)| took.contains(&run.fence()))
        .copied()
        .collect();
    if live.is_empty() {
        tx.commit().await?;
        return Ok(vec![Recorded::Stale; outcomes.len()]);
    }

    let mut skipped = skip_after_failures(&tx, &live).await?;
    for (run, rec) in &live {
        heads.push(outcome_event(run, rec)?)?;
        for skip in skipped.remove(&run.id).unwrap_or_default() {
            heads.push(skipped_event(run, &skip)?)?;
        }
    }
    let metered: Vec<Metered> = live
        .iter()
        .filter_map(|(run, rec)| {
            rec.ledger.as_ref().map(|entry| Metered {
                tenant_id: run.tenant_id,
                source_id: run.id,
                attempt: run.attempt,
                job_id: Some(run.job_id),
                entry,
            })
        })
        .collect();
    // The last outcome of each connection in the batch is its health now.
    let health: HashMap<Uuid, connection::Observed> = live
        .iter()
        .filter_map(|(_, rec)| {
            let connection = rec.ledger.as_ref()?.connection_id?;
            let observed = match rec.finish {
                Finish::Succeeded => None,
                _ => Some(
                    rec.error
                        .clone()
                        .unwrap_or_else(|| "the request failed".into()),
                ),
            };
            Some((connection, observed))
        })
        .collect();
    let lanes: Vec<Uuid> = live
        .iter()
        .filter(|(_, rec)| !matches!(rec.finish, Finish::Retry(_)))
        .map(|(run, _)| run.job_id.0)
        .collect();
    tokio::try_join!(
        heads.flush(&tx),
        ledger::insert_all(&tx, &metered),
        connection::mark_health_all(&tx, health),
        release_next(&tx, &lanes),
    )?;
    tx.commit().await?;
    Ok(outcomes
        .iter()
        .map(|(run, _)| {
            if took.contains(&run.fence()) {
                Recorded::Done
            } else {
                Recorded::Stale
            }
        })
        .collect())
}

/// How the queue records an attempt's finish.
fn settled(rec: &Recording) -> Settled {
    let (status, retry_at) = match &rec.finish {
        Finish::Succeeded => (Status::Succeeded, None),
        Finish::Retry(at) => (Status::Pending, Some(*at)),
        Finish::Failed => (Status::Failed, None),
    };
    Settled {
        status,
        retry_at,
        status_code: rec.status_code,
        error: rec.error.clone(),
    }
}

/// The `action.*` event of an attempt.
fn outcome_event(run: &ClaimedRun, rec: &Recording) -> Result<NewEvent, StoreError> {
    Ok(NewEvent {
        tenant_id: run.tenant_id,
        stream_id: run.job_id.0,
        event_type: match rec.finish {
            Finish::Succeeded => EventType::ActionSucceeded,
            Finish::Retry(_) => EventType::ActionRetryScheduled,
            Finish::Failed => EventType::ActionFailed,
        },
        data: rec.details.to_data()?,
        metadata: json!({ "action_run_id": run.id, "attempt": run.attempt }),
    })
}

/// A later action of the transition that a final failure stopped.
struct Skip {
    id: Uuid,
    name: String,
    ordinal: i32,
}

fn skipped_event(run: &ClaimedRun, skip: &Skip) -> Result<NewEvent, StoreError> {
    let skipped = ActionSkipped {
        action_run_id: skip.id,
        name: skip.name.clone(),
        ordinal: skip.ordinal,
        transition: run.transition.clone(),
        reason: format!(
            "action '{}' failed and does not continue on failure",
            run.name
        ),
    };
    Ok(NewEvent {
        tenant_id: run.tenant_id,
        stream_id: run.job_id.0,
        event_type: EventType::ActionSkipped,
        data: skipped.to_data()?,
        metadata: json!({ "action_run_id": skip.id }),
    })
}

/// After final failures without `continue_on_failure`: their transitions' later actions
/// will not run. Returns them by the failed run, in lane order.
async fn skip_after_failures(
    tx: &deadpool_postgres::Transaction<'_>,
    live: &[(&ClaimedRun, &Recording)],
) -> Result<HashMap<Uuid, Vec<Skip>>, StoreError> {
    let stopping: Vec<&ClaimedRun> = live
        .iter()
        .filter(|(run, rec)| rec.finish == Finish::Failed && !run.spec.continue_on_failure)
        .map(|(run, _)| *run)
        .collect();
    if stopping.is_empty() {
        return Ok(HashMap::new());
    }
    let run_ids: Vec<Uuid> = stopping.iter().map(|r| r.id).collect();
    let events: Vec<Uuid> = stopping.iter().map(|r| r.event_id).collect();
    let ordinals: Vec<i32> = stopping.iter().map(|r| r.ordinal).collect();
    let rows = tx
        .query(
            &format!(
                "UPDATE action_runs a SET status = $4, updated_at = now() \
                 FROM unnest($1::uuid[], $2::uuid[], $3::int4[]) AS u(run_id, event_id, ordinal) \
                 WHERE a.event_id = u.event_id AND a.ordinal > u.ordinal AND a.status = {waiting} \
                 RETURNING u.run_id, a.id, a.name, a.ordinal",
                waiting = Status::Waiting.literal(),
            ),
            &[&run_ids, &events, &ordinals, &Status::Skipped],
        )
        .await?;
    let mut skipped: HashMap<Uuid, Vec<Skip>> = HashMap::new();
    for row in &rows {
        skipped
            .entry(row.try_get("run_id")?)
            .or_default()
            .push(Skip {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                ordinal: row.try_get("ordinal")?,
            });
    }
    for list in skipped.values_mut() {
        list.sort_by_key(|s| s.ordinal);
    }
    Ok(skipped)
}

/// Makes each lane's next waiting action due (a delayed one at its time), unless
/// something of that lane is already due or running.
pub(crate) async fn release_next(
    tx: &deadpool_postgres::Transaction<'_>,
    jobs: &[Uuid],
) -> Result<(), StoreError> {
    if jobs.is_empty() {
        return Ok(());
    }
    let stmt = tx
        .prepare_cached(&format!(
            "UPDATE action_runs SET status = $2, \
             next_attempt_at = greatest(now(), coalesce(not_before, now())), updated_at = now() \
             WHERE id IN (SELECT DISTINCT ON (job_id) id FROM action_runs \
                          WHERE job_id = ANY($1) AND status = {waiting} \
                          ORDER BY job_id, event_position, ordinal) \
             AND NOT EXISTS (SELECT 1 FROM action_runs b WHERE b.job_id = action_runs.job_id \
                             AND b.status IN ({pending}, {running}))",
            waiting = Status::Waiting.literal(),
            pending = Status::Pending.literal(),
            running = Status::Running.literal(),
        ))
        .await?;
    tx.execute(&stmt, &[&jobs, &Status::Pending]).await?;
    Ok(())
}

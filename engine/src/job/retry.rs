//! Retrying a failed action by hand: one more attempt for the run, and the actions its
//! failure skipped wait behind it again, in order. `action.retried` records who asked.
//!
//! In one transaction, under the job's stream lock: the run (of this job, `failed`) and the
//! runs its failure skipped (later actions of the same transition, `skipped`) become
//! `waiting`; then the lane's first waiting run is released, as after any outcome, unless
//! something of the lane is due or running (it waits its turn, first in line). The run
//! keeps its attempt count: the worker's retry policy sees the budget spent, so the new
//! attempt is the last one, and a failure fails it (and skips what follows) again.

use serde_json::Value;
use thiserror::Error;
use uuid::Uuid;

use super::outbox::ActionRun;
use super::stream::{JobStream, RowChange};
use crate::events::action::ActionRetried;
use crate::queue::Status;
use crate::{Actor, JobId, Pool, StoreError};

/// Why a run was not retried.
#[derive(Debug, Error)]
pub enum RetryError {
    #[error("job {0} not found")]
    JobNotFound(JobId),
    #[error("action run {0} not found in this job")]
    RunNotFound(Uuid),
    #[error("action run {id} is {status}: only a failed action can be retried")]
    NotFailed { id: Uuid, status: &'static str },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The run, now waiting or due again, and the skipped runs that wait behind it.
#[derive(Clone, Debug)]
pub struct Retried {
    pub run: ActionRun,
    pub resumed: Vec<Uuid>,
}

/// Retries the failed run `run_id` of `job_id`.
pub async fn retry(
    pool: &Pool,
    actor: &Actor,
    job_id: JobId,
    run_id: Uuid,
) -> Result<Retried, RetryError> {
    let mut client = pool.get().await.map_err(StoreError::from)?;
    let tx = client.transaction().await.map_err(StoreError::from)?;
    let mut stream = JobStream::lock(&tx, actor.tenant_id, job_id)
        .await?
        .ok_or(RetryError::JobNotFound(job_id))?;
    let found = tx
        .query_opt(
            "SELECT event_id, transition, ordinal, name, status FROM action_runs \
             WHERE id = $1 AND job_id = $2 AND tenant_id = $3 FOR UPDATE",
            &[&run_id, &job_id.0, &actor.tenant_id.0],
        )
        .await
        .map_err(StoreError::from)?
        .ok_or(RetryError::RunNotFound(run_id))?;
    let status: &str = found.try_get("status").map_err(StoreError::from)?;
    let status = Status::parse(status)?;
    if status != Status::Failed {
        return Err(RetryError::NotFailed {
            id: run_id,
            status: status.as_str(),
        });
    }
    let event_id: Uuid = found.try_get("event_id").map_err(StoreError::from)?;
    let ordinal: i32 = found.try_get("ordinal").map_err(StoreError::from)?;
    // The run and what its failure skipped wait again.
    let rows = tx
        .query(
            &format!(
                "UPDATE action_runs SET status = {waiting}, next_attempt_at = NULL, \
                 updated_at = now() \
                 WHERE id = $1 OR (event_id = $2 AND ordinal > $3 AND status = {skipped}) \
                 RETURNING id, ordinal",
                waiting = Status::Waiting.literal(),
                skipped = Status::Skipped.literal(),
            ),
            &[&run_id, &event_id, &ordinal],
        )
        .await
        .map_err(StoreError::from)?;
    let mut resumed: Vec<(i32, Uuid)> = rows
        .iter()
        .map(|r| Ok((r.try_get("ordinal")?, r.try_get("id")?)))
        .collect::<Result<_, tokio_postgres::Error>>()
        .map_err(StoreError::from)?;
    resumed.retain(|(_, id)| *id != run_id);
    resumed.sort();
    let resumed: Vec<Uuid> = resumed.into_iter().map(|(_, id)| id).collect();
    super::lane::release_next(&tx, &[job_id.0]).await?;
    let event = ActionRetried {
        action_run_id: run_id,
        name: found.try_get("name").map_err(StoreError::from)?,
        ordinal,
        transition: found.try_get("transition").map_err(StoreError::from)?,
        resumed: resumed.clone(),
    };
    let mut metadata = actor.metadata();
    metadata["action_run_id"] = Value::from(run_id.to_string());
    stream.push(&event, &metadata)?;
    stream.flush(&tx, RowChange::HeadOnly).await?;
    let run = super::outbox::get(&tx, run_id).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Retried { run, resumed })
}

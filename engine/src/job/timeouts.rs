//! A state's timeout as a transition writes it: the timer row scheduled on entering the
//! state, and the open ones cancelled on leaving it. Their events are sealed by the
//! transition through the job's stream.

use deadpool_postgres::Transaction;
use uuid::Uuid;

use super::decide::StateTimeout;
use crate::events::timer::TimerKind;
use crate::queue::Status;
use crate::{JobId, StoreError, TenantId};

/// Inserts the timer a state's timeout schedules, due at its time.
pub(super) async fn insert(
    tx: &Transaction<'_>,
    tenant_id: TenantId,
    job_id: JobId,
    timeout: &StateTimeout,
) -> Result<(), StoreError> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO timers (id, tenant_id, job_id, kind, state, transition, job_version, \
             due_at, status, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8)",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &timeout.id,
            &tenant_id.0,
            &job_id.0,
            &TimerKind::StateTimeout.as_str(),
            &timeout.state,
            &timeout.transition,
            &timeout.job_version,
            &timeout.due_at,
            &Status::Pending.as_str(),
        ],
    )
    .await?;
    Ok(())
}

/// Cancels the job's state timeouts that have not started firing; returns their ids and
/// transitions, in id order. One already firing finds the job moved on and records
/// itself cancelled.
pub(super) async fn cancel_open(
    tx: &Transaction<'_>,
    job_id: JobId,
) -> Result<Vec<(Uuid, String)>, StoreError> {
    let stmt = tx
        .prepare_cached(
            "UPDATE timers SET status = $2, next_attempt_at = NULL, updated_at = now() \
             WHERE job_id = $1 AND kind = $3 AND status = $4 \
             RETURNING id, transition",
        )
        .await?;
    let rows = tx
        .query(
            &stmt,
            &[
                &job_id.0,
                &Status::Cancelled.as_str(),
                &TimerKind::StateTimeout.as_str(),
                &Status::Pending.as_str(),
            ],
        )
        .await?;
    let mut cancelled = rows
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("transition")?)))
        .collect::<Result<Vec<(Uuid, String)>, StoreError>>()?;
    cancelled.sort();
    Ok(cancelled)
}

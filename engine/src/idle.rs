//! Whether the workers have nothing left to do right now: no queued item due or in
//! flight, and every committed event fanned out. Retries scheduled for later do not count.
//! Tests wait for this instead of sleeping; an operator can ask it before a maintenance
//! window.

use crate::job::lane::ACTIONS;
use crate::subscription::delivery::DELIVERIES;
use crate::timer::TIMERS;
use crate::{Pool, StoreError};

/// True when no work is due, running, or waiting to be fanned out.
pub async fn idle(pool: &Pool) -> Result<bool, StoreError> {
    let client = pool.get().await?;
    let sql = format!(
        "SELECT NOT ({actions}) AND NOT ({deliveries}) AND NOT ({timers}) AND NOT EXISTS ( \
           SELECT 1 FROM event_log e, dispatch_cursor c \
           WHERE e.tx_id < pg_snapshot_xmin(pg_current_snapshot()) \
             AND (e.tx_id, e.position) > (c.tx_id, c.position)) AS idle",
        actions = ACTIONS.busy_sql(),
        deliveries = DELIVERIES.busy_sql(),
        timers = TIMERS.busy_sql(),
    );
    Ok(client.query_one(&sql, &[]).await?.try_get("idle")?)
}

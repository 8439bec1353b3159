//! The dispatcher: tails the log with the gap-safe cursor and turns each event into one
//! delivery per matching subscription.
//!
//! Exactly once: the cursor row is locked, the deliveries for the next stretch of the log
//! are inserted and the cursor moves past it, all in one transaction; and
//! `unique (subscription_id, event_id)` would refuse a second delivery even if that failed.
//! A subscription receives the events recorded after it was created while it is enabled.

use crate::log::{Cursor, Xid8};
use crate::queue::Status;
use crate::{Pool, StoreError};

/// What one dispatch pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dispatched {
    /// Events the cursor moved past.
    pub events: u64,
    /// Deliveries created.
    pub deliveries: u64,
}

/// Fans out up to `batch` events after the cursor. Several dispatchers may run: the cursor
/// lock makes them take turns, and one that finds it held returns at once.
#[tracing::instrument(name = "dispatch", skip_all)]
pub async fn dispatch(pool: &Pool, batch: i64) -> Result<Dispatched, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    // Prepared once per connection: a busy worker runs a pass every few milliseconds.
    let cursor = tx
        .prepare_cached("SELECT tx_id, position FROM dispatch_cursor FOR UPDATE SKIP LOCKED")
        .await?;
    let Some(row) = tx.query_opt(&cursor, &[]).await? else {
        return Ok(Dispatched::default());
    };
    let from = Cursor {
        tx_id: row.try_get::<_, Xid8>("tx_id")?.0,
        position: row.try_get("position")?,
    };
    // The end of this stretch: at most `batch` committed events on. Everything up to it is
    // below the snapshot horizon, so no event can still appear inside the stretch.
    let end = tx
        .prepare_cached(
            "SELECT tx_id, position, count(*) OVER () AS events FROM (\
               SELECT tx_id, position FROM event_log \
               WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot()) \
                 AND (tx_id, position) > ($1::xid8, $2) \
               ORDER BY tx_id, position LIMIT $3) stretch \
             ORDER BY tx_id DESC, position DESC LIMIT 1",
        )
        .await?;
    let end = tx
        .query_opt(&end, &[&Xid8(from.tx_id), &from.position, &batch])
        .await?;
    let Some(end) = end else {
        return Ok(Dispatched::default());
    };
    let to = Cursor {
        tx_id: end.try_get::<_, Xid8>("tx_id")?.0,
        position: end.try_get("position")?,
    };
    let events: i64 = end.try_get("events")?;
    let insert = tx
        .prepare_cached(&format!(
            "INSERT INTO deliveries (id, tenant_id, subscription_id, event_id, event_type, status, next_attempt_at) \
             SELECT gen_random_uuid(), m.tenant_id, m.subscription_id, m.event_id, m.delivered, {pending}, now() \
             FROM (SELECT e.tenant_id, s.id AS subscription_id, e.event_id, e.tx_id, e.position, \
                     {delivered} AS delivered \
                   FROM event_log e JOIN webhook_subscriptions s ON s.tenant_id = e.tenant_id \
                   WHERE (e.tx_id, e.position) > ($1::xid8, $2) \
                     AND (e.tx_id, e.position) <= ($3::xid8, $4) \
                     AND e.type = ANY($5) \
                     AND s.enabled AND s.created_at <= e.recorded_at) m \
             WHERE m.delivered IS NOT NULL \
             ORDER BY m.tx_id, m.position \
             ON CONFLICT (subscription_id, event_id) DO NOTHING",
            delivered = super::event_types::delivered_type_sql("$6", "$7"),
            pending = Status::Pending.literal(),
        ))
        .await?;
    let (seed_names, stands_for) = super::event_types::seed_names();
    let deliveries = tx
        .execute(
            &insert,
            &[
                &Xid8(from.tx_id),
                &from.position,
                &Xid8(to.tx_id),
                &to.position,
                &super::event_types::subscribable(),
                &seed_names,
                &stands_for,
            ],
        )
        .await?;
    let advance = tx
        .prepare_cached("UPDATE dispatch_cursor SET tx_id = $1::xid8, position = $2")
        .await?;
    tx.execute(&advance, &[&Xid8(to.tx_id), &to.position])
        .await?;
    tx.commit().await?;
    Ok(Dispatched {
        events: events as u64,
        deliveries,
    })
}

//! Getting missed events to a subscriber: recovering the failed deliveries of a time
//! window (after an outage on the receiver's side), and a backfill of the log for a new
//! subscription. Both are bounded (a request moves at most a fixed number of deliveries)
//! and idempotent (a delivery is queued again only while it is failed; a backfill never
//! creates a second delivery of an event), and both show in the delivery log (`origin`,
//! `requeuedBy`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::log::read::Cursor;
use crate::queue::Status;
use crate::{Pool, StoreError, TenantId};

/// The most deliveries one recovery request queues again; call again for the rest.
pub const MAX_RECOVER: i64 = 1000;
/// The most events a backfill may cover.
pub const MAX_BACKFILL: i64 = 10_000;

/// What a recovery did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recovered {
    /// Failed deliveries queued again, oldest first.
    pub requeued: u64,
    /// Failed deliveries left in the window (over [`MAX_RECOVER`]): call again.
    pub remaining: u64,
}

/// Queues again the subscription's failed deliveries created in `[since, until)`, at most
/// [`MAX_RECOVER`], each for one more attempt now. `None` if the subscription is not the
/// tenant's.
pub async fn recover(
    pool: &Pool,
    tenant_id: TenantId,
    subscription_id: Uuid,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Option<Recovered>, StoreError> {
    let client = pool.get().await?;
    let exists = client
        .query_opt(
            "SELECT 1 FROM webhook_subscriptions WHERE id = $1 AND tenant_id = $2",
            &[&subscription_id, &tenant_id.0],
        )
        .await?
        .is_some();
    if !exists {
        return Ok(None);
    }
    // The count runs on the statement's snapshot, before the update: what was failed.
    let row = client
        .query_one(
            &format!("WITH failed AS (SELECT id, created_at FROM deliveries \
                             WHERE subscription_id = $1 AND status = {failed} \
                               AND created_at >= $2 AND created_at < $3), \
                  picked AS (SELECT d.id FROM deliveries d JOIN failed f ON f.id = d.id \
                             ORDER BY f.created_at, f.id LIMIT $4 FOR UPDATE OF d SKIP LOCKED), \
                  moved AS (UPDATE deliveries d SET status = {pending}, next_attempt_at = now(), \
                              updated_at = now(), requeued_at = now(), requeued_by = 'recover' \
                            FROM picked WHERE d.id = picked.id AND d.status = {failed} RETURNING 1) \
             SELECT (SELECT count(*) FROM moved) AS requeued, (SELECT count(*) FROM failed) AS failed",
                failed = Status::Failed.literal(),
                pending = Status::Pending.literal(),
            ),
            &[&subscription_id, &since, &until, &MAX_RECOVER],
        )
        .await?;
    let (requeued, failed): (i64, i64) = (row.try_get("requeued")?, row.try_get("failed")?);
    Ok(Some(Recovered {
        requeued: requeued as u64,
        remaining: (failed - requeued).max(0) as u64,
    }))
}

/// Where a backfill starts: events recorded at or after a time, or after a cursor of the
/// events API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backfill {
    Since(DateTime<Utc>),
    After(Cursor),
}

/// Why a backfill was refused.
#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    #[error("the backfill would cover more than {MAX_BACKFILL} events; start it later")]
    TooMany,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Inside the creating transaction: one `backfill` delivery for each of the tenant's
/// events from `from` up to the subscription's creation that its patterns select (the
/// dispatcher delivers the events recorded after it), oldest first.
pub(super) async fn backfill(
    tx: &deadpool_postgres::Transaction<'_>,
    subscription_id: Uuid,
    from: Backfill,
) -> Result<u64, BackfillError> {
    let (since, after) = match from {
        Backfill::Since(at) => (Some(at), None),
        Backfill::After(cursor) => (None, Some(cursor)),
    };
    let (after_tx, after_position) = (
        after.map(|c| crate::log::Xid8(c.tx_id)),
        after.map(|c| c.position),
    );
    let (names, stands_for) = super::event_types::seed_names();
    let inserted = tx
        .execute(
            &format!(
                "INSERT INTO deliveries (id, tenant_id, subscription_id, event_id, event_type, status, \
                   next_attempt_at, origin) \
                 SELECT gen_random_uuid(), m.tenant_id, m.subscription_id, m.event_id, m.delivered, \
                   {pending}, now(), 'backfill' \
                 FROM (SELECT e.tenant_id, s.id AS subscription_id, e.event_id, e.tx_id, e.position, \
                         {delivered} AS delivered \
                       FROM webhook_subscriptions s JOIN event_log e ON e.tenant_id = s.tenant_id \
                       WHERE s.id = $1 AND e.type = ANY($2) AND e.recorded_at < s.created_at \
                         AND ($3::timestamptz IS NULL OR e.recorded_at >= $3) \
                         AND ($4::xid8 IS NULL OR (e.tx_id, e.position) > ($4::xid8, $5)) \
                         AND ({delivered}) IS NOT NULL \
                       ORDER BY e.tx_id, e.position LIMIT $8) m \
                 ON CONFLICT (subscription_id, event_id) DO NOTHING",
                delivered = super::event_types::delivered_type_sql("$6", "$7"),
                pending = Status::Pending.literal(),
            ),
            &[
                &subscription_id,
                &super::event_types::subscribable(),
                &since,
                &after_tx,
                &after_position,
                &names,
                &stands_for,
                &(MAX_BACKFILL + 1),
            ],
        )
        .await
        .map_err(StoreError::from)?;
    if inserted as i64 > MAX_BACKFILL {
        return Err(BackfillError::TooMany);
    }
    Ok(inserted)
}

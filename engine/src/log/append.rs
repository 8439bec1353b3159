//! Appending an event to a stream, extending the stream's hash chain.

use chrono::{DurationRound, TimeDelta, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::hash::{chain_hash, Hashed, GENESIS};
use super::Event;
use crate::{EventId, StoreError, TenantId};

/// An event to append; position, version and hashes are assigned by [`append`].
#[derive(Debug)]
pub struct NewEvent {
    pub tenant_id: TenantId,
    pub stream_id: Uuid,
    pub event_type: &'static str,
    pub data: Value,
    pub metadata: Value,
}

/// Who keeps concurrent appends to one stream apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamLock {
    /// The caller holds a lock that serialises the stream (a job's row `FOR UPDATE`).
    HeldByCaller,
    /// Take a transaction-scoped advisory lock on the stream first.
    Take,
}

/// Appends `event` inside `tx`. The unique `(stream_id, stream_version)` constraint makes a
/// forked chain impossible even if a caller gets the locking wrong.
pub async fn append(
    tx: &deadpool_postgres::Transaction<'_>,
    event: NewEvent,
    lock: StreamLock,
) -> Result<Event, StoreError> {
    if lock == StreamLock::Take {
        let stmt = tx
            .prepare_cached("SELECT pg_advisory_xact_lock($1)")
            .await?;
        tx.execute(&stmt, &[&stream_lock_key(event.stream_id)])
            .await?;
    }
    let head = tx
        .prepare_cached(
            "SELECT stream_version, hash FROM event_log WHERE stream_id = $1 \
             ORDER BY stream_version DESC LIMIT 1",
        )
        .await?;
    let (version, prev) = match tx.query_opt(&head, &[&event.stream_id]).await? {
        Some(row) => (row.try_get::<_, i64>(0)? + 1, row.try_get::<_, Vec<u8>>(1)?),
        None => (1, GENESIS.to_vec()),
    };
    let id = EventId::new();
    let recorded_at = Utc::now()
        .duration_trunc(TimeDelta::microseconds(1))
        .expect("truncating to microseconds cannot overflow");
    let hash = chain_hash(
        &prev,
        &Hashed {
            event_id: id.0,
            tenant_id: event.tenant_id.0,
            stream_id: event.stream_id,
            stream_version: version,
            event_type: event.event_type,
            data: &event.data,
            metadata: &event.metadata,
            recorded_at,
        },
    );
    let insert = tx
        .prepare_cached(
            "INSERT INTO event_log (event_id, tenant_id, stream_id, stream_version, type, data, \
             metadata, recorded_at, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING position, tx_id::text",
        )
        .await?;
    let row = tx
        .query_one(
            &insert,
            &[
                &id.0,
                &event.tenant_id.0,
                &event.stream_id,
                &version,
                &event.event_type,
                &event.data,
                &event.metadata,
                &recorded_at,
                &prev,
                &hash.as_slice(),
            ],
        )
        .await?;
    let tx_id: String = row.try_get(1)?;
    Ok(Event {
        id,
        position: row.try_get(0)?,
        stream_id: event.stream_id,
        stream_version: version,
        event_type: event.event_type.to_string(),
        data: event.data,
        metadata: event.metadata,
        recorded_at,
        prev_hash: hex::encode(&prev),
        hash: hex::encode(hash),
        tx_id: tx_id.parse().unwrap_or_default(),
    })
}

/// The advisory lock key of a stream: the random half of its id.
fn stream_lock_key(stream_id: Uuid) -> i64 {
    let bytes = stream_id.as_bytes();
    i64::from_be_bytes(bytes[8..16].try_into().expect("16-byte uuid"))
}

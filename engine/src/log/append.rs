//! Appending events to a stream, extending the stream's hash chain.
//!
//! An append needs the stream's head (its last version and hash). A job keeps its head on
//! its row, which every writer of the job's stream has already locked, so those appends
//! [`seal`](StreamHead::seal) events against the head they hold and [`insert`] them in one
//! statement, with no read. Other streams (workflows, connections, keys) are written
//! rarely; [`append`] reads their head under a lock.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use deadpool_postgres::GenericClient;
use serde_json::Value;
use uuid::Uuid;

use super::hash::{chain_hash, Hashed, GENESIS};
use super::{Event, EventType};
use crate::{EventId, StoreError, TenantId};

/// An event to append; position, version and hashes are assigned when it is sealed.
#[derive(Debug)]
pub struct NewEvent {
    pub tenant_id: TenantId,
    pub stream_id: Uuid,
    pub event_type: EventType,
    pub data: Value,
    pub metadata: Value,
}

/// Who keeps concurrent appends to one stream apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamLock {
    /// The caller holds a lock that serialises the stream.
    HeldByCaller,
    /// Take a transaction-scoped advisory lock on the stream first.
    Take,
}

/// A stream's last version and hash: what the next event chains onto.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamHead {
    pub version: i64,
    pub hash: Vec<u8>,
}

impl StreamHead {
    /// The head of a stream with no events.
    pub fn empty() -> StreamHead {
        StreamHead {
            version: 0,
            hash: GENESIS.to_vec(),
        }
    }

    /// A head as stored on a row: no hash means no events yet.
    pub fn stored(version: i64, hash: Option<Vec<u8>>) -> StreamHead {
        match hash {
            Some(hash) => StreamHead { version, hash },
            None => StreamHead::empty(),
        }
    }

    /// Gives `event` its id, time, version and hashes as the next event of this stream,
    /// and moves the head onto it. Nothing is written until [`insert`].
    pub fn seal(&mut self, event: NewEvent) -> Sealed {
        let id = EventId::new();
        let recorded_at = Utc::now()
            .duration_trunc(TimeDelta::microseconds(1))
            .expect("truncating to microseconds cannot overflow");
        let version = self.version + 1;
        let hash = chain_hash(
            &self.hash,
            &Hashed {
                event_id: id.0,
                tenant_id: event.tenant_id.0,
                stream_id: event.stream_id,
                stream_version: version,
                event_type: event.event_type.as_str(),
                data: &event.data,
                metadata: &event.metadata,
                recorded_at,
            },
        );
        let prev = std::mem::replace(&mut self.hash, hash.to_vec());
        self.version = version;
        Sealed {
            id,
            version,
            recorded_at,
            prev_hash: prev,
            hash: hash.to_vec(),
            event,
        }
    }
}

/// An event sealed onto its stream's chain, not yet stored.
#[derive(Debug)]
pub struct Sealed {
    pub id: EventId,
    pub version: i64,
    pub recorded_at: DateTime<Utc>,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
    pub event: NewEvent,
}

/// Stores sealed events in one statement, in the order given (which must be each stream's
/// order), and returns them as stored. The unique `(stream_id, stream_version)` constraint
/// makes a forked chain impossible even if a caller's head was stale.
pub async fn insert(
    client: &impl GenericClient,
    sealed: Vec<Sealed>,
) -> Result<Vec<Event>, StoreError> {
    if sealed.is_empty() {
        return Ok(Vec::new());
    }
    let stmt = client
        .prepare_cached(
            "INSERT INTO event_log (event_id, tenant_id, stream_id, stream_version, type, data, \
             metadata, recorded_at, prev_hash, hash) \
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::int8[], $5::text[], \
                                  $6::jsonb[], $7::jsonb[], $8::timestamptz[], $9::bytea[], $10::bytea[]) \
             RETURNING event_id, position, tx_id",
        )
        .await?;
    let ids: Vec<Uuid> = sealed.iter().map(|s| s.id.0).collect();
    let tenants: Vec<Uuid> = sealed.iter().map(|s| s.event.tenant_id.0).collect();
    let streams: Vec<Uuid> = sealed.iter().map(|s| s.event.stream_id).collect();
    let versions: Vec<i64> = sealed.iter().map(|s| s.version).collect();
    let types: Vec<&str> = sealed.iter().map(|s| s.event.event_type.as_str()).collect();
    let data: Vec<&Value> = sealed.iter().map(|s| &s.event.data).collect();
    let metadata: Vec<&Value> = sealed.iter().map(|s| &s.event.metadata).collect();
    let times: Vec<DateTime<Utc>> = sealed.iter().map(|s| s.recorded_at).collect();
    let prevs: Vec<&[u8]> = sealed.iter().map(|s| s.prev_hash.as_slice()).collect();
    let hashes: Vec<&[u8]> = sealed.iter().map(|s| s.hash.as_slice()).collect();
    let rows = client
        .query(
            &stmt,
            &[
                &ids, &tenants, &streams, &versions, &types, &data, &metadata, &times, &prevs,
                &hashes,
            ],
        )
        .await?;
    let mut placed = std::collections::HashMap::with_capacity(rows.len());
    for row in &rows {
        let tx_id = row.try_get::<_, super::Xid8>("tx_id")?.0;
        placed.insert(
            row.try_get::<_, Uuid>("event_id")?,
            (row.try_get::<_, i64>("position")?, tx_id),
        );
    }
    sealed
        .into_iter()
        .map(|s| {
            let (position, tx_id) = placed
                .get(&s.id.0)
                .copied()
                .ok_or_else(|| StoreError::Corrupt(format!("event {} was not stored", s.id.0)))?;
            Ok(Event {
                id: s.id,
                position,
                stream_id: s.event.stream_id,
                stream_version: s.version,
                event_type: s.event.event_type,
                data: s.event.data,
                metadata: s.event.metadata,
                recorded_at: s.recorded_at,
                prev_hash: hex::encode(&s.prev_hash),
                hash: hex::encode(&s.hash),
                tx_id,
            })
        })
        .collect()
}

/// Appends `event` inside `tx` to a stream whose head the caller does not hold: reads the
/// head (under the stream's lock), seals and inserts.
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
    let stmt = tx
        .prepare_cached(
            "SELECT stream_version, hash FROM event_log WHERE stream_id = $1 \
             ORDER BY stream_version DESC LIMIT 1",
        )
        .await?;
    let mut head = match tx.query_opt(&stmt, &[&event.stream_id]).await? {
        Some(row) => StreamHead {
            version: row.try_get("stream_version")?,
            hash: row.try_get("hash")?,
        },
        None => StreamHead::empty(),
    };
    let sealed = head.seal(event);
    let mut stored = insert(tx, vec![sealed]).await?;
    stored
        .pop()
        .ok_or_else(|| StoreError::Corrupt("an appended event was not returned".into()))
}

/// The advisory lock key of a stream: the random half of its id.
fn stream_lock_key(stream_id: Uuid) -> i64 {
    let bytes = stream_id.as_bytes();
    i64::from_be_bytes(bytes[8..16].try_into().expect("16-byte uuid"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sealing_chains_each_event_onto_the_last() {
        let mut head = StreamHead::empty();
        let event = |n: i64| NewEvent {
            tenant_id: TenantId(Uuid::nil()),
            stream_id: Uuid::nil(),
            event_type: EventType::JobTransitioned,
            data: json!({ "n": n }),
            metadata: json!({}),
        };
        let first = head.seal(event(1));
        let second = head.seal(event(2));
        assert_eq!((first.version, second.version), (1, 2));
        assert_eq!(first.prev_hash, GENESIS.to_vec());
        assert_eq!(second.prev_hash, first.hash);
        assert_eq!(
            head,
            StreamHead {
                version: 2,
                hash: second.hash.clone()
            }
        );
    }
}

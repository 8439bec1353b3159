//! The append-only event log.
//!
//! - [`hash`]: `hash = sha256(prev_hash || canonical(event))`, RFC 8785 canonical JSON.
//! - [`append`]: appending to a stream under its lock, extending the stream's chain.
//! - [`read`]: gap-safe paging with a `(tx_id, position)` cursor, and one stream in order.
//! - [`verify`]: recomputing every chain and reporting the first break.

pub mod append;
pub mod event_type;
pub mod hash;
pub mod read;
pub mod verify;
pub mod xid;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::EventId;

pub use append::{append, insert, NewEvent, Sealed, StreamHead, StreamLock};
pub use event_type::EventType;
pub use read::{Cursor, EventFilter, Page};
pub use xid::Xid8;

/// One event as stored, with its place in the log and in its stream.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Event {
    pub id: EventId,
    pub position: i64,
    pub stream_id: Uuid,
    pub stream_version: i64,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub data: Value,
    pub metadata: Value,
    pub recorded_at: DateTime<Utc>,
    /// Hex sha-256 of the previous event of the stream (zeros for the first).
    pub prev_hash: String,
    /// Hex sha-256 of `prev_hash` followed by this event's canonical JSON.
    pub hash: String,
    /// The writing transaction: with `position`, this event's cursor.
    #[serde(default)]
    pub tx_id: u64,
}

impl Event {
    /// The cursor that pages past this event.
    pub fn cursor(&self) -> Cursor {
        Cursor {
            tx_id: self.tx_id,
            position: self.position,
        }
    }
}

/// The columns [`Event::from_row`] reads, in a form every query can share. `tx_id` stays
/// the typed `xid8` column: an `ORDER BY tx_id` beside this list orders numerically.
pub(crate) const EVENT_COLUMNS: &str = "position, tx_id, event_id, stream_id, \
     stream_version, type, data, metadata, recorded_at, prev_hash, hash";

impl Event {
    pub(crate) fn from_row(row: &tokio_postgres::Row) -> Result<Self, crate::StoreError> {
        let tx_id: Xid8 = row.try_get("tx_id")?;
        let prev: Vec<u8> = row.try_get("prev_hash")?;
        let hash: Vec<u8> = row.try_get("hash")?;
        Ok(Event {
            id: EventId(row.try_get("event_id")?),
            position: row.try_get("position")?,
            stream_id: row.try_get("stream_id")?,
            stream_version: row.try_get("stream_version")?,
            event_type: EventType::parse(row.try_get("type")?)?,
            data: crate::stored_json::read(row, "data"),
            metadata: crate::stored_json::read(row, "metadata"),
            recorded_at: row.try_get("recorded_at")?,
            prev_hash: hex::encode(prev),
            hash: hex::encode(hash),
            tx_id: tx_id.0,
        })
    }
}

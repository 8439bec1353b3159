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
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, postgres_from_row::FromRow)]
pub struct Event {
    #[from_row(rename = "event_id")]
    pub id: EventId,
    pub position: i64,
    pub stream_id: Uuid,
    pub stream_version: i64,
    #[serde(rename = "type")]
    #[from_row(rename = "type")]
    pub event_type: EventType,
    #[from_row(from = "crate::stored_json::Stored")]
    pub data: Value,
    #[from_row(from = "crate::stored_json::Stored")]
    pub metadata: Value,
    pub recorded_at: DateTime<Utc>,
    /// Hex sha-256 of the previous event of the stream (zeros for the first).
    #[from_row(from = "Hex")]
    pub prev_hash: String,
    /// Hex sha-256 of `prev_hash` followed by this event's canonical JSON.
    #[from_row(from = "Hex")]
    pub hash: String,
    /// The writing transaction: with `position`, this event's cursor.
    #[serde(default)]
    #[from_row(from = "Xid8")]
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

/// The columns an [`Event`] is read from, in a form every query can share. `tx_id` stays
/// the typed `xid8` column: an `ORDER BY tx_id` beside this list orders numerically.
pub(crate) const EVENT_COLUMNS: &str = "position, tx_id, event_id, stream_id, \
     stream_version, type, data, metadata, recorded_at, prev_hash, hash";

/// A `bytea` column read as lower-case hex, the way events show their hashes.
struct Hex(String);

impl<'a> tokio_postgres::types::FromSql<'a> for Hex {
    fn from_sql(
        ty: &tokio_postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        <&[u8] as tokio_postgres::types::FromSql>::from_sql(ty, raw).map(|b| Hex(hex::encode(b)))
    }

    fn accepts(ty: &tokio_postgres::types::Type) -> bool {
        <&[u8] as tokio_postgres::types::FromSql>::accepts(ty)
    }
}

impl From<Hex> for String {
    fn from(hex: Hex) -> String {
        hex.0
    }
}

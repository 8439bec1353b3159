//! The per-stream hash chain. Each event's hash covers the previous event's hash and the
//! event's RFC 8785 canonical JSON, so editing, removing or reordering any stored event
//! breaks every later link of its stream.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The `prev_hash` of a stream's first event.
pub const GENESIS: [u8; 32] = [0; 32];

/// The fields of an event that its hash covers.
#[derive(Debug)]
pub struct Hashed<'a> {
    pub event_id: Uuid,
    pub tenant_id: Uuid,
    pub stream_id: Uuid,
    pub stream_version: i64,
    pub event_type: &'a str,
    pub data: &'a Value,
    pub metadata: &'a Value,
    pub recorded_at: DateTime<Utc>,
}

/// `sha256(prev || canonical(event))`.
pub fn chain_hash(prev: &[u8], event: &Hashed<'_>) -> [u8; 32] {
    let doc = json!({
        "event_id": event.event_id,
        "tenant_id": event.tenant_id,
        "stream_id": event.stream_id,
        "stream_version": event.stream_version,
        "type": event.event_type,
        "data": event.data,
        "metadata": event.metadata,
        // Microseconds, as PostgreSQL stores them, so a re-read hashes the same.
        "recorded_at": event.recorded_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
    });
    let canonical =
        serde_json_canonicalizer::to_vec(&doc).expect("a serde_json::Value always canonicalises");
    let mut hasher = Sha256::new();
    hasher.update(prev);
    hasher.update(&canonical);
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sample<'a>(data: &'a Value, metadata: &'a Value) -> Hashed<'a> {
        Hashed {
            event_id: Uuid::nil(),
            tenant_id: Uuid::nil(),
            stream_id: Uuid::nil(),
            stream_version: 1,
            event_type: "job.created",
            data,
            metadata,
            recorded_at: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
        }
    }

    #[test]
    fn key_order_and_number_spelling_do_not_change_the_hash() {
        let a: Value = serde_json::from_str(r#"{"b": 1, "a": [1.0, "x"]}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a": [1, "x"], "b": 1e0}"#).unwrap();
        let m = json!({});
        assert_eq!(
            chain_hash(&GENESIS, &sample(&a, &m)),
            chain_hash(&GENESIS, &sample(&b, &m))
        );
    }

    #[test]
    fn content_and_previous_hash_both_change_the_hash() {
        let m = json!({});
        let one = json!({"x": 1});
        let two = json!({"x": 2});
        let base = chain_hash(&GENESIS, &sample(&one, &m));
        assert_ne!(base, chain_hash(&GENESIS, &sample(&two, &m)));
        assert_ne!(base, chain_hash(&[1; 32], &sample(&one, &m)));
    }

    #[test]
    fn the_canonical_form_is_rfc_8785() {
        // RFC 8785 sorts keys by UTF-16 code units and prints numbers the ECMAScript way.
        let v = json!({"b": 1e21, "a": 0.000001, "\u{20ac}": "\u{00e9}", "A": true});
        let out = serde_json_canonicalizer::to_string(&v).unwrap();
        assert_eq!(
            out,
            "{\"A\":true,\"a\":0.000001,\"b\":1e+21,\"\u{20ac}\":\"\u{00e9}\"}"
        );
    }
}

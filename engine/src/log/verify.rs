//! Recomputing every hash chain and reporting the first break.

use std::collections::HashMap;

use serde::Serialize;
use uuid::Uuid;

use super::hash::{chain_hash, Hashed, GENESIS};
use crate::{stored_json, StoreError, TenantId};

/// The result of a verification run.
#[derive(Clone, Debug, Serialize)]
pub struct Verification {
    pub ok: bool,
    pub events_checked: u64,
    pub streams_checked: u64,
    /// The lowest-positioned event whose link does not hold.
    pub first_break: Option<Break>,
}

/// Where and why a chain is broken.
#[derive(Clone, Debug, Serialize)]
pub struct Break {
    pub position: i64,
    pub event_id: Uuid,
    pub stream_id: Uuid,
    pub stream_version: i64,
    pub reason: String,
}

const BATCH: i32 = 1_000;

/// Reads the log in position order (one consistent snapshot, in batches) and checks, for
/// each event: its stream version follows the previous one, its `prev_hash` is that
/// event's hash, and its own hash matches its content. `tenant_id = None` checks all.
pub async fn verify(
    pool: &deadpool_postgres::Pool,
    tenant_id: Option<TenantId>,
) -> Result<Verification, StoreError> {
    let mut client = pool.get().await?;
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let stmt = tx
        .prepare(
            "SELECT position, event_id, tenant_id, stream_id, stream_version, type, data, \
             metadata, recorded_at, prev_hash, hash FROM event_log \
             WHERE ($1::uuid IS NULL OR tenant_id = $1) ORDER BY position",
        )
        .await?;
    let portal = tx.bind(&stmt, &[&tenant_id.map(|t| t.0)]).await?;
    let mut heads: HashMap<Uuid, (i64, Vec<u8>)> = HashMap::new();
    let mut checked = 0u64;
    loop {
        let rows = tx.query_portal(&portal, BATCH).await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            checked += 1;
            if let Some(found) = check_row(row, &mut heads)? {
                return Ok(Verification {
                    ok: false,
                    events_checked: checked,
                    streams_checked: heads.len() as u64,
                    first_break: Some(found),
                });
            }
        }
    }
    Ok(Verification {
        ok: true,
        events_checked: checked,
        streams_checked: heads.len() as u64,
        first_break: None,
    })
}

fn check_row(
    row: &tokio_postgres::Row,
    heads: &mut HashMap<Uuid, (i64, Vec<u8>)>,
) -> Result<Option<Break>, StoreError> {
    let stream_id: Uuid = row.try_get("stream_id")?;
    let version: i64 = row.try_get("stream_version")?;
    let prev: Vec<u8> = row.try_get("prev_hash")?;
    let stored: Vec<u8> = row.try_get("hash")?;
    let data = stored_json::read(row, "data");
    let metadata = stored_json::read(row, "metadata");
    let event_type: String = row.try_get("type")?;
    let event_id: Uuid = row.try_get("event_id")?;
    let broken = |reason: String| Break {
        position: row.try_get("position").unwrap_or_default(),
        event_id,
        stream_id,
        stream_version: version,
        reason,
    };
    if let Some(reason) = stored_json::undecodable(&data).or(stored_json::undecodable(&metadata)) {
        return Ok(Some(broken(format!(
            "the event cannot be checked: {reason}"
        ))));
    }
    let (expected_version, expected_prev) = match heads.get(&stream_id) {
        Some((v, hash)) => (v + 1, hash.clone()),
        None => (1, GENESIS.to_vec()),
    };
    if version != expected_version {
        return Ok(Some(broken(format!(
            "stream_version {version} where {expected_version} was expected"
        ))));
    }
    if prev != expected_prev {
        return Ok(Some(broken(
            "prev_hash is not the hash of the stream's previous event".into(),
        )));
    }
    let recomputed = chain_hash(
        &prev,
        &Hashed {
            event_id,
            tenant_id: row.try_get("tenant_id")?,
            stream_id,
            stream_version: version,
            event_type: &event_type,
            data: &data,
            metadata: &metadata,
            recorded_at: row.try_get("recorded_at")?,
        },
    );
    if recomputed.as_slice() != stored.as_slice() {
        return Ok(Some(broken(
            "hash does not match the event's content: the event was changed after it was written"
                .into(),
        )));
    }
    heads.insert(stream_id, (version, stored));
    Ok(None)
}

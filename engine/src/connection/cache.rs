//! Connection rows (metadata and sealed credentials, never plaintext) kept for a moment, so
//! that a busy connection's actions do not each read the same row.
//!
//! An entry lives at most [`TTL`]. A change is seen sooner than that: every process forgets
//! an entry after changing the connection itself, and the change's transaction sends
//! `NOTIFY switchyard_connections` with the id, on which workers in other processes forget
//! it too ([`crate::wake::listen`]). A listener that lost its connection may have missed
//! some and forgets everything.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::{Connection, Sealed, SealedRow};
use crate::{StoreError, TenantId};

/// How long an entry may be used without reading the row again.
pub const TTL: Duration = Duration::from_secs(1);

/// The channel on which a connection's change is announced (payload: its id).
pub const CHANNEL: &str = "switchyard_connections";

/// Above this many entries, expired ones are dropped when another is added.
const TIDY_ABOVE: usize = 4096;

type Entry = (Instant, TenantId, Option<(Connection, Sealed)>);

/// Bumped by every forget: a read that a forget overtook is not kept.
static GENERATION: AtomicU64 = AtomicU64::new(0);

fn entries() -> &'static Mutex<HashMap<Uuid, Entry>> {
    static ENTRIES: OnceLock<Mutex<HashMap<Uuid, Entry>>> = OnceLock::new();
    ENTRIES.get_or_init(Default::default)
}

/// The connection (with its sealed credentials) as [`super::sealed`] returns it, from the
/// cache while fresh.
pub async fn sealed(
    client: &impl deadpool_postgres::GenericClient,
    tenant_id: TenantId,
    id: Uuid,
) -> Result<Option<(Connection, Sealed)>, StoreError> {
    {
        let map = entries().lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, tenant, found)) = map.get(&id) {
            // The tenant is part of the key: another tenant's lookup never hits.
            if *tenant == tenant_id && at.elapsed() < TTL {
                return Ok(found.clone());
            }
        }
    }
    let read_at = Instant::now();
    let generation = GENERATION.load(Ordering::SeqCst);
    let found = Connection::sealed(client, tenant_id, id).await?;
    let mut map = entries().lock().unwrap_or_else(|e| e.into_inner());
    if GENERATION.load(Ordering::SeqCst) != generation {
        return Ok(found);
    }
    if map.len() > TIDY_ABOVE {
        map.retain(|_, (at, _, _)| at.elapsed() < TTL);
    }
    map.insert(id, (read_at, tenant_id, found.clone()));
    Ok(found)
}

/// Forgets one connection (it changed).
pub fn forget(id: Uuid) {
    GENERATION.fetch_add(1, Ordering::SeqCst);
    entries()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&id);
}

/// Forgets every connection (changes may have been missed).
pub fn forget_all() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
    entries().lock().unwrap_or_else(|e| e.into_inner()).clear();
}

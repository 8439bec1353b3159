//! Provider connections as stored: metadata the API may show, and credentials sealed by
//! the vault (which lives with the worker; the engine never sees plaintext).
//! Creating, changing and deleting a connection appends a metadata-only event.

pub mod cache;
mod health;
mod pause;

pub use health::{
    circuit_changed, mark_health, mark_health_all, record_test, Observed, TestResult,
};
pub use pause::set_paused;

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::flow::view::flow_columns;
use crate::flow::{FlowView, Limits};
use crate::health::Health;
use crate::log::{append, EventType, NewEvent, StreamLock};
use crate::sealed::SealedTable;
pub use crate::sealed::{Sealed, SealedRow};
use crate::store::read_row;
use crate::{Actor, Pool, StoreError, TenantId};

/// A connection's metadata: never its credentials.
#[derive(Clone, Debug, Serialize, postgres_from_row::FromRow)]
pub struct Connection {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub provider: String,
    pub connection_name: String,
    /// Where requests go, with anything secret-bearing removed.
    pub endpoint_preview: String,
    /// From recent requests.
    pub health: Health,
    pub last_event_at: Option<DateTime<Utc>>,
    /// Until when the previous signing secret still signs beside the current one.
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// Set while paused by hand: its actions wait, in order, until it is resumed.
    pub paused_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    #[from_row(flatten)]
    pub flow: FlowView,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A connection to store.
#[derive(Debug)]
pub struct NewConnection {
    pub id: Uuid,
    pub provider: String,
    pub connection_name: String,
    pub sealed: Sealed,
    pub endpoint_preview: String,
    pub limits: Limits,
}

/// What to change; `None` keeps the current value.
#[derive(Debug, Default)]
pub struct ConnectionChanges {
    pub connection_name: Option<String>,
    /// New credentials and the preview of their endpoint.
    pub sealed: Option<(Sealed, String)>,
    /// With `sealed`: until when a previous signing secret sealed in it still signs.
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// New limits (`Some(Limits::default())` removes them).
    pub limits: Option<Limits>,
}

/// The outcome of a delete.
#[derive(Debug)]
pub enum Removal {
    Removed,
    NotFound,
    /// Still referenced by the newest version of these workflows.
    InUse(Vec<String>),
}

impl SealedRow for Connection {
    const TABLE: SealedTable = SealedTable::Connections;
    const COLUMNS: &'static str = COLUMNS;
}

const COLUMNS: &str = concat!(
    "id, tenant_id, provider, connection_name, endpoint_preview, health, last_event_at, \
     previous_secret_until, paused_at, created_at, updated_at, ",
    flow_columns!()
);

async fn record(
    tx: &deadpool_postgres::Transaction<'_>,
    actor: &Actor,
    event_type: EventType,
    c: &Connection,
    extra: serde_json::Value,
) -> Result<(), StoreError> {
    let mut data = json!({
        "id": c.id, "provider": c.provider, "connection_name": c.connection_name,
        "endpoint_preview": c.endpoint_preview,
    });
    if let (Some(data), Some(extra)) = (data.as_object_mut(), extra.as_object()) {
        data.extend(extra.clone());
    }
    append(
        tx,
        NewEvent {
            tenant_id: actor.tenant_id,
            stream_id: c.id,
            event_type,
            data,
            metadata: actor.metadata(),
        },
        StreamLock::Take,
    )
    .await?;
    // Delivered at commit: workers in other processes forget their cached row.
    tx.execute(
        "SELECT pg_notify($1, $2)",
        &[&cache::CHANNEL, &c.id.to_string()],
    )
    .await?;
    Ok(())
}

/// Stores a new connection.
pub async fn insert(
    pool: &Pool,
    actor: &Actor,
    new: NewConnection,
) -> Result<Connection, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let row = tx
        .query_one(
            &format!(
                "INSERT INTO connections (id, tenant_id, provider, connection_name, ciphertext, key_id, \
                 endpoint_preview, limits) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
            ),
            &[&new.id, &actor.tenant_id.0, &new.provider, &new.connection_name, &new.sealed.ciphertext, &new.sealed.key_id, &new.endpoint_preview, &new.limits.to_stored()],
        )
        .await?;
    let connection: Connection = read_row(&row)?;
    record(
        &tx,
        actor,
        EventType::ConnectionCreated,
        &connection,
        // Seed 002's `app:connected` payload.
        json!({ "appType": connection.provider, "status": "connected" }),
    )
    .await?;
    tx.commit().await?;
    Ok(connection)
}

/// Changes a connection's name and/or credentials.
pub async fn update(
    pool: &Pool,
    actor: &Actor,
    id: Uuid,
    changes: ConnectionChanges,
) -> Result<Option<Connection>, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let (ciphertext, key_id, preview) = match &changes.sealed {
        Some((sealed, preview)) => (
            Some(sealed.ciphertext.clone()),
            Some(sealed.key_id.clone()),
            Some(preview.clone()),
        ),
        None => (None, None, None),
    };
    let row = tx
        .query_opt(
            &format!(
                "UPDATE connections SET connection_name = coalesce($3, connection_name), \
                 ciphertext = coalesce($4, ciphertext), key_id = coalesce($5, key_id), \
                 endpoint_preview = coalesce($6, endpoint_preview), updated_at = now(), \
                 previous_secret_until = CASE WHEN $4::bytea IS NULL THEN previous_secret_until ELSE $7 END, \
                 limits = CASE WHEN $8 THEN $9 ELSE limits END \
                 WHERE id = $1 AND tenant_id = $2 RETURNING {COLUMNS}"
            ),
            &[
                &id,
                &actor.tenant_id.0,
                &changes.connection_name,
                &ciphertext,
                &key_id,
                &preview,
                &changes.previous_secret_until,
                &changes.limits.is_some(),
                &changes.limits.and_then(Limits::to_stored),
            ],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let connection: Connection = read_row(&row)?;
    let mut extra = json!({ "credentials_changed": changes.sealed.is_some() });
    if changes.limits.is_some() {
        extra["limits"] = json!(connection.flow.limits);
    }
    record(&tx, actor, EventType::ConnectionUpdated, &connection, extra).await?;
    tx.commit().await?;
    cache::forget(id);
    Ok(Some(connection))
}

/// Deletes a connection unless the newest version of a workflow still uses it.
pub async fn delete(pool: &Pool, actor: &Actor, id: Uuid) -> Result<Removal, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let Some(row) = tx
        .query_opt(
            &format!(
                "SELECT {COLUMNS} FROM connections WHERE id = $1 AND tenant_id = $2 FOR UPDATE"
            ),
            &[&id, &actor.tenant_id.0],
        )
        .await?
    else {
        return Ok(Removal::NotFound);
    };
    let connection: Connection = read_row(&row)?;
    let users: Vec<String> = tx
        .query(
            "SELECT name FROM (SELECT DISTINCT ON (name) name, definition FROM workflows \
             WHERE tenant_id = $1 ORDER BY name, version DESC) latest \
             WHERE position($2 in definition::text) > 0 ORDER BY name",
            &[&actor.tenant_id.0, &id.to_string()],
        )
        .await?
        .iter()
        .map(|r| r.try_get("name"))
        .collect::<Result<_, _>>()?;
    if !users.is_empty() {
        return Ok(Removal::InUse(users));
    }
    tx.execute("DELETE FROM connections WHERE id = $1", &[&id])
        .await?;
    record(
        &tx,
        actor,
        EventType::ConnectionDeleted,
        &connection,
        // Seed 002's `app:disconnected` payload.
        json!({ "appType": connection.provider, "status": "disconnected", "reason": "user_initiated" }),
    )
    .await?;
    tx.commit().await?;
    cache::forget(id);
    Ok(Removal::Removed)
}

/// Which of `ids` are connections of the tenant.
pub async fn existing(
    client: &impl deadpool_postgres::GenericClient,
    tenant_id: TenantId,
    ids: &[Uuid],
) -> Result<HashSet<Uuid>, StoreError> {
    let rows = client
        .query(
            "SELECT id FROM connections WHERE tenant_id = $1 AND id = ANY($2)",
            &[&tenant_id.0, &ids],
        )
        .await?;
    rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
}

/// How many connections the tenant has of each provider.
pub async fn count_by_provider(
    pool: &Pool,
    tenant_id: TenantId,
) -> Result<std::collections::HashMap<String, i64>, StoreError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            "SELECT provider, count(*) FROM connections WHERE tenant_id = $1 GROUP BY provider",
            &[&tenant_id],
        )
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("provider")?, r.try_get("count")?)))
        .collect()
}

/// The tenant's newest connection of `provider`.
pub async fn newest_of(
    pool: &Pool,
    tenant_id: TenantId,
    provider: &str,
) -> Result<Option<Connection>, StoreError> {
    let client = pool.get().await?;
    client
        .query_opt(
            &format!(
                "SELECT {COLUMNS} FROM connections WHERE tenant_id = $1 AND provider = $2 \
                 ORDER BY created_at DESC, id DESC LIMIT 1"
            ),
            &[&tenant_id.0, &provider],
        )
        .await?
        .as_ref()
        .map(read_row)
        .transpose()
}

/// For each of the tenant's connections, the workflows whose newest version uses it (the
/// same rule that stops a connection in use from being deleted).
pub async fn used_by(
    pool: &Pool,
    tenant_id: TenantId,
) -> Result<std::collections::HashMap<Uuid, Vec<String>>, StoreError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            "SELECT c.id, latest.name FROM connections c \
             JOIN (SELECT DISTINCT ON (name) name, definition FROM workflows \
                   WHERE tenant_id = $1 ORDER BY name, version DESC) latest \
               ON position(c.id::text in latest.definition::text) > 0 \
             WHERE c.tenant_id = $1 ORDER BY latest.name",
            &[&tenant_id.0],
        )
        .await?;
    let mut users: std::collections::HashMap<Uuid, Vec<String>> = Default::default();
    for row in rows {
        users
            .entry(row.try_get("id")?)
            .or_default()
            .push(row.try_get("name")?);
    }
    Ok(users)
}

//! Intake endpoints as stored: signed webhooks from other systems (Twilio's status
//! callbacks, Stripe, GitHub, Shopify, Slack, Standard Webhooks) that move jobs.
//!
//! An endpoint holds how its requests are signed (the scheme and its settings, the secret
//! sealed by the vault) and its routes. The public address is `/in/{id}`; the id is random
//! (v4) because knowing it is what lets anyone try to post.
//!
//! - [`route`]: routes, their checks, and choosing one for a verified request.
//! - [`receipt`]: what each verified request did, recognising a repeat delivery.
//! - [`apply`]: a chosen route's plan made into a job's creation or transition.
//!
//! Checking signatures is the actions crate's (`switchyard_actions::intake`): the engine
//! never sees a secret.

pub mod apply;
pub mod receipt;
pub mod route;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::sealed::{Sealed, SealedRow, SealedTable};
use crate::store::read_row;
use crate::{Actor, Pool, StoreError, TenantId};

/// An endpoint's metadata: never its secret.
#[derive(Clone, Debug, Serialize, postgres_from_row::FromRow)]
pub struct Endpoint {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub name: String,
    pub scheme: String,
    /// The scheme's settings (`tolerance`, `header`, `encoding`, `prefix`).
    pub settings: Value,
    /// The routes as given (checked when stored).
    pub routes: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl SealedRow for Endpoint {
    const TABLE: SealedTable = SealedTable::Intake;
    const COLUMNS: &'static str = COLUMNS;
}

const COLUMNS: &str = "id, tenant_id, name, scheme, settings, routes, created_at, updated_at";

/// The most endpoints a tenant may hold.
pub const MAX_PER_TENANT: i64 = 100;

/// An endpoint to store.
#[derive(Debug)]
pub struct NewEndpoint {
    pub id: Uuid,
    pub name: String,
    pub scheme: String,
    pub settings: Value,
    pub sealed: Sealed,
    pub routes: Value,
}

/// What to change; `None` keeps the current value.
#[derive(Debug, Default)]
pub struct EndpointChanges {
    pub name: Option<String>,
    /// A new scheme with its settings and sealed secret.
    pub verify: Option<(String, Value, Sealed)>,
    pub routes: Option<Value>,
}

/// Stores a new endpoint unless the tenant holds [`MAX_PER_TENANT`]; `None` then. The
/// tenant's row is locked while counting, so concurrent creates cannot pass the limit.
pub async fn insert(
    pool: &Pool,
    actor: &Actor,
    new: NewEndpoint,
) -> Result<Option<Endpoint>, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let count = crate::tenant::count_under_lock(
        &tx,
        actor.tenant_id,
        "SELECT count(*) FROM intake_endpoints WHERE tenant_id = $1",
    )
    .await?
    .unwrap_or(0);
    if count >= MAX_PER_TENANT {
        return Ok(None);
    }
    let row = tx
        .query_one(
            &format!(
                "INSERT INTO intake_endpoints (id, tenant_id, name, scheme, settings, ciphertext, \
                 key_id, routes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
            ),
            &[
                &new.id,
                &actor.tenant_id.0,
                &new.name,
                &new.scheme,
                &new.settings,
                &new.sealed.ciphertext,
                &new.sealed.key_id,
                &new.routes,
            ],
        )
        .await?;
    let endpoint = read_row(&row)?;
    tx.commit().await?;
    Ok(Some(endpoint))
}

/// Applies `changes` to the tenant's endpoint `id`; `None` when there is no such endpoint.
pub async fn update(
    pool: &Pool,
    actor: &Actor,
    id: Uuid,
    changes: EndpointChanges,
) -> Result<Option<Endpoint>, StoreError> {
    let client = pool.get().await?;
    let (scheme, settings, sealed) = match changes.verify {
        Some((scheme, settings, sealed)) => (Some(scheme), Some(settings), Some(sealed)),
        None => (None, None, None),
    };
    let row = client
        .query_opt(
            &format!(
                "UPDATE intake_endpoints SET name = coalesce($3, name), \
                 scheme = coalesce($4, scheme), settings = coalesce($5, settings), \
                 ciphertext = coalesce($6, ciphertext), key_id = coalesce($7, key_id), \
                 routes = coalesce($8, routes), updated_at = now() \
                 WHERE id = $1 AND tenant_id = $2 RETURNING {COLUMNS}"
            ),
            &[
                &id,
                &actor.tenant_id.0,
                &changes.name,
                &scheme,
                &settings,
                &sealed.as_ref().map(|s| s.ciphertext.clone()),
                &sealed.as_ref().map(|s| s.key_id.clone()),
                &changes.routes,
            ],
        )
        .await?;
    row.as_ref().map(read_row).transpose()
}

/// Deletes the tenant's endpoint `id` and its receipts; whether there was one.
pub async fn delete(pool: &Pool, actor: &Actor, id: Uuid) -> Result<bool, StoreError> {
    let client = pool.get().await?;
    let n = client
        .execute(
            "DELETE FROM intake_endpoints WHERE id = $1 AND tenant_id = $2",
            &[&id, &actor.tenant_id.0],
        )
        .await?;
    Ok(n > 0)
}

/// The endpoint a request to `/in/{id}` names, whoever's it is, with its sealed secret.
pub async fn for_request(pool: &Pool, id: Uuid) -> Result<Option<(Endpoint, Sealed)>, StoreError> {
    let client = pool.get().await?;
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS}, ciphertext, key_id FROM intake_endpoints WHERE id = $1"
        ))
        .await?;
    let Some(row) = client.query_opt(&stmt, &[&id]).await? else {
        return Ok(None);
    };
    Ok(Some((read_row(&row)?, read_row(&row)?)))
}

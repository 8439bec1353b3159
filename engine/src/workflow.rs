//! Publishing workflow versions and reading them back. A published version is immutable
//! (a trigger enforces it); publishing the same name again makes version n+1.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;
use uuid::Uuid;

use crate::definition::{validate, Problem, WorkflowDefinition};
use crate::events::workflow::WorkflowPublished;
use crate::events::Payload;
use crate::json_path::JsonPath;
use crate::log::{append, StreamLock};
use crate::{connection, Actor, Pool, StoreError, TenantId};

/// A published version.
#[derive(Clone, Debug, Serialize)]
pub struct PublishedWorkflow {
    pub id: Uuid,
    pub name: String,
    pub version: i32,
    pub definition: Value,
    pub created_at: DateTime<Utc>,
}

/// A workflow name with its newest version, as listed.
#[derive(Clone, Debug, Serialize, postgres_from_row::FromRow)]
pub struct WorkflowSummary {
    pub name: String,
    pub latest_version: i32,
    pub updated_at: DateTime<Utc>,
}

/// Why a definition was not published.
#[derive(Debug, Error)]
pub enum PublishError {
    #[error("the workflow definition has {} problem(s)", .0.len())]
    Invalid(Vec<Problem>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Validates `doc` and publishes it as the next version of its name.
pub async fn publish(
    pool: &Pool,
    actor: &Actor,
    doc: &Value,
) -> Result<PublishedWorkflow, PublishError> {
    let definition = validate(doc).map_err(PublishError::Invalid)?;
    let mut client = pool.get().await.map_err(StoreError::from)?;
    let tx = client.transaction().await.map_err(StoreError::from)?;
    check_connections(&tx, actor.tenant_id, &definition).await?;
    let stream_id = workflow_stream(actor.tenant_id, &definition.name);
    // The stream lock also serialises concurrent publishers of one name.
    let lock = tx
        .prepare_cached("SELECT pg_advisory_xact_lock($1)")
        .await
        .map_err(StoreError::from)?;
    tx.execute(
        &lock,
        &[&i64::from_be_bytes(
            stream_id.as_bytes()[8..16].try_into().expect("16 bytes"),
        )],
    )
    .await
    .map_err(StoreError::from)?;
    let version: i32 = tx
        .query_one(
            "SELECT coalesce(max(version), 0) + 1 AS version FROM workflows \
             WHERE tenant_id = $1 AND name = $2",
            &[&actor.tenant_id, &definition.name],
        )
        .await
        .map_err(StoreError::from)?
        .try_get("version")
        .map_err(StoreError::from)?;
    let id = Uuid::now_v7();
    let row = tx
        .query_one(
            "INSERT INTO workflows (id, tenant_id, name, version, definition) \
             VALUES ($1, $2, $3, $4, $5) RETURNING created_at",
            &[&id, &actor.tenant_id.0, &definition.name, &version, doc],
        )
        .await
        .map_err(StoreError::from)?;
    let published = WorkflowPublished {
        workflow_id: id,
        name: definition.name.clone(),
        version,
    };
    append(
        &tx,
        published.by(actor, stream_id)?,
        StreamLock::HeldByCaller,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(PublishedWorkflow {
        id,
        name: definition.name,
        version,
        definition: doc.clone(),
        created_at: row.try_get("created_at").map_err(StoreError::from)?,
    })
}

/// Every action must name a connection of the tenant.
async fn check_connections(
    tx: &deadpool_postgres::Transaction<'_>,
    tenant_id: TenantId,
    definition: &WorkflowDefinition,
) -> Result<(), PublishError> {
    let mut wanted = Vec::new();
    for (i, t) in definition.transitions.iter().enumerate() {
        for (k, a) in t.actions.iter().enumerate() {
            // Validation already checked that each id is a UUID.
            if let Ok(id) = Uuid::parse_str(&a.payload_template.connection_id) {
                let path = JsonPath::root()
                    .key("transitions")
                    .index(i)
                    .key("actions")
                    .index(k)
                    .key("payload_template")
                    .key("connection_id");
                wanted.push((path, id));
            }
        }
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = wanted.iter().map(|(_, id)| *id).collect();
    let found = connection::existing(tx, tenant_id, &ids).await?;
    let problems: Vec<Problem> = wanted
        .into_iter()
        .filter(|(_, id)| !found.contains(id))
        .map(|(path, id)| Problem {
            path: path.to_string(),
            message: format!("no connection with id {id} in this tenant"),
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(PublishError::Invalid(problems))
    }
}

/// The newest version of `name`, or the given one.
pub async fn get(
    pool: &Pool,
    tenant_id: TenantId,
    name: &str,
    version: Option<i32>,
) -> Result<Option<PublishedWorkflow>, StoreError> {
    let client = pool.get().await?;
    let row = client
        .query_opt(
            "SELECT id, name, version, definition, created_at FROM workflows \
             WHERE tenant_id = $1 AND name = $2 AND ($3::int IS NULL OR version = $3) \
             ORDER BY version DESC LIMIT 1",
            &[&tenant_id.0, &name, &version],
        )
        .await?;
    row.map(|row| {
        Ok(PublishedWorkflow {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            version: row.try_get("version")?,
            // A definition that cannot be decoded reads as the marker, and fails to parse
            // as a definition where it is used, instead of panicking here.
            definition: crate::stored_json::read(&row, "definition"),
            created_at: row.try_get("created_at")?,
        })
    })
    .transpose()
}

/// The newest definition of each of the tenant's workflows, by name (at most `limit`).
/// A definition that does not read as one is left out.
pub async fn newest_definitions(
    pool: &Pool,
    tenant_id: TenantId,
    limit: i64,
) -> Result<Vec<WorkflowDefinition>, StoreError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            "SELECT DISTINCT ON (name) definition FROM workflows WHERE tenant_id = $1              ORDER BY name, version DESC LIMIT $2",
            &[&tenant_id.0, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|row| serde_json::from_value(crate::stored_json::read(row, "definition")).ok())
        .collect())
}

/// The tenant's workflow names with their newest versions, by name, after `after`.
pub async fn list(
    pool: &Pool,
    tenant_id: TenantId,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<WorkflowSummary>, StoreError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            "SELECT name, max(version) AS latest_version, max(created_at) AS updated_at FROM workflows \
             WHERE tenant_id = $1 AND ($2::text IS NULL OR name > $2) \
             GROUP BY name ORDER BY name LIMIT $3",
            &[&tenant_id.0, &after, &limit],
        )
        .await?;
    crate::store::read_rows(&rows)
}

/// The parsed definition of a workflow version. Versions never change, so parsed
/// definitions are kept for the life of the process.
pub async fn definition(
    client: &impl deadpool_postgres::GenericClient,
    workflow_id: Uuid,
) -> Result<Arc<WorkflowDefinition>, StoreError> {
    static CACHE: OnceLock<RwLock<HashMap<Uuid, Arc<WorkflowDefinition>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(&workflow_id)
    {
        return Ok(found.clone());
    }
    let stmt = client
        .prepare_cached("SELECT definition FROM workflows WHERE id = $1")
        .await?;
    let doc: Value = client
        .query_one(&stmt, &[&workflow_id])
        .await?
        .try_get("definition")?;
    let parsed: WorkflowDefinition = serde_json::from_value(doc)
        .map_err(|err| StoreError::Corrupt(format!("workflow {workflow_id}: {err}")))?;
    let parsed = Arc::new(parsed);
    cache
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(workflow_id, parsed.clone());
    Ok(parsed)
}

/// The stream of a workflow name's `workflow.published` events.
fn workflow_stream(tenant_id: TenantId, name: &str) -> Uuid {
    Uuid::new_v5(&tenant_id.0, format!("workflow:{name}").as_bytes())
}

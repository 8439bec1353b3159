//! Creating a job: `job.created` in a new stream, in the workflow's initial state.

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use super::stream::JobStream;
use super::{decide, timeouts, Job, JOB_COLUMNS};
use crate::events::job::JobCreated;
use crate::idempotency::{self, IdempotencyError, IdempotencyKey};
use crate::{workflow, Actor, JobId, Pool, StoreError};

/// What a service asks for.
#[derive(Clone, Debug)]
pub struct CreateJob {
    pub workflow: String,
    /// The newest version when `None`.
    pub workflow_version: Option<i32>,
    pub context: Value,
    /// When given, a second create with the same id returns the first job.
    pub external_id: Option<String>,
}

/// A new job, or the one that already had this `external_id`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "outcome", content = "job", rename_all = "snake_case")]
pub enum Created {
    New(Job),
    Existing(Job),
}

/// Why a job was not created.
#[derive(Debug, Error)]
pub enum CreateJobError {
    #[error("no workflow named '{name}'{}", .version.map(|v| format!(" with version {v}")).unwrap_or_default())]
    WorkflowNotFound { name: String, version: Option<i32> },
    /// The initial state's timeout could not be set (its time did not render).
    #[error("{0}")]
    Timeout(String),
    #[error(transparent)]
    Idempotency(#[from] IdempotencyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates the job (or finds it by `external_id`); returns `(result, replayed)`.
#[tracing::instrument(name = "create_job", skip_all, fields(tenant.id = %actor.tenant_id.0, workflow = %cmd.workflow))]
pub async fn create(
    pool: &Pool,
    actor: &Actor,
    cmd: &CreateJob,
    key: Option<&IdempotencyKey>,
) -> Result<(Created, bool), CreateJobError> {
    let mut client = pool.get().await.map_err(StoreError::from)?;
    let tx = client.transaction().await.map_err(StoreError::from)?;
    if let Some(key) = key {
        if let Some(stored) = idempotency::lookup::<Created>(&tx, actor.tenant_id, key).await? {
            return Ok((stored, true));
        }
    }
    let workflow = tx
        .query_opt(
            "SELECT id, version, definition->>'initial' AS initial FROM workflows \
             WHERE tenant_id = $1 AND name = $2 AND ($3::int IS NULL OR version = $3) \
             ORDER BY version DESC LIMIT 1",
            &[&actor.tenant_id.0, &cmd.workflow, &cmd.workflow_version],
        )
        .await
        .map_err(StoreError::from)?
        .ok_or_else(|| CreateJobError::WorkflowNotFound {
            name: cmd.workflow.clone(),
            version: cmd.workflow_version,
        })?;
    let (workflow_id, version, initial): (uuid::Uuid, i32, String) = (
        workflow.try_get("id").map_err(StoreError::from)?,
        workflow.try_get("version").map_err(StoreError::from)?,
        workflow.try_get("initial").map_err(StoreError::from)?,
    );
    let definition = workflow::definition(&tx, workflow_id).await?;
    let now = Utc::now();
    let job = Job {
        id: JobId::new(),
        tenant_id: actor.tenant_id,
        workflow_id,
        workflow: cmd.workflow.clone(),
        workflow_version: version,
        state: initial.clone(),
        previous_state: None,
        version: 0,
        context: cmd.context.clone(),
        external_id: cmd.external_id.clone(),
        created_at: now,
        updated_at: now,
    };
    // The initial state may have a timeout: it starts now.
    let timeout = decide::initial_timeout(&definition, &job, now);
    let metadata = actor.metadata();
    // The events are sealed before the row exists, so the row is written with its
    // stream's head; if the external id is taken, they are dropped unwritten.
    let mut stream = JobStream::new(job, String::new());
    let created = JobCreated {
        workflow: cmd.workflow.clone(),
        workflow_version: version,
        state: initial,
        context: cmd.context.clone(),
        external_id: cmd.external_id.clone(),
    };
    stream.push(&created, &metadata)?;
    if let Ok(Some(t)) = &timeout {
        stream.push(&t.event(), &metadata)?;
    }
    let created = match timeout {
        // A job that exists already is found whatever its timeout would have said.
        Err(err) => match existing(&tx, actor, cmd).await? {
            Some(job) => Created::Existing(job),
            None => return Err(CreateJobError::Timeout(err.to_string())),
        },
        Ok(timeout) => match stream.insert_new(&tx).await? {
            Some((_, job)) => {
                if let Some(t) = &timeout {
                    timeouts::insert(&tx, job.tenant_id, job.id, t).await?;
                }
                Created::New(job)
            }
            None => Created::Existing(
                existing(&tx, actor, cmd)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt("the conflicting job is gone".into()))?,
            ),
        },
    };
    if let Some(key) = key {
        idempotency::remember(&tx, actor.tenant_id, key, &created).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok((created, false))
}

/// The job that already has the command's external id, if any.
async fn existing(
    tx: &deadpool_postgres::Transaction<'_>,
    actor: &Actor,
    cmd: &CreateJob,
) -> Result<Option<Job>, StoreError> {
    let Some(external_id) = &cmd.external_id else {
        return Ok(None);
    };
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs \
             WHERE tenant_id = $1 AND workflow_name = $2 AND external_id = $3"
        ))
        .await?;
    tx.query_opt(&stmt, &[&actor.tenant_id.0, &cmd.workflow, external_id])
        .await?
        .map(|row| crate::store::read_row::<Job>(&row))
        .transpose()
}

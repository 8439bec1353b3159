//! Creating a job: `job.created` in a new stream, in the workflow's initial state.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use thiserror::Error;

use super::transition::TransitionError;
use super::{Job, JOB_COLUMNS};
use crate::idempotency::{self, IdempotencyError, IdempotencyKey};
use crate::log::{self, EventType, NewEvent, StreamHead};
use crate::{context, timer, workflow, Actor, JobId, Pool, StoreError};

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
            "SELECT id, version, definition->>'initial' FROM workflows \
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
    let (workflow_id, version, initial): (uuid::Uuid, i32, String) =
        (workflow.get(0), workflow.get(1), workflow.get(2));

    let id = JobId::new();
    // The first event is sealed before the row exists, so the row is written with its
    // stream's head; if the external id is taken, the event is dropped unwritten.
    let mut head = StreamHead::empty();
    let created_event = head.seal(NewEvent {
        tenant_id: actor.tenant_id,
        stream_id: id.0,
        event_type: EventType::JobCreated,
        data: json!({
            "workflow": cmd.workflow,
            "workflow_version": version,
            "state": initial,
            "context": cmd.context,
            "external_id": cmd.external_id,
        }),
        metadata: actor.metadata(),
    });
    let inserted = tx
        .query_opt(
            &format!(
                "INSERT INTO jobs (id, tenant_id, workflow_id, workflow_name, workflow_version, \
                 state, context, external_id, stream_version, stream_hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (tenant_id, workflow_name, external_id) WHERE external_id IS NOT NULL \
                 DO NOTHING RETURNING {JOB_COLUMNS}"
            ),
            &[
                &id.0,
                &actor.tenant_id.0,
                &workflow_id,
                &cmd.workflow,
                &version,
                &initial,
                &cmd.context,
                &cmd.external_id,
                &head.version,
                &head.hash,
            ],
        )
        .await
        .map_err(StoreError::from)?;

    let created = match inserted {
        Some(row) => {
            log::insert(&tx, vec![created_event]).await?;
            let job = Job::from_row(&row)?;
            // The initial state may have a timeout: it starts now.
            let definition = workflow::definition(&tx, workflow_id).await?;
            // A new job has no transition or event yet: its timeout sees only the job.
            let context = json!({ "job": context::job_fields(&job) });
            timer::on_move(&tx, actor, &job, None, &definition, &context, &mut head)
                .await
                .map_err(|err| match err {
                    TransitionError::Store(err) => CreateJobError::Store(err),
                    other => CreateJobError::Timeout(other.to_string()),
                })?;
            Created::New(job)
        }
        None => {
            let row = tx
                .query_one(
                    &format!(
                        "SELECT {JOB_COLUMNS} FROM jobs \
                         WHERE tenant_id = $1 AND workflow_name = $2 AND external_id = $3"
                    ),
                    &[&actor.tenant_id.0, &cmd.workflow, &cmd.external_id],
                )
                .await
                .map_err(StoreError::from)?;
            Created::Existing(Job::from_row(&row)?)
        }
    };
    if let Some(key) = key {
        idempotency::remember(&tx, actor.tenant_id, key, &created).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok((created, false))
}

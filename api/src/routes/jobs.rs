//! Creating, reading and listing jobs; a job's action runs and its event stream.

use chrono::{DateTime, Utc};
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::{Deserialize, Serialize};
use switchyard_engine::api_key::Scope;
use switchyard_engine::job::create::{self, CreateJob, CreateJobError, Created};
use switchyard_engine::job::outbox::{self, ActionRun};

use super::progress::ProgressBody;
use switchyard_engine::job::read::{self, JobFilter};
use switchyard_engine::job::Job;
use switchyard_engine::timer;
use switchyard_engine::{log, JobId};
use uuid::Uuid;

use super::events::{EventBody, EventList};
use super::timers::TimerBody;
use super::{paging, ApiTags};
use crate::auth::ApiKeyAuth;
use crate::idempotency::{idempotency_error, idempotency_key};
use crate::json_body::JsonBody;
use crate::problem::ApiError;
use crate::schema::{Documented, JsonObject};
use crate::state::AppState;

pub struct JobsApi {
    pub state: AppState,
}

/// A job.
#[derive(Object)]
pub struct JobBody {
    id: Uuid,
    workflow: String,
    workflow_version: i32,
    state: String,
    /// Number of applied transitions: pass it as `expected_version`.
    version: i64,
    context: Documented<JsonObject>,
    external_id: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// On `GET /api/v1/jobs/{id}`: the timers that have not fired or been cancelled.
    #[oai(skip_serializing_if_is_none)]
    timers: Option<Vec<TimerBody>>,
}

impl From<Job> for JobBody {
    fn from(j: Job) -> Self {
        JobBody {
            id: j.id.0,
            workflow: j.workflow,
            workflow_version: j.workflow_version,
            state: j.state,
            version: j.version,
            context: Documented::new(j.context),
            external_id: j.external_id,
            created_at: j.created_at,
            updated_at: j.updated_at,
            timers: None,
        }
    }
}

/// One action of an applied transition and where it stands.
#[derive(Object)]
pub struct ActionRunBody {
    id: Uuid,
    name: String,
    transition: String,
    ordinal: i32,
    event_id: Uuid,
    #[oai(flatten)]
    progress: ProgressBody,
}

impl From<ActionRun> for ActionRunBody {
    fn from(r: ActionRun) -> Self {
        ActionRunBody {
            id: r.id,
            name: r.name,
            transition: r.transition,
            ordinal: r.ordinal,
            event_id: r.event_id,
            progress: r.progress.into(),
        }
    }
}

#[derive(Object, Serialize, Deserialize)]
struct CreateJobBody {
    /// The workflow's name.
    #[oai(validator(min_length = 1))]
    workflow: String,
    /// A published version; the newest when absent.
    #[oai(validator(minimum(value = "1")))]
    workflow_version: Option<i32>,
    /// The job's initial context.
    context: Option<JsonObject>,
    /// Your id for this job: creating again with the same one returns the first job.
    #[oai(validator(min_length = 1, max_length = 200))]
    external_id: Option<String>,
}

#[derive(Object)]
struct JobList {
    items: Vec<JobBody>,
    next_cursor: Option<String>,
}

#[derive(Object)]
struct ActionRunList {
    items: Vec<ActionRunBody>,
    next_cursor: Option<String>,
}

#[derive(ApiResponse)]
enum CreateResponse {
    /// The job was created.
    #[oai(status = 201)]
    Created(Json<JobBody>),
    /// A job with this `external_id` already existed; it is returned unchanged.
    #[oai(status = 200)]
    Existing(Json<JobBody>),
}

const READERS: &[Scope] = &[Scope::Service, Scope::Auditor];

#[OpenApi(tag = "ApiTags::Jobs")]
impl JobsApi {
    /// Create a job in its workflow's initial state.
    #[oai(path = "/api/v1/jobs", method = "post", operation_id = "createJob")]
    async fn create(
        &self,
        auth: ApiKeyAuth,
        #[oai(name = "Idempotency-Key")] key: Header<Option<String>>,
        body: JsonBody<CreateJobBody>,
    ) -> Result<CreateResponse, ApiError> {
        let key = idempotency_key(key.0, "POST /api/v1/jobs", &body.0)?;
        let actor = auth.require_keyed(&[Scope::Service], key.as_ref().map(|k| k.key.as_str()))?;
        let cmd = check_create(body.0)?;
        let (created, _replayed) = create::create(&self.state.pool, &actor, &cmd, key.as_ref())
            .await
            .map_err(|err| match err {
                CreateJobError::WorkflowNotFound { .. } => {
                    ApiError::invalid("workflow", err.to_string())
                }
                // The initial state's timeout renders its time from the context.
                CreateJobError::Timeout(message) => ApiError::invalid("context", message),
                CreateJobError::Idempotency(err) => idempotency_error(err),
                CreateJobError::Store(err) => err.into(),
            })?;
        Ok(match created {
            Created::New(job) => {
                // Its `job.created` event may be due to subscribers.
                self.state.committed_events();
                CreateResponse::Created(Json(job.into()))
            }
            Created::Existing(job) => CreateResponse::Existing(Json(job.into())),
        })
    }

    /// One job.
    #[oai(path = "/api/v1/jobs/:id", method = "get", operation_id = "getJob")]
    async fn get(&self, auth: ApiKeyAuth, id: Path<Uuid>) -> Result<Json<JobBody>, ApiError> {
        let actor = auth.require(READERS)?;
        let job = read::get(&self.state.pool, actor.tenant_id, JobId(id.0))
            .await?
            .ok_or_else(|| ApiError::not_found("job", id.0))?;
        let timers = timer::list_open(
            &self.state.pool,
            actor.tenant_id,
            JobId(id.0),
            timer::MAX_OPEN_PER_JOB,
        )
        .await?;
        let mut body = JobBody::from(job);
        body.timers = Some(timers.into_iter().map(Into::into).collect());
        Ok(Json(body))
    }

    /// The tenant's jobs, oldest first, optionally of one workflow or in one state.
    #[oai(path = "/api/v1/jobs", method = "get", operation_id = "listJobs")]
    async fn list(
        &self,
        auth: ApiKeyAuth,
        workflow: Query<Option<String>>,
        state: Query<Option<String>>,
        cursor: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))] limit: Query<Option<i64>>,
    ) -> Result<Json<JobList>, ApiError> {
        let actor = auth.require(READERS)?;
        let limit = paging::limit(limit.0, 50, 500)?;
        let after = paging::cursor(cursor.0.as_deref(), |c| Uuid::parse_str(c).ok().map(JobId))?;
        let filter = JobFilter {
            workflow: workflow.0,
            state: state.0,
            after,
            ..JobFilter::default()
        };
        let jobs = read::list(&self.state.pool, actor.tenant_id, &filter, limit).await?;
        let next_cursor = paging::next_cursor(&jobs, limit, |j| j.id.to_string());
        Ok(Json(JobList {
            items: jobs.into_iter().map(Into::into).collect(),
            next_cursor,
        }))
    }

    /// The job's action runs in lane order, with their outcomes.
    #[oai(
        path = "/api/v1/jobs/:id/actions",
        method = "get",
        operation_id = "listJobActions"
    )]
    async fn actions(
        &self,
        auth: ApiKeyAuth,
        id: Path<Uuid>,
    ) -> Result<Json<ActionRunList>, ApiError> {
        let actor = auth.require(READERS)?;
        self.require_job(actor.tenant_id, id.0).await?;
        let runs = outbox::list_for_job(&self.state.pool, actor.tenant_id, JobId(id.0)).await?;
        Ok(Json(ActionRunList {
            items: runs.into_iter().map(Into::into).collect(),
            next_cursor: None,
        }))
    }

    /// The job's own event stream, in order. `cursor` is a stream version.
    #[oai(
        path = "/api/v1/jobs/:id/events",
        method = "get",
        operation_id = "listJobEvents"
    )]
    async fn events(
        &self,
        auth: ApiKeyAuth,
        id: Path<Uuid>,
        cursor: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))] limit: Query<Option<i64>>,
    ) -> Result<Json<EventList>, ApiError> {
        let actor = auth.require(READERS)?;
        let limit = paging::limit(limit.0, 100, 1000)?;
        let after = paging::cursor(cursor.0.as_deref(), |c| c.parse::<i64>().ok())?.unwrap_or(0);
        self.require_job(actor.tenant_id, id.0).await?;
        let events = log::read::stream(
            &self
                .state
                .pool
                .get()
                .await
                .map_err(switchyard_engine::StoreError::from)?,
            actor.tenant_id,
            id.0,
            after,
            limit,
        )
        .await?;
        let next_cursor = paging::next_cursor(&events, limit, |e| e.stream_version.to_string());
        Ok(Json(EventList {
            items: events.into_iter().map(EventBody::from).collect(),
            next_cursor,
        }))
    }
}

impl JobsApi {
    async fn require_job(
        &self,
        tenant_id: switchyard_engine::TenantId,
        id: Uuid,
    ) -> Result<(), ApiError> {
        match read::get(&self.state.pool, tenant_id, JobId(id)).await? {
            Some(_) => Ok(()),
            None => Err(ApiError::not_found("job", id)),
        }
    }
}

fn check_create(body: CreateJobBody) -> Result<CreateJob, ApiError> {
    if body.workflow.trim().is_empty() {
        return Err(ApiError::invalid("workflow", "name the workflow to run"));
    }
    let context = body.context.unwrap_or_default().into_value();
    if let Some(ext) = &body.external_id {
        if ext.is_empty() || ext.len() > 200 || ext.contains('\0') {
            return Err(ApiError::invalid(
                "external_id",
                "external_id must be 1 to 200 characters",
            ));
        }
    }
    Ok(CreateJob {
        workflow: body.workflow,
        workflow_version: body.workflow_version,
        context,
        external_id: body.external_id,
    })
}

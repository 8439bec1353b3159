//! Publishing, validating and reading workflow definitions.

use chrono::{DateTime, Utc};
use poem::http::StatusCode;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::Value;
use switchyard_engine::api_key::Scope;
use switchyard_engine::definition::{self, Problem as DefinitionProblem};
use switchyard_engine::json_path::JsonPath;
use switchyard_engine::template;
use switchyard_engine::workflow::{self, PublishError, PublishedWorkflow};
use uuid::Uuid;

use super::{paging, ApiTags};
use crate::auth::ApiKeyAuth;
use crate::json_body::JsonBody;
use crate::problem::{ApiError, FieldError, Problem};
use crate::schema::{Documented, JsonObject, WorkflowDefinition};
use crate::state::AppState;

pub struct WorkflowsApi {
    pub state: AppState,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
struct WorkflowBody {
    id: Uuid,
    name: String,
    version: i32,
    definition: Documented<WorkflowDefinition>,
    created_at: DateTime<Utc>,
    /// On publishing: what was published anyway but will likely fail (a template reading
    /// transition data that the guard does not ask for), each with its path.
    warnings: Option<Vec<FieldError>>,
}

#[derive(Object)]
struct WorkflowSummaryBody {
    name: String,
    latest_version: i32,
    updated_at: DateTime<Utc>,
}

#[derive(Object)]
struct WorkflowList {
    items: Vec<WorkflowSummaryBody>,
    next_cursor: Option<String>,
}

#[derive(Object)]
struct Validation {
    valid: bool,
    errors: Vec<FieldError>,
    /// What publishing would warn about.
    warnings: Vec<FieldError>,
}

/// An action's payload template and a sample context to render it against.
#[derive(Object, serde::Deserialize)]
struct PreviewRequest {
    /// The action's path template.
    path: Option<String>,
    /// The action's body template (every string leaf a template).
    body: Option<Value>,
    /// The template context: `job`, `tenant`, `transition`, `action`, ... as at send time.
    context: JsonObject,
}

/// The payload as the worker would render it against that context; nothing is sent.
#[derive(Object)]
struct Preview {
    path: Option<String>,
    body: Option<Value>,
}

#[derive(ApiResponse)]
enum PublishResponse {
    /// Published as the next version of its name.
    #[oai(status = 201)]
    Created(Json<WorkflowBody>),
}

impl From<PublishedWorkflow> for WorkflowBody {
    fn from(w: PublishedWorkflow) -> Self {
        WorkflowBody {
            id: w.id,
            name: w.name,
            version: w.version,
            definition: Documented::new(w.definition),
            created_at: w.created_at,
            warnings: None,
        }
    }
}

/// Publishing's warnings for a definition (none when it does not read as one).
fn warnings(doc: &Value) -> Vec<FieldError> {
    serde_json::from_value::<switchyard_engine::definition::WorkflowDefinition>(doc.clone())
        .map(|d| field_errors(definition::inputs::warnings(&d)))
        .unwrap_or_default()
}

fn field_errors(problems: Vec<DefinitionProblem>) -> Vec<FieldError> {
    problems
        .into_iter()
        .map(|p| FieldError {
            path: p.path,
            message: p.message,
        })
        .collect()
}

const READERS: &[Scope] = &[Scope::Designer, Scope::Service];

#[OpenApi(tag = "ApiTags::Workflows")]
impl WorkflowsApi {
    /// Publish a workflow definition. Publishing a name again makes version n+1; every
    /// problem in the definition is reported at once, each with its JSON path.
    #[oai(
        path = "/api/v1/workflows",
        method = "post",
        operation_id = "publishWorkflow"
    )]
    async fn publish(
        &self,
        auth: ApiKeyAuth,
        body: JsonBody<Documented<WorkflowDefinition>>,
    ) -> Result<PublishResponse, ApiError> {
        let actor = auth.require(&[Scope::Designer])?;
        match workflow::publish(&self.state.pool, &actor, &body.0 .0).await {
            Ok(published) => {
                let found = warnings(&published.definition);
                let mut body: WorkflowBody = published.into();
                body.warnings = Some(found);
                Ok(PublishResponse::Created(Json(body)))
            }
            Err(PublishError::Invalid(problems)) => {
                let mut problem = Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid-workflow",
                    "Invalid workflow definition",
                    format!(
                        "the definition has {} problem(s); each is listed in errors with its path",
                        problems.len()
                    ),
                );
                problem.field = problems.first().map(|p| p.path.clone());
                problem.errors = Some(field_errors(problems));
                Err(problem.into())
            }
            Err(PublishError::Store(err)) => Err(err.into()),
        }
    }

    /// Validate a definition without publishing it.
    #[oai(
        path = "/api/v1/workflows/validate",
        method = "post",
        operation_id = "validateWorkflow"
    )]
    async fn validate(
        &self,
        auth: ApiKeyAuth,
        body: JsonBody<Documented<WorkflowDefinition>>,
    ) -> Result<Json<Validation>, ApiError> {
        auth.require(&[Scope::Designer])?;
        Ok(Json(match definition::validate(&body.0 .0) {
            Ok(_) => Validation {
                valid: true,
                errors: Vec::new(),
                warnings: warnings(&body.0 .0),
            },
            Err(problems) => Validation {
                valid: false,
                errors: field_errors(problems),
                warnings: Vec::new(),
            },
        }))
    }

    /// Render an action's payload against a sample context without sending anything.
    #[oai(
        path = "/api/v1/workflows/preview",
        method = "post",
        operation_id = "previewWorkflow"
    )]
    async fn preview(
        &self,
        auth: ApiKeyAuth,
        body: JsonBody<PreviewRequest>,
    ) -> Result<Json<Preview>, ApiError> {
        auth.require(&[Scope::Designer])?;
        let PreviewRequest {
            path,
            body,
            context,
        } = body.0;
        if let Some(p) = &path {
            template::check(p).map_err(|e| ApiError::invalid("path", e))?;
        }
        if let Some(b) = &body {
            let root = JsonPath::root().key("body");
            if let Some((at, e)) = template::check_value(b, &root).into_iter().next() {
                return Err(ApiError::invalid(&at, e));
            }
        }
        match template::render_payload_off_thread(path, body, context.into_value()).await {
            Ok((path, body)) => Ok(Json(Preview { path, body })),
            Err(err) => Err(ApiError::invalid("context", err.to_string())),
        }
    }

    /// List workflow names with their newest version.
    #[oai(
        path = "/api/v1/workflows",
        method = "get",
        operation_id = "listWorkflows"
    )]
    async fn list(
        &self,
        auth: ApiKeyAuth,
        cursor: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))] limit: Query<Option<i64>>,
    ) -> Result<Json<WorkflowList>, ApiError> {
        let actor = auth.require(READERS)?;
        let limit = paging::limit(limit.0, 50, 500)?;
        let items = workflow::list(
            &self.state.pool,
            actor.tenant_id,
            cursor.0.as_deref().filter(|c| !c.is_empty()),
            limit,
        )
        .await?;
        let next_cursor = paging::next_cursor(&items, limit, |w| w.name.clone());
        Ok(Json(WorkflowList {
            items: items
                .into_iter()
                .map(|w| WorkflowSummaryBody {
                    name: w.name,
                    latest_version: w.latest_version,
                    updated_at: w.updated_at,
                })
                .collect(),
            next_cursor,
        }))
    }

    /// The newest version of a workflow.
    #[oai(
        path = "/api/v1/workflows/:name",
        method = "get",
        operation_id = "getWorkflow"
    )]
    async fn latest(
        &self,
        auth: ApiKeyAuth,
        name: Path<String>,
    ) -> Result<Json<WorkflowBody>, ApiError> {
        let actor = auth.require(READERS)?;
        workflow::get(&self.state.pool, actor.tenant_id, &name.0, None)
            .await?
            .map(|w| Json(w.into()))
            .ok_or_else(|| ApiError::not_found("workflow", &name.0))
    }

    /// One version of a workflow.
    #[oai(
        path = "/api/v1/workflows/:name/versions/:version",
        method = "get",
        operation_id = "getWorkflowVersion"
    )]
    async fn version(
        &self,
        auth: ApiKeyAuth,
        name: Path<String>,
        version: Path<i32>,
    ) -> Result<Json<WorkflowBody>, ApiError> {
        let actor = auth.require(READERS)?;
        workflow::get(&self.state.pool, actor.tenant_id, &name.0, Some(version.0))
            .await?
            .map(|w| Json(w.into()))
            .ok_or_else(|| {
                ApiError::not_found("workflow version", format!("{}/{}", name.0, version.0))
            })
    }
}

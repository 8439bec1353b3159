//! `POST /api/v1/jobs/{id}/actions/{run_id}/retry`: one more attempt for a failed action;
//! the actions its failure skipped wait behind it again, in order.

use poem::http::StatusCode;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use switchyard_engine::api_key::Scope;
use switchyard_engine::job::retry::{self, RetryError};
use switchyard_engine::JobId;
use uuid::Uuid;

use super::jobs::ActionRunBody;
use super::ApiTags;
use crate::auth::ApiKeyAuth;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

pub struct ActionRetryApi {
    pub state: AppState,
}

/// The retried run (waiting its turn, or due now) and the skipped runs waiting behind it.
#[derive(Object)]
struct RetriedBody {
    run: ActionRunBody,
    /// The actions the failure had skipped that wait again, in order.
    resumed: Vec<Uuid>,
}

#[OpenApi(tag = "ApiTags::Jobs")]
impl ActionRetryApi {
    /// Retry a failed action: one more attempt, then the actions its failure skipped, in
    /// order. `action.retried` records who asked. Only a `failed` run can be retried (409).
    #[oai(
        path = "/api/v1/jobs/:id/actions/:run_id/retry",
        method = "post",
        operation_id = "retryAction"
    )]
    async fn retry(
        &self,
        auth: ApiKeyAuth,
        id: Path<Uuid>,
        run_id: Path<Uuid>,
    ) -> Result<Json<RetriedBody>, ApiError> {
        let actor = auth.require(&[Scope::Service])?;
        let retried = retry::retry(&self.state.pool, &actor, JobId(id.0), run_id.0)
            .await
            .map_err(|err| match err {
                RetryError::JobNotFound(job) => ApiError::not_found("job", job),
                RetryError::RunNotFound(run) => ApiError::not_found("action run", run),
                RetryError::NotFailed { .. } => Problem::new(
                    StatusCode::CONFLICT,
                    "action-not-failed",
                    "Action not failed",
                    err.to_string(),
                )
                .into(),
                RetryError::Store(err) => err.into(),
            })?;
        // The run may be due now: wake the workers.
        self.state.committed();
        Ok(Json(RetriedBody {
            run: retried.run.into(),
            resumed: retried.resumed,
        }))
    }
}

//! `GET /healthz` (the process runs) and `GET /readyz` (the database answers and the
//! worker loop runs).

use poem::http::StatusCode;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use switchyard_engine::store;

use super::ApiTags;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

pub struct HealthApi {
    pub state: AppState,
}

#[derive(Object)]
struct Status {
    status: String,
}

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// Liveness: answers while the process runs.
    #[oai(path = "/healthz", method = "get")]
    async fn healthz(&self) -> Json<Status> {
        Json(Status {
            status: "ok".into(),
        })
    }

    /// Readiness: answers 200 when the database can be reached and the worker loop runs,
    /// 503 otherwise.
    #[oai(path = "/readyz", method = "get")]
    async fn readyz(&self) -> Result<Json<Status>, ApiError> {
        if !self.state.worker_health.alive() {
            return Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "worker-stopped",
                "Not ready",
                "the worker loop of this process has stopped; restart the process",
            )
            .into());
        }
        if store::ready(&self.state.pool).await {
            Ok(Json(Status {
                status: "ready".into(),
            }))
        } else {
            Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database-unavailable",
                "Not ready",
                "the database cannot be reached",
            )
            .into())
        }
    }
}

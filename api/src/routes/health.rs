//! `GET /healthz` (the process runs) and `GET /readyz` (the database answers).

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

    /// Readiness: answers 200 when the database can be reached, 503 otherwise.
    #[oai(path = "/readyz", method = "get")]
    async fn readyz(&self) -> Result<Json<Status>, ApiError> {
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

//! `GET /healthz` (the process runs), `GET /readyz` (the database answers, the worker
//! loop runs, the process is not draining) and `GET /metrics` (Prometheus text).

use poem::http::StatusCode;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi};
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
    /// 503 otherwise, and 503 from the moment the process is asked to stop.
    #[oai(path = "/readyz", method = "get")]
    async fn readyz(&self) -> Result<Json<Status>, ApiError> {
        if self.state.worker_health.draining() {
            return Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "draining",
                "Not ready",
                "this process is shutting down; send requests to another one",
            )
            .into());
        }
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

    /// Prometheus metrics: transitions, action attempts and deliveries, queue depth, the
    /// dispatcher's lag, HTTP requests and the database pool. Labels carry no ids.
    #[oai(path = "/metrics", method = "get")]
    async fn metrics(&self) -> MetricsText {
        MetricsText::Ok(PlainText(crate::metrics::render(&self.state.pool).await))
    }
}

#[derive(ApiResponse)]
enum MetricsText {
    /// The metrics; the names are listed in the README.
    #[oai(
        status = 200,
        content_type = "text/plain; version=0.0.4; charset=utf-8"
    )]
    Ok(PlainText<String>),
}

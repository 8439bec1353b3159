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
    #[oai(path = "/healthz", method = "get", operation_id = "getHealth")]
    async fn healthz(&self) -> Json<Status> {
        Json(Status {
            status: "ok".into(),
        })
    }

    /// Readiness: answers 200 when the database can be reached and the worker loop runs,
    /// 503 otherwise, and 503 from the moment the process is asked to stop.
    #[oai(path = "/readyz", method = "get", operation_id = "getReadiness")]
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
    /// dispatcher's lag, HTTP requests and the database pool. Labels carry no ids. They
    /// describe every tenant's activity, so the API serves them only to
    /// `Authorization: Bearer $SWITCHYARD_METRICS_TOKEN`, and not at all without that
    /// setting (serve them on `--metrics-listen` instead).
    #[oai(path = "/metrics", method = "get", operation_id = "getMetrics")]
    async fn metrics(&self, req: &poem::Request) -> Result<MetricsText, ApiError> {
        let Some(token) = &self.state.metrics_token else {
            return Err(Problem::new(
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                "metrics are served on --metrics-listen, or here with SWITCHYARD_METRICS_TOKEN set",
            )
            .into());
        };
        let given = req
            .headers()
            .get(poem::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !same_secret(given, token) {
            return Err(Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Unauthorized",
                "the metrics need Authorization: Bearer <SWITCHYARD_METRICS_TOKEN>",
            )
            .into());
        }
        Ok(MetricsText::Ok(PlainText(
            crate::metrics::render(&self.state.pool).await,
        )))
    }
}

/// Compares digests, so the time taken says nothing about how much of the token matched.
fn same_secret(given: &str, token: &str) -> bool {
    use sha2::{Digest, Sha256};
    Sha256::digest(given.as_bytes()) == Sha256::digest(token.as_bytes())
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

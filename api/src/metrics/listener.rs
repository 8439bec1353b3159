//! `switchyard worker --metrics-listen ADDR`: a worker has no API, so it serves
//! `GET /metrics` (and `/healthz`, `/readyz`) on a small listener of its own.

use std::future::Future;

use poem::endpoint::make;
use poem::http::StatusCode;
use poem::{get, EndpointExt, Response, Route};
use switchyard_actions::WorkerHealth;
use switchyard_engine::Pool;

use crate::server;

/// Serves the worker's metrics on `addr` until `shutdown`; returns once bound, with the
/// address and the serving task.
pub async fn spawn(
    addr: &str,
    pool: Pool,
    health: WorkerHealth,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>)> {
    let (bound, local) = server::bind(addr).await?;
    let metrics_pool = pool.clone();
    let routes = Route::new()
        .at(
            "/metrics",
            get(make(move |_| {
                let pool = metrics_pool.clone();
                async move {
                    Response::builder()
                        .content_type(super::CONTENT_TYPE)
                        .body(super::render(&pool).await)
                }
            })),
        )
        .at("/healthz", get(make(|_| async { "ok" })))
        .at(
            "/readyz",
            get(make(move |_| {
                let health = health.clone();
                let pool = pool.clone();
                async move {
                    let ready = health.alive()
                        && !health.draining()
                        && switchyard_engine::store::ready(&pool).await;
                    if ready {
                        Response::builder().body("ready")
                    } else {
                        Response::builder()
                            .status(StatusCode::SERVICE_UNAVAILABLE)
                            .body("not ready")
                    }
                }
            })),
        );
    let task = tokio::spawn(async move {
        if let Err(err) = server::serve(bound, routes.boxed(), shutdown).await {
            tracing::error!(error = %err, "the metrics listener stopped");
        }
    });
    Ok((local, task))
}

//! `switchyard serve` (the HTTP API and a worker) and `switchyard worker` (a worker only),
//! until Ctrl-C or SIGTERM.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use anyhow::Context;
use futures_util::FutureExt;
use switchyard_actions::worker::Worker;
use switchyard_actions::{WorkerHealth, WorkerSignal};
use tokio::sync::watch;

use crate::config::{Cli, ServeArgs, WorkerOnlyArgs};
use crate::database;
use crate::server;
use crate::state::AppState;

/// Serves the API with a worker beside it until Ctrl-C or SIGTERM, then drains: `/readyz`
/// answers 503 at once, the worker claims nothing more and finishes its requests in
/// flight (up to the drain timeout) while the API still answers, then the API lets its
/// requests finish and closes, and the embedded cluster stops.
pub async fn run(cli: &Cli, args: &ServeArgs) -> anyhow::Result<()> {
    let shutdown = super::shutdown_signal();
    let keyring = database::keyring(&cli.database, &cli.vault)?;
    let mut worker_config = cli.worker.config(&cli.providers)?;
    let database = database::open(&cli.database).await?;
    worker_config.listen = Some(database.url.clone());
    crate::metrics::handle();
    let state = AppState::new(database.pool.clone(), keyring, &worker_config)?
        .with_limits(args.limits())
        .with_metrics_token(args.metrics_token.clone())
        .with_public_url(args.public_url.clone())?;
    let health = state.worker_health.clone();
    let (stop_metrics, metrics) =
        metrics_listener(args.metrics_listen.as_deref(), &database.pool, &health).await?;
    let (acceptor, addr) = server::bind(&args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let (stop, worker) = spawn_worker(&state, worker_config)?;
    let (stop_api, api_stopped) = tokio::sync::oneshot::channel::<()>();
    let api = tokio::spawn(server::run(acceptor, state, async move {
        let _ = api_stopped.await;
    }));
    tracing::info!(%addr, "Switchyard API listening; docs at http://{addr}/docs");
    shutdown.await;
    health.mark_draining();
    let _ = stop.send(true);
    let _ = worker.await;
    let _ = stop_api.send(());
    api.await.context("the API task")??;
    let _ = stop_metrics.send(());
    if let Some(task) = metrics {
        let _ = task.await;
    }
    drop(database);
    tracing::info!("stopped");
    Ok(())
}

/// Runs only a worker: scale actions out by running more of these against one database.
/// With `--metrics-listen` it serves `/metrics`, `/healthz` and `/readyz` there.
pub async fn run_worker(cli: &Cli, args: &WorkerOnlyArgs) -> anyhow::Result<()> {
    let shutdown = super::shutdown_signal();
    let keyring = database::keyring(&cli.database, &cli.vault)?;
    let mut config = cli.worker.config(&cli.providers)?;
    let database = database::open(&cli.database).await?;
    config.listen = Some(database.url.clone());
    crate::metrics::handle();
    let health = WorkerHealth::default();
    let (stop_metrics, metrics) =
        metrics_listener(args.metrics_listen.as_deref(), &database.pool, &health).await?;
    let worker = Worker::new(
        database.pool.clone(),
        Arc::new(keyring),
        config,
        WorkerSignal::default(),
    )?;
    tracing::info!("Switchyard worker running");
    let draining = health.clone();
    worker
        .run(async move {
            shutdown.await;
            draining.mark_draining();
        })
        .await;
    let _ = stop_metrics.send(());
    if let Some(task) = metrics {
        let _ = task.await;
    }
    drop(database);
    tracing::info!("stopped");
    Ok(())
}

/// The metrics listener of `--metrics-listen`, if asked for; send on the sender to stop it.
async fn metrics_listener(
    addr: Option<&str>,
    pool: &switchyard_engine::Pool,
    health: &WorkerHealth,
) -> anyhow::Result<(
    tokio::sync::oneshot::Sender<()>,
    Option<tokio::task::JoinHandle<()>>,
)> {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let Some(addr) = addr else {
        return Ok((stop, None));
    };
    let (local, task) =
        crate::metrics::listener::spawn(addr, pool.clone(), health.clone(), async move {
            let _ = stopped.await;
        })
        .await
        .with_context(|| format!("listening for metrics on {addr}"))?;
    tracing::info!(addr = %local, "metrics at http://{local}/metrics");
    Ok((stop, Some(task)))
}

/// Starts a worker on the state's pool and signal; send `true` to stop it.
pub fn spawn_worker(
    state: &AppState,
    config: switchyard_actions::worker::WorkerConfig,
) -> anyhow::Result<(watch::Sender<bool>, tokio::task::JoinHandle<()>)> {
    let worker = Worker::new(
        state.pool.clone(),
        state.keyring.clone(),
        config,
        state.worker.clone(),
    )?;
    let (stop, mut stopped) = watch::channel(false);
    let health = state.worker_health.clone();
    let asked = stop.subscribe();
    let handle = tokio::spawn(async move {
        let run = worker.run(async move {
            let _ = stopped.wait_for(|s| *s).await;
        });
        let ended = AssertUnwindSafe(run).catch_unwind().await;
        if ended.is_err() || !*asked.borrow() {
            tracing::error!(
                "the worker loop ended without being asked to; /readyz now answers 503"
            );
            health.mark_dead();
        }
    });
    Ok((stop, handle))
}

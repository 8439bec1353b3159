//! `switchyard serve` (the HTTP API and a worker) and `switchyard worker` (a worker only),
//! until Ctrl-C or SIGTERM.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use anyhow::Context;
use futures_util::FutureExt;
use switchyard_actions::worker::Worker;
use switchyard_actions::WorkerSignal;
use tokio::sync::watch;

use crate::config::{Cli, ServeArgs};
use crate::database;
use crate::server;
use crate::state::AppState;

/// Serves the API with a worker beside it. On shutdown the API drains first, then the
/// worker finishes its actions in flight, then the embedded cluster stops.
pub async fn run(cli: &Cli, args: &ServeArgs) -> anyhow::Result<()> {
    let shutdown = super::shutdown_signal();
    let keyring = database::keyring(&cli.database, &cli.vault)?;
    let mut worker_config = cli.worker.config(&cli.providers)?;
    let database = database::open(&cli.database).await?;
    worker_config.listen = Some(database.url.clone());
    let state =
        AppState::new(database.pool.clone(), keyring, &worker_config)?.with_limits(args.limits());
    let (acceptor, addr) = server::bind(&args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let (stop, worker) = spawn_worker(&state, worker_config)?;
    tracing::info!(%addr, "Switchyard API listening; docs at http://{addr}/docs");
    server::run(acceptor, state, shutdown).await?;
    let _ = stop.send(true);
    let _ = worker.await;
    drop(database);
    Ok(())
}

/// Runs only a worker: scale actions out by running more of these against one database.
pub async fn run_worker(cli: &Cli) -> anyhow::Result<()> {
    let shutdown = super::shutdown_signal();
    let keyring = database::keyring(&cli.database, &cli.vault)?;
    let mut config = cli.worker.config(&cli.providers)?;
    let database = database::open(&cli.database).await?;
    config.listen = Some(database.url.clone());
    let worker = Worker::new(
        database.pool.clone(),
        Arc::new(keyring),
        config,
        WorkerSignal::default(),
    )?;
    tracing::info!("Switchyard worker running");
    worker.run(shutdown).await;
    drop(database);
    Ok(())
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

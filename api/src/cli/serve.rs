//! `switchyard serve`: the HTTP API until Ctrl-C or SIGTERM.

use anyhow::Context;
use switchyard_actions::WorkerSignal;

use crate::config::{DatabaseArgs, ServeArgs};
use crate::database;
use crate::server;
use crate::state::AppState;

/// Opens the database, serves, and stops the embedded cluster after the API has drained.
pub async fn run(db: &DatabaseArgs, args: &ServeArgs) -> anyhow::Result<()> {
    let database = database::open(db).await?;
    let state = AppState {
        pool: database.pool.clone(),
        worker: WorkerSignal::default(),
    };
    let (acceptor, addr) = server::bind(&args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    tracing::info!(%addr, "Switchyard API listening; docs at http://{addr}/docs");
    server::run(acceptor, state, super::shutdown_signal()).await?;
    drop(database);
    Ok(())
}

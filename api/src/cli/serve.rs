//! `switchyard serve`: the HTTP API until Ctrl-C or SIGTERM.

use anyhow::Context;

use crate::config::{Cli, ServeArgs};
use crate::database;
use crate::server;
use crate::state::AppState;

/// Opens the database, serves, and stops the embedded cluster after the API has drained.
pub async fn run(cli: &Cli, args: &ServeArgs) -> anyhow::Result<()> {
    let keyring = database::keyring(&cli.database, &cli.vault)?;
    let database = database::open(&cli.database).await?;
    let state = AppState::new(database.pool.clone(), keyring, cli.providers.endpoints());
    let (acceptor, addr) = server::bind(&args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    tracing::info!(%addr, "Switchyard API listening; docs at http://{addr}/docs");
    server::run(acceptor, state, super::shutdown_signal()).await?;
    drop(database);
    Ok(())
}

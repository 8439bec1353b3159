//! Starting, attaching to and stopping the private cluster.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::initdb::{initdb, read_or_create_password, SUPERUSER};
use super::owner;
use super::pidfile::{self, Found};
use super::server::{spawn, Server};
use super::{binaries, setup, EmbeddedError};

/// Where and how to run the embedded cluster.
#[derive(Clone, Debug)]
pub struct EmbeddedOptions {
    /// Holds `pg/` (the cluster), `run/` (its socket), `pg-password` and `postgres.log`.
    pub data_dir: PathBuf,
    /// Turns off fsync. Only for test clusters whose data is thrown away.
    pub throwaway: bool,
    /// Listen on this port instead of a free one (a cluster restarted under the same URL).
    pub port: Option<u16>,
}

/// A running embedded cluster: ours (stopped when dropped), or a sibling process's that we
/// attached to (left running).
pub struct EmbeddedPostgres {
    port: u16,
    password: String,
    server: Option<Server>,
    data_dir: PathBuf,
}

impl std::fmt::Debug for EmbeddedPostgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password stays out of debug output.
        f.debug_struct("EmbeddedPostgres")
            .field("port", &self.port)
            .field("owned", &self.server.is_some())
            .field("data_dir", &self.data_dir)
            .finish()
    }
}

impl EmbeddedPostgres {
    /// Initialises the cluster if needed, handles a leftover server, starts PostgreSQL and
    /// waits until it accepts connections, then makes sure `database` exists.
    pub async fn start(options: EmbeddedOptions, database: &str) -> Result<Self, EmbeddedError> {
        let options_for_setup = options.clone();
        let (server, port, password) =
            tokio::task::spawn_blocking(move || prepare_and_spawn(&options_for_setup))
                .await
                .map_err(|err| setup("starting PostgreSQL", err))??;
        let cluster = EmbeddedPostgres {
            port,
            password,
            server,
            data_dir: options.data_dir.clone(),
        };
        cluster.wait_ready().await?;
        cluster.ensure_database(database).await?;
        Ok(cluster)
    }

    /// A connection URL for `database` on this cluster, with the superuser's password.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }

    /// The TCP port the cluster listens on (127.0.0.1 only).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether this process started the server (and so stops it).
    pub fn is_owned(&self) -> bool {
        self.server.is_some()
    }

    /// Creates `database` unless it exists.
    pub async fn ensure_database(&self, database: &str) -> Result<(), EmbeddedError> {
        let client = self.admin().await?;
        let exists = client
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&database])
            .await
            .map_err(|err| setup("looking up the database", err))?
            .is_some();
        if !exists {
            let create = format!("CREATE DATABASE \"{}\"", database.replace('"', "\"\""));
            if let Err(err) = client.batch_execute(&create).await {
                // Another process may have created it between our check and our create.
                if err.code() != Some(&tokio_postgres::error::SqlState::DUPLICATE_DATABASE) {
                    return Err(setup(&format!("creating database {database}"), err));
                }
            }
        }
        Ok(())
    }

    /// A superuser connection to the `postgres` maintenance database.
    pub async fn admin(&self) -> Result<tokio_postgres::Client, EmbeddedError> {
        let (client, connection) =
            tokio_postgres::connect(&self.url("postgres"), tokio_postgres::NoTls)
                .await
                .map_err(|err| setup("connecting to the embedded cluster", err))?;
        tokio::spawn(connection);
        Ok(client)
    }

    /// Stops the server if we own it: a fast shutdown (clients are disconnected, data is
    /// flushed), escalating to an immediate one if it does not finish in 30 seconds.
    pub fn stop(&mut self) {
        // A server that already exited (stopped or restarted by hand) is not ours any
        // more: its pid may name another process now, and a restarted one is left running.
        if let Some(server) = self.server.take().filter(|s| !s.has_exited()) {
            // SAFETY: kill with a valid signal has no memory-safety preconditions.
            unsafe { libc::kill(server.pid, libc::SIGINT) };
            if !server.wait_exit(Duration::from_secs(30)) {
                // SAFETY: as above.
                unsafe { libc::kill(server.pid, libc::SIGQUIT) };
                server.wait_exit(Duration::from_secs(10));
            }
            tracing::info!(pid = server.pid, "embedded PostgreSQL stopped");
        }
    }

    async fn wait_ready(&self) -> Result<(), EmbeddedError> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(server) = &self.server {
                if server.has_exited() {
                    return Err(EmbeddedError::NotReady(format!(
                        "PostgreSQL exited during start-up; the end of {}:\n{}",
                        self.log_path().display(),
                        tail(&self.log_path(), 20)
                    )));
                }
            }
            let attempt = tokio::time::timeout(
                Duration::from_secs(2),
                tokio_postgres::connect(&self.url("postgres"), tokio_postgres::NoTls),
            )
            .await;
            if let Ok(Ok((_client, connection))) = attempt {
                drop(connection);
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(EmbeddedError::NotReady(format!(
                    "PostgreSQL did not accept connections within 60 seconds; the end of {}:\n{}",
                    self.log_path().display(),
                    tail(&self.log_path(), 20)
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_path(&self) -> PathBuf {
        self.data_dir.join("postgres.log")
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The blocking half of start-up: directories, initdb, leftovers, and the spawn.
fn prepare_and_spawn(
    options: &EmbeddedOptions,
) -> Result<(Option<Server>, u16, String), EmbeddedError> {
    let data_dir = std::path::absolute(&options.data_dir)
        .map_err(|err| setup("resolving the data directory", err))?;
    let pgdata = data_dir.join("pg");
    let run_dir = data_dir.join("run");
    let owner = owner::server_owner()?;

    std::fs::create_dir_all(&data_dir)
        .map_err(|err| setup(&format!("creating {}", data_dir.display()), err))?;
    // The server's owner only needs to pass through; root keeps the password file private.
    owner::set_mode(&data_dir, if owner.is_some() { 0o711 } else { 0o700 })?;
    owner::check_reachable(&data_dir, owner)?;

    let password = read_or_create_password(&data_dir)?;
    let binaries = binaries::locate()?;

    if !pgdata.join("PG_VERSION").is_file() {
        initdb(
            &binaries,
            &data_dir,
            &pgdata,
            &password,
            owner,
            options.throwaway,
        )?;
    }

    match pidfile::inspect(&pgdata) {
        Found::Running { pid, port } => {
            // Another switchyard process's, or one an operator restarted by hand: used,
            // never stopped, since we did not start it.
            tracing::info!(
                pid,
                port,
                "attaching to the embedded PostgreSQL already running on this data directory"
            );
            return Ok((None, port, password));
        }
        Found::Stopping { pid } => {
            tracing::warn!(
                pid,
                "waiting for the embedded PostgreSQL shutting down on this data directory"
            );
            if !pidfile::wait_gone(pid, Duration::from_secs(60)) {
                return Err(EmbeddedError::NotReady(format!(
                    "the PostgreSQL (pid {pid}) shutting down on {} has not exited within 60 seconds",
                    pgdata.display()
                )));
            }
        }
        Found::Nothing => {}
    }

    std::fs::create_dir_all(&run_dir).map_err(|err| setup("creating the socket directory", err))?;
    owner::chown(&run_dir, owner)?;
    owner::set_mode(&run_dir, 0o700)?;

    let port = match options.port {
        Some(port) => port,
        None => free_port()?,
    };
    let server = spawn(
        &binaries,
        &data_dir,
        &pgdata,
        &run_dir,
        port,
        owner,
        options.throwaway,
    )?;
    Ok((Some(server), port, password))
}

fn free_port() -> Result<u16, EmbeddedError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|err| setup("finding a free port", err))?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|err| setup("finding a free port", err))
}

fn tail(path: &Path, lines: usize) -> String {
    let Ok(mut file) = std::fs::File::open(path) else {
        return String::from("(no log)");
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(8192)));
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

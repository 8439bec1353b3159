//! Starting, attaching to and stopping the private cluster.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rand::distr::{Alphanumeric, SampleString};

use super::owner::{self, Owner};
use super::pidfile::{self, Found};
use super::{binaries, setup, EmbeddedError};

/// The superuser the embedded cluster is created with.
const SUPERUSER: &str = "switchyard";

/// Where and how to run the embedded cluster.
#[derive(Clone, Debug)]
pub struct EmbeddedOptions {
    /// Holds `pg/` (the cluster), `run/` (its socket), `pg-password` and `postgres.log`.
    pub data_dir: PathBuf,
    /// Turns off fsync. Only for test clusters whose data is thrown away.
    pub throwaway: bool,
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

struct Server {
    pid: i32,
    exited: Arc<(Mutex<bool>, Condvar)>,
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
        if let Some(server) = self.server.take() {
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

impl Server {
    fn has_exited(&self) -> bool {
        *self.exited.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait_exit(&self, patience: Duration) -> bool {
        let (lock, cvar) = &*self.exited;
        let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        let (guard, _) = cvar
            .wait_timeout_while(guard, patience, |exited| !*exited)
            .unwrap_or_else(|e| e.into_inner());
        *guard
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
        Found::Sibling { pid, port } => {
            tracing::info!(
                pid,
                port,
                "attaching to the embedded PostgreSQL another process runs"
            );
            return Ok((None, port, password));
        }
        Found::Orphan { pid } => {
            tracing::warn!(
                pid,
                "stopping an orphaned embedded PostgreSQL left by a killed run"
            );
            pidfile::stop(pid, Duration::from_secs(30));
        }
        Found::Nothing => {}
    }

    std::fs::create_dir_all(&run_dir).map_err(|err| setup("creating the socket directory", err))?;
    owner::chown(&run_dir, owner)?;
    owner::set_mode(&run_dir, 0o700)?;

    let port = free_port()?;
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

fn read_or_create_password(data_dir: &Path) -> Result<String, EmbeddedError> {
    let file = data_dir.join("pg-password");
    if let Ok(existing) = std::fs::read_to_string(&file) {
        return Ok(existing.trim().to_string());
    }
    let password = Alphanumeric.sample_string(&mut rand::rng(), 32);
    std::fs::write(&file, &password).map_err(|err| setup("writing pg-password", err))?;
    owner::set_mode(&file, 0o600)?;
    Ok(password)
}

fn initdb(
    binaries: &binaries::Binaries,
    data_dir: &Path,
    pgdata: &Path,
    password: &str,
    owner: Option<Owner>,
    throwaway: bool,
) -> Result<(), EmbeddedError> {
    // A directory without PG_VERSION is an initdb that was interrupted: start over.
    if pgdata.exists() {
        std::fs::remove_dir_all(pgdata)
            .map_err(|err| setup("removing an incomplete cluster directory", err))?;
    }
    std::fs::create_dir_all(pgdata).map_err(|err| setup("creating the cluster directory", err))?;
    owner::chown(pgdata, owner)?;
    owner::set_mode(pgdata, 0o700)?;

    // initdb reads the superuser password from a file the server's owner can read.
    let pwfile = data_dir.join("initdb-pwfile");
    std::fs::write(&pwfile, password)
        .map_err(|err| setup("writing the initdb password file", err))?;
    owner::chown(&pwfile, owner)?;
    owner::set_mode(&pwfile, 0o600)?;

    let mut command = Command::new(binaries.program("initdb"));
    command
        .arg("-D")
        .arg(pgdata)
        .args(["-U", SUPERUSER, "-E", "UTF8", "--locale=C"])
        .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
        .arg(format!("--pwfile={}", pwfile.display()))
        .current_dir(data_dir);
    if throwaway {
        command.arg("--no-sync");
    }
    if let Some(owner) = owner {
        command.uid(owner.uid).gid(owner.gid);
    }
    let output = command.output().map_err(|err| setup("running initdb", err));
    let _ = std::fs::remove_file(&pwfile);
    let output = output?;
    if !output.status.success() {
        return Err(EmbeddedError::Setup(format!(
            "initdb failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    tracing::info!(path = %pgdata.display(), "initialised the embedded PostgreSQL cluster");
    Ok(())
}

fn spawn(
    binaries: &binaries::Binaries,
    data_dir: &Path,
    pgdata: &Path,
    run_dir: &Path,
    port: u16,
    owner: Option<Owner>,
    throwaway: bool,
) -> Result<Server, EmbeddedError> {
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(data_dir.join("postgres.log"))
        .map_err(|err| setup("opening postgres.log", err))?;
    let log_err = log
        .try_clone()
        .map_err(|err| setup("opening postgres.log", err))?;

    // Unix socket paths are limited to about 100 bytes; deep data directories use TCP only.
    let socket_dir = if run_dir.as_os_str().len() < 90 {
        run_dir.display().to_string()
    } else {
        String::new()
    };
    let mut command = Command::new(binaries.program("postgres"));
    command
        .arg("-D")
        .arg(pgdata)
        .arg("-p")
        .arg(port.to_string())
        .args(["-c", "listen_addresses=127.0.0.1"])
        .arg("-c")
        .arg(format!("unix_socket_directories={socket_dir}"))
        .args(["-c", "max_connections=300"])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        // Its own process group: Ctrl-C in the terminal reaches us, and we stop the server
        // after the API has drained, not at the same moment.
        .process_group(0);
    if throwaway {
        command.args(["-c", "fsync=off", "-c", "full_page_writes=off"]);
    }
    if let Some(owner) = owner {
        command.uid(owner.uid).gid(owner.gid);
    }
    // SAFETY: the closure runs in the forked child before exec and only calls prctl, which
    // is async-signal-safe. It runs after the uid change, which would otherwise clear it.
    unsafe {
        command.pre_exec(|| {
            // If we die without stopping it (SIGKILL), the server gets a fast shutdown
            // instead of running on as an orphan.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }

    // The parent-death signal fires when the spawning *thread* ends, so the server is
    // spawned from a thread that lives exactly as long as the server does.
    let exited = Arc::new((Mutex::new(false), Condvar::new()));
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let exited_flag = exited.clone();
    std::thread::Builder::new()
        .name("postgres-supervisor".into())
        .spawn(move || match command.spawn() {
            Ok(mut child) => {
                let _ = started_tx.send(Ok(child.id() as i32));
                let _ = child.wait();
                let (lock, cvar) = &*exited_flag;
                *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
                cvar.notify_all();
            }
            Err(err) => {
                let _ = started_tx.send(Err(err));
            }
        })
        .map_err(|err| setup("starting the supervisor thread", err))?;
    let pid = started_rx
        .recv()
        .map_err(|err| setup("starting PostgreSQL", err))?
        .map_err(|err| setup("starting PostgreSQL", err))?;
    tracing::info!(pid, port, "embedded PostgreSQL started");
    Ok(Server { pid, exited })
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

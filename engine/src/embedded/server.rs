//! The PostgreSQL server process: spawned from a thread that lives as long as it does,
//! with a parent-death signal so that it never outlives a killed `switchyard`.

use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::binaries::Binaries;
use super::owner::Owner;
use super::{setup, EmbeddedError};

/// A server we started: its pid, and whether it has exited.
pub(super) struct Server {
    pub(super) pid: i32,
    exited: Arc<(Mutex<bool>, Condvar)>,
}

impl Server {
    pub(super) fn has_exited(&self) -> bool {
        *self.exited.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn wait_exit(&self, patience: Duration) -> bool {
        let (lock, cvar) = &*self.exited;
        let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        let (guard, _) = cvar
            .wait_timeout_while(guard, patience, |exited| !*exited)
            .unwrap_or_else(|e| e.into_inner());
        *guard
    }
}

pub(super) fn spawn(
    binaries: &Binaries,
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

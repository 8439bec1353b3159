//! What a leftover `postmaster.pid` means.
//!
//! PostgreSQL writes `postmaster.pid` into its data directory. When `switchyard` is killed
//! the file can outlive the server, or the server can outlive us. We tell apart:
//! a live server, whoever started it (attach to it: another `switchyard` process, or an
//! operator who restarted the cluster by hand with `pg_ctl`), a server already shutting
//! down (the one a killed run left gets a fast shutdown from its parent-death signal:
//! wait for it to go, then start our own), and a stale file (remove it, since a reused pid
//! could make PostgreSQL think the old server still runs). A server we did not start is
//! never stopped.

use std::path::Path;
use std::time::{Duration, Instant};

/// What the pid file says about the data directory.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// No server runs on this directory.
    Nothing,
    /// A live server started by someone else: connect to it on `port`.
    Running { pid: i32, port: u16 },
    /// A server that is shutting down: wait for it to exit.
    Stopping { pid: i32 },
}

/// Reads `postmaster.pid` in `pgdata` and classifies it, removing it when stale.
pub fn inspect(pgdata: &Path) -> Found {
    let file = pgdata.join("postmaster.pid");
    let Ok(text) = std::fs::read_to_string(&file) else {
        return Found::Nothing;
    };
    let mut lines = text.lines();
    let pid: i32 = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    let port: u16 = text
        .lines()
        .nth(3)
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    if pid <= 0 || !is_postgres(pid) {
        let _ = std::fs::remove_file(&file);
        return Found::Nothing;
    }
    // The eighth line is the postmaster's status: `starting`, `ready`, `stopping`, `standby`.
    let status = text.lines().nth(7).map(str::trim).unwrap_or_default();
    classify(pid, port, status)
}

fn classify(pid: i32, port: u16, status: &str) -> Found {
    if status == "stopping" || port == 0 {
        Found::Stopping { pid }
    } else {
        Found::Running { pid, port }
    }
}

/// Waits for the server at `pid` to exit by itself, for at most `patience`; returns
/// whether it did.
pub fn wait_gone(pid: i32, patience: Duration) -> bool {
    let deadline = Instant::now() + patience;
    while is_alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    !is_alive(pid)
}

fn is_alive(pid: i32) -> bool {
    // A zombie still has a /proc entry; its state letter is Z.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
            .unwrap_or(false),
        Err(_) => false,
    }
}

fn is_postgres(pid: i32) -> bool {
    is_alive(pid)
        && std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .map(|comm| comm.trim().starts_with("postgres"))
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_server_is_attached_to_whoever_started_it() {
        assert_eq!(
            classify(42, 5432, "ready"),
            Found::Running {
                pid: 42,
                port: 5432
            }
        );
        assert_eq!(
            classify(42, 5432, "starting"),
            Found::Running {
                pid: 42,
                port: 5432
            }
        );
        assert_eq!(classify(42, 5432, "stopping"), Found::Stopping { pid: 42 });
        assert_eq!(classify(42, 0, "ready"), Found::Stopping { pid: 42 });
    }
}

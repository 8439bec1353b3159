//! What a leftover `postmaster.pid` means.
//!
//! PostgreSQL writes `postmaster.pid` into its data directory. When `switchyard` is killed
//! the file can outlive the server, or the server can outlive us. We tell apart:
//! a server owned by another live process on this data directory (attach to it), an orphan
//! whose parent is gone (stop it, then start our own), and a stale file (remove it, since a
//! reused pid could make PostgreSQL think the old server still runs).

use std::path::Path;
use std::time::{Duration, Instant};

/// What the pid file says about the data directory.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// No server runs on this directory.
    Nothing,
    /// A live server started by another live process: connect to it on `port`.
    Sibling { pid: i32, port: u16 },
    /// A live server whose starter is gone.
    Orphan { pid: i32 },
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
    match parent_of(pid) {
        Some(parent) if parent > 1 && is_alive(parent) && port > 0 => Found::Sibling { pid, port },
        _ => Found::Orphan { pid },
    }
}

/// Asks the server at `pid` for a fast shutdown and waits for it to exit; escalates to an
/// immediate shutdown after `patience`.
pub fn stop(pid: i32, patience: Duration) {
    // SAFETY: kill with a valid signal number has no memory-safety preconditions.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let deadline = Instant::now() + patience;
    while is_alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if is_alive(pid) {
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGQUIT) };
        while is_alive(pid) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
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

fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name: state, ppid, ...
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

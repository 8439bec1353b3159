//! A private PostgreSQL cluster started from the system's server binaries, used when no
//! `DATABASE_URL` is given (the default for `serve`, `demo` and the tests).
//!
//! - [`binaries`]: finding `initdb` and `postgres`, or saying how to install them.
//! - [`owner`]: who runs the server (the `postgres` user when we are root).
//! - [`pidfile`]: what a leftover `postmaster.pid` means: a live sibling to attach to, an
//!   orphan to stop, or a stale file to remove.
//! - `initdb` and `server`: creating the cluster, and the server process itself.
//! - [`cluster`]: start-up, readiness, attaching, and a clean stop.

pub mod binaries;
pub mod cluster;
mod initdb;
pub mod owner;
pub mod pidfile;
mod server;

pub use cluster::{EmbeddedOptions, EmbeddedPostgres};

use thiserror::Error;

/// Why the embedded cluster could not be started.
#[derive(Debug, Error)]
pub enum EmbeddedError {
    /// No server binaries were found; the message says how to install them.
    #[error("{0}")]
    MissingBinaries(String),
    /// A setup step failed; the message names the step and the path involved.
    #[error("{0}")]
    Setup(String),
    /// The server started but did not become ready; includes the end of its log.
    #[error("{0}")]
    NotReady(String),
}

pub(crate) fn setup(what: &str, err: impl std::fmt::Display) -> EmbeddedError {
    EmbeddedError::Setup(format!("{what}: {err}"))
}

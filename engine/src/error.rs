//! Errors shared by every storage operation.

use thiserror::Error;

/// A failure of the database itself, as opposed to a domain rule.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database could not be reached or no connection was free in time.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A query failed for a reason that is not the caller's fault.
    #[error("database error: {0}")]
    Query(#[source] tokio_postgres::Error),
    /// A stored row does not have the shape the engine wrote.
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(err: tokio_postgres::Error) -> Self {
        // A closed connection, a server shutting down, a full disk or memory, a failing
        // disk, or a transaction PostgreSQL chose to abort (serialization failure,
        // deadlock) is an outage, not a bug: nothing was written, so callers answer 503
        // with Retry-After and retry rather than logging a 500.
        let outage = err.is_closed()
            || err.code().is_some_and(|code| {
                let code = code.code();
                ["08", "53", "57P", "58"].iter().any(|class| code.starts_with(class))
                    || code == "40001"
                    || code == "40P01"
            })
            // Connecting failed (refused, reset, timed out): the error wraps an I/O error.
            || std::error::Error::source(&err).is_some_and(|s| s.is::<std::io::Error>());
        if outage {
            StoreError::Unavailable(err.to_string())
        } else {
            StoreError::Query(err)
        }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(err: deadpool_postgres::PoolError) -> Self {
        match err {
            deadpool_postgres::PoolError::Backend(err) => err.into(),
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}

impl StoreError {
    /// The SQLSTATE and constraint name of a failed query, for mapping to domain errors.
    pub fn constraint(&self) -> Option<&str> {
        match self {
            StoreError::Query(err) => err.as_db_error().and_then(|db| db.constraint()),
            _ => None,
        }
    }
}

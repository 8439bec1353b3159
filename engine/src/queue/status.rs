//! What a queued item is doing ([`Status`], the one place a status is spelled) and where
//! it stands ([`Progress`], the queue's own columns as every kind's view shows them).

use chrono::{DateTime, Utc};

use crate::StoreError;

/// Where a queued item stands: the queue's own columns as every kind's view reads and
/// shows them (flattened into [`crate::job::outbox::ActionRun`] and
/// [`crate::subscription::delivery_log::DeliveryView`]).
#[derive(
    Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, postgres_from_row::FromRow,
)]
pub struct Progress {
    pub status: Status,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The columns [`Progress`] reads, for a `SELECT` list.
pub const PROGRESS_COLUMNS: &str =
    "status, attempts, next_attempt_at, last_status_code, last_error, created_at, updated_at";

/// What a queued item is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Behind an earlier item of its lane.
    Waiting,
    /// Due at `next_attempt_at`.
    Pending,
    /// Held by a worker under a lease.
    Running,
    Succeeded,
    Failed,
    /// Not attempted: an earlier item of its lane failed.
    Skipped,
    /// No longer wanted (a timer whose job left the state).
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Waiting,
        Status::Pending,
        Status::Running,
        Status::Succeeded,
        Status::Failed,
        Status::Skipped,
        Status::Cancelled,
    ];

    /// The status as stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Waiting => "waiting",
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Cancelled => "cancelled",
        }
    }

    /// The status as an SQL literal, for a filter that a partial index must match.
    pub const fn literal(self) -> &'static str {
        match self {
            Status::Waiting => "'waiting'",
            Status::Pending => "'pending'",
            Status::Running => "'running'",
            Status::Succeeded => "'succeeded'",
            Status::Failed => "'failed'",
            Status::Skipped => "'skipped'",
            Status::Cancelled => "'cancelled'",
        }
    }

    /// Reads a stored status.
    pub fn parse(text: &str) -> Result<Status, StoreError> {
        Status::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown queue status '{text}'")))
    }

    /// Whether the item will not be attempted again (unless redelivered by hand).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Succeeded | Status::Failed | Status::Skipped | Status::Cancelled
        )
    }
}

crate::stored_as_text!(Status, |text| Status::parse(text).ok());

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_as_written() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()).unwrap(), s);
        }
        assert!(Status::parse("done").is_err());
        assert!(Status::Skipped.is_final() && !Status::Pending.is_final());
        for s in Status::ALL {
            assert_eq!(s.literal(), format!("'{}'", s.as_str()));
        }
    }
}

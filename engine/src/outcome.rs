//! How one outbound request ended, as the ledger and the delivery log record it.

use serde::{Deserialize, Serialize};

use crate::StoreError;

/// The outcome of one request (or of an attempt that sent none).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A 2xx answer.
    Succeeded,
    /// Any other answer.
    Failed,
    /// No answer within the timeout.
    Timeout,
    /// No answer: the connection failed.
    NetworkError,
    /// No request left (the payload did not render, the target was refused, …).
    NotSent,
}

impl Outcome {
    pub const ALL: [Outcome; 5] = [
        Outcome::Succeeded,
        Outcome::Failed,
        Outcome::Timeout,
        Outcome::NetworkError,
        Outcome::NotSent,
    ];

    /// The outcome as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Timeout => "timeout",
            Outcome::NetworkError => "network_error",
            Outcome::NotSent => "not_sent",
        }
    }

    /// Reads a stored outcome.
    pub fn parse(text: &str) -> Result<Outcome, StoreError> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == text)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown outcome '{text}'")))
    }
}

crate::stored_as_text!(Outcome, |text| Outcome::parse(text).ok());

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_read_back_and_serialise_as_stored() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()).unwrap(), o);
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
        assert!(Outcome::parse("maybe").is_err());
    }
}

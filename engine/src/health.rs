//! How a connection or a subscription has been doing, from its recent requests.

use serde::{Deserialize, Serialize};

use crate::StoreError;

/// `unknown` until a request has been made, then `healthy` or `failing`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Unknown,
    Healthy,
    Failing,
}

impl Health {
    pub const ALL: [Health; 3] = [Health::Unknown, Health::Healthy, Health::Failing];

    /// The health as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Healthy => "healthy",
            Health::Failing => "failing",
        }
    }

    /// Reads a stored health.
    pub fn parse(text: &str) -> Result<Health, StoreError> {
        Health::ALL
            .into_iter()
            .find(|h| h.as_str() == text)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown health '{text}'")))
    }
}

crate::stored_as_text!(Health, |text| Health::parse(text).ok());

impl std::fmt::Display for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Health;

    #[test]
    fn health_reads_back_as_written() {
        for h in Health::ALL {
            assert_eq!(Health::parse(h.as_str()).unwrap(), h);
        }
        assert!(Health::parse("ok").is_err());
    }
}

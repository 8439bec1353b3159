//! A destination's flow as its view shows it: its limits and, while held, until when and
//! why. Connections and subscriptions flatten it into their views, and read it with the
//! same columns ([`flow_columns!`]).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Limits;

/// How a destination may be called, and whether it is held now.
#[derive(Clone, Debug, Default, Serialize, postgres_from_row::FromRow)]
pub struct FlowView {
    /// How often and how many at once it is called.
    pub limits: Limits,
    /// Its requests wait until then, and why: `rate`, `concurrency`, `retry-after`,
    /// `circuit` (open after consecutive failures) or `probe` (one request deciding).
    pub held_until: Option<DateTime<Utc>>,
    pub held_reason: Option<String>,
}

/// The `SELECT` list of a [`FlowView`], a literal for `concat!`: a hold that has passed
/// reads as none.
macro_rules! flow_columns {
    () => {
        "limits, CASE WHEN held_until > now() THEN held_until END AS held_until, \
         CASE WHEN held_until > now() THEN held_reason END AS held_reason"
    };
}
pub(crate) use flow_columns;

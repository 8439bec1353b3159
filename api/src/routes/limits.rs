//! The `limits` object that connections, the webhook connector and subscriptions take
//! and show: `{"rate": "<N>/s" | "<N>/m" | "<N>/h", "concurrency": <N>}`.

use poem_openapi::types::MaybeUndefined;
use poem_openapi::Object;
use serde::Deserialize;
use switchyard_engine::flow::{FlowView, Limits};

use crate::problem::ApiError;

/// How often and how many at once a destination is called; both optional. Waiting for a
/// limit is not an attempt and not a failure.
#[derive(Object, Deserialize, Clone, Debug, Default)]
pub struct LimitsBody {
    /// At most N requests in any second, minute or hour: `"<N>/s"`, `"<N>/m"` or
    /// `"<N>/h"`, N from 1 to 1000.
    pub rate: Option<String>,
    /// At most N requests in flight at once, 1 to 1000.
    pub concurrency: Option<i64>,
}

impl LimitsBody {
    /// The limits, or a 422 naming `limits.rate` or `limits.concurrency`.
    pub fn parse(&self) -> Result<Limits, ApiError> {
        Limits::parse(self.rate.as_deref(), self.concurrency)
            .map_err(|p| ApiError::invalid(p.field, format!("{}: {}", p.field, p.message)))
    }

    /// Optional limits on a create.
    pub fn parse_given(body: Option<&LimitsBody>) -> Result<Limits, ApiError> {
        body.map_or(Ok(Limits::default()), LimitsBody::parse)
    }

    /// A change: left out keeps them, `null` removes them.
    pub fn parse_change(body: &MaybeUndefined<LimitsBody>) -> Result<Option<Limits>, ApiError> {
        match body {
            MaybeUndefined::Undefined => Ok(None),
            MaybeUndefined::Null => Ok(Some(Limits::default())),
            MaybeUndefined::Value(body) => body.parse().map(Some),
        }
    }
}

impl From<Limits> for LimitsBody {
    fn from(l: Limits) -> Self {
        LimitsBody {
            rate: l.rate.map(|r| r.to_string()),
            concurrency: l.concurrency.map(i64::from),
        }
    }
}

/// A destination's limits and hold as a body shows them, declared once for the bodies of
/// connections, the webhook connector and subscriptions, in each route's naming.
macro_rules! flow_body {
    ($name:ident, $case:literal) => {
        /// How a destination may be called, and whether its requests wait now.
        #[derive(Object)]
        #[oai(rename_all = $case)]
        pub struct $name {
            limits: LimitsBody,
            /// Its requests wait until then (a rate window, all concurrency slots in
            /// flight, a `Retry-After`, an open circuit or a probe deciding), and why.
            held_until: Option<chrono::DateTime<chrono::Utc>>,
            /// `rate`, `concurrency`, `retry-after`, `circuit` or `probe`.
            held_reason: Option<String>,
        }

        impl From<FlowView> for $name {
            fn from(f: FlowView) -> Self {
                $name {
                    limits: f.limits.into(),
                    held_until: f.held_until,
                    held_reason: f.held_reason,
                }
            }
        }
    };
}

flow_body!(FlowBody, "snake_case");
flow_body!(FlowBodyCamel, "camelCase");

//! The worker's side of flow control ([`switchyard_engine::flow`]): ask before a request
//! leaves, tell what came back. A destination with no limits and no recent failures costs
//! nothing here: its items skip admission, and a success is not written.

use std::time::Duration;

use chrono::Utc;
use switchyard_engine::flow::{self, Admission, Destination, Limits, Observation};
use uuid::Uuid;

use super::Inner;

/// One item's passage through its destination's gate.
pub(super) struct Pass {
    dest: Destination,
    item: Uuid,
    /// A concurrency slot is held (freed by [`Pass::observe`] or its lease).
    slot: bool,
    /// This request decides whether an open circuit closes.
    probe: bool,
    /// The destination had failures when the item was claimed: a success resets them.
    failing: bool,
}

/// What the gate said.
pub(super) enum Gate {
    Go(Pass),
    /// The destination is held or paused: give the item back untouched.
    Wait {
        reason: &'static str,
    },
}

/// Asks the gate for `item`. `always`: admission runs even without limits or failures (a
/// subscription always has a rate, the server's default when it sets none). When the
/// gate cannot be read the item waits too: sending past a pause or an open circuit is
/// worse than a moment's delay, and its outcome could not be recorded anyway.
pub(super) async fn admit(
    inner: &Inner,
    dest: Destination,
    item: Uuid,
    limits: Limits,
    failures: i32,
    lease: Duration,
    always: bool,
) -> Gate {
    let breaker = inner.breaker;
    let open = failures >= breaker.failures as i32;
    let mut pass = Pass {
        dest,
        item,
        slot: false,
        probe: false,
        failing: failures > 0,
    };
    if !always && limits.is_empty() && !open {
        return Gate::Go(pass);
    }
    match flow::admit(&inner.pool, dest, item, limits, breaker, lease).await {
        Ok(Admission::Go { probe }) => {
            pass.slot = limits.concurrency.is_some();
            pass.probe = probe;
            Gate::Go(pass)
        }
        Ok(Admission::Wait { reason, .. }) => Gate::Wait { reason },
        Err(err) => {
            tracing::warn!(error = %err, "could not read the destination's flow state; the item waits");
            Gate::Wait {
                reason: "unreadable",
            }
        }
    }
}

impl Pass {
    /// Records what the request showed, when there is anything to record. `detail`
    /// (what the item was, the status and error) goes into a circuit's health event.
    pub(super) async fn observe(
        self,
        inner: &Inner,
        status: Option<u16>,
        sent: bool,
        retry_after: Option<Duration>,
        detail: serde_json::Value,
    ) {
        let observation = Observation::of(status, sent, retry_after, Utc::now());
        let quiet = !self.slot && !self.probe && !observation.matters();
        if quiet && !(self.failing && observation == Observation::Answered) {
            return;
        }
        let written = super::persist::through_outage(|| {
            flow::observe(
                &inner.pool,
                self.dest,
                self.item,
                self.slot,
                observation,
                inner.breaker,
                &detail,
            )
        })
        .await;
        if let Err(err) = written {
            tracing::warn!(error = %err, "could not record the destination's flow state");
        }
    }
}

//! What flow control speaks of: a destination, the breaker's settings, whether an item
//! may go ([`Admission`]), what its answer said ([`Observation`]), and why a destination
//! is held ([`reason`]). Plain data, shared by the gate and its decisions.

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// What is being called.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Destination {
    Connection(Uuid),
    Subscription(Uuid),
}

impl Destination {
    pub fn id(self) -> Uuid {
        match self {
            Destination::Connection(id) | Destination::Subscription(id) => id,
        }
    }

    pub(super) fn table(self) -> &'static str {
        match self {
            Destination::Connection(_) => "connections",
            Destination::Subscription(_) => "webhook_subscriptions",
        }
    }
}

/// The circuit breaker's settings (`SWITCHYARD_BREAKER_FAILURES`,
/// `SWITCHYARD_BREAKER_COOLDOWN`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Breaker {
    /// Consecutive failures (network error, timeout, 5xx) that open the circuit.
    pub failures: u32,
    /// How long an open circuit holds the destination before one probe decides.
    pub cooldown: Duration,
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker {
            failures: 5,
            cooldown: Duration::from_secs(30),
        }
    }
}

/// Whether a claimed item may be sent now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Send it. `probe`: the circuit was open and this request decides whether it closes.
    Go { probe: bool },
    /// Give it back untouched; the destination is held (until the time, if known) or
    /// paused. Its items are not claimed again before then.
    Wait {
        reason: &'static str,
        until: Option<DateTime<Utc>>,
    },
}

/// What a request's answer says about its destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observation {
    /// It answered (any status that is not a failure or a throttle): it is up.
    Answered,
    /// A network error, a timeout or a 5xx: counts towards opening the circuit.
    Failed,
    /// 429, or 503 with `Retry-After`: the whole destination waits until then.
    Throttled(DateTime<Utc>),
    /// No request left (the payload did not render, the target was refused).
    NotSent,
}

impl Observation {
    /// From a response's status, whether it failed without one, and its `Retry-After`.
    pub fn of(
        status: Option<u16>,
        sent: bool,
        retry_after: Option<Duration>,
        now: DateTime<Utc>,
    ) -> Observation {
        let throttle = |wait: Duration| {
            Observation::Throttled(now + chrono::Duration::from_std(wait).unwrap_or_default())
        };
        match (status, retry_after) {
            _ if !sent => Observation::NotSent,
            (Some(429), Some(wait)) | (Some(503), Some(wait)) => throttle(wait),
            // A 429 without a time still asks us to slow down: a second's hold.
            (Some(429), None) => throttle(Duration::from_secs(1)),
            (Some(code), _) if code >= 500 => Observation::Failed,
            (Some(_), _) => Observation::Answered,
            (None, _) => Observation::Failed,
        }
    }

    /// Whether [`observe`] has anything to write when nothing was limited or failing.
    pub fn matters(self) -> bool {
        !matches!(self, Observation::Answered | Observation::NotSent)
    }
}

/// Why a destination is held, as stored in `held_reason`.
pub mod reason {
    pub const RATE: &str = "rate";
    pub const CONCURRENCY: &str = "concurrency";
    pub const RETRY_AFTER: &str = "retry-after";
    pub const CIRCUIT: &str = "circuit";
    pub const PROBE: &str = "probe";
    pub const PAUSED: &str = "paused";
}

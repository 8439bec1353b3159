//! Event subscriptions and their deliveries (seed 002), the side that touches the outside.
//!
//! - [`subscriptions`]: creating and changing subscriptions: check, seal, store.
//! - [`payload`]: the delivery body and its signed headers.
//! - [`deliver`]: one attempt of one delivery, and what is recorded.

pub mod deliver;
pub mod payload;
pub mod subscriptions;

use std::time::Duration;

/// The limits and retry schedule of subscription deliveries (seed 002's defaults).
#[derive(Clone, Debug)]
pub struct DeliveryConfig {
    /// Delay before each attempt; its length is the number of attempts.
    pub retry_schedule: Vec<Duration>,
    /// Deliveries per minute per subscription; the excess waits.
    pub per_minute: i32,
    /// Subscriptions per tenant.
    pub max_subscriptions: i64,
    /// The largest delivery body.
    pub max_payload_bytes: usize,
    /// Refuse subscription URLs that are not `https`.
    pub require_https: bool,
    /// How long a receiver has to answer.
    pub timeout: Duration,
    /// How long a replaced signing secret keeps signing beside the new one.
    pub secret_overlap: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            retry_schedule: [0, 60, 300, 1800, 7200]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
            per_minute: 100,
            max_subscriptions: 10,
            max_payload_bytes: 256 * 1024,
            require_https: false,
            timeout: Duration::from_secs(10),
            secret_overlap: crate::rotation::DEFAULT_OVERLAP,
        }
    }
}

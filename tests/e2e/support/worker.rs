//! The worker configuration tests run with.

use switchyard_actions::deliveries::DeliveryConfig;
use switchyard_actions::egress::EgressPolicy;
use switchyard_actions::providers::ProviderEndpoints;
use switchyard_actions::worker::WorkerConfig;

/// A worker that polls quickly, recovers expired leases quickly, retries deliveries
/// after milliseconds (five attempts, like the default) and closes a circuit after a
/// short cooldown, so tests do not wait.
pub fn test_worker(endpoints: ProviderEndpoints, allow_private: bool) -> WorkerConfig {
    let ms = std::time::Duration::from_millis;
    WorkerConfig {
        concurrency: 16,
        poll_interval: std::time::Duration::from_millis(50),
        recovery_interval: std::time::Duration::from_millis(200),
        policy: EgressPolicy {
            allow_private,
            allowed: Vec::new(),
        },
        endpoints,
        deliveries: DeliveryConfig {
            retry_schedule: vec![ms(0), ms(50), ms(100), ms(150), ms(200)],
            ..DeliveryConfig::default()
        },
        listen: None,
        drain_timeout: std::time::Duration::from_secs(20),
        breaker: switchyard_engine::flow::Breaker {
            failures: 5,
            cooldown: ms(200),
        },
    }
}

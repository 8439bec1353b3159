//! Request limits per tenant and per client address, in this process: a token bucket of
//! requests per tenant (seed 004's rate limiting per tenant), a bucket of failed
//! authentications per client address, so API keys cannot be guessed at speed, and for
//! intake a bucket per endpoint and a bound on each tenant's intake requests in flight.
//! All answer 429 with `Retry-After`. Several processes each keep their own buckets.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use poem::http::StatusCode;
use switchyard_engine::TenantId;

use crate::problem::{ApiError, Problem};

/// The limits; 0 turns one off.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RequestLimits {
    /// Sustained requests per second per tenant (bursts of twice as many pass).
    pub tenant_per_second: u32,
    /// Failed authentications per minute per client address before it must wait.
    pub auth_failures_per_minute: u32,
    /// Sustained requests per second per intake endpoint (bursts of twice as many pass).
    pub intake_per_second: u32,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            tenant_per_second: 200,
            auth_failures_per_minute: 30,
            intake_per_second: 50,
        }
    }
}

impl RequestLimits {
    /// No limits (benchmarks, and tests that measure something else).
    pub const OFF: RequestLimits = RequestLimits {
        tenant_per_second: 0,
        auth_failures_per_minute: 0,
        intake_per_second: 0,
    };
}

/// The most intake requests of one tenant routed at once in this process: a tenant whose
/// routes wait (its jobs locked, its database work slow) holds this many connections and
/// threads at most.
pub const INTAKE_IN_FLIGHT_PER_TENANT: usize = 16;

/// The buckets.
#[derive(Debug)]
pub struct Throttle {
    limits: RequestLimits,
    tenants: Buckets<TenantId>,
    failures: Buckets<IpAddr>,
    endpoints: Buckets<uuid::Uuid>,
    intake_in_flight: Arc<Mutex<HashMap<TenantId, usize>>>,
}

impl Throttle {
    /// Empty buckets under `limits`.
    pub fn new(limits: RequestLimits) -> Self {
        Throttle {
            limits,
            tenants: Buckets::default(),
            failures: Buckets::default(),
            endpoints: Buckets::default(),
            intake_in_flight: Arc::default(),
        }
    }

    /// Counts one request to intake endpoint `endpoint`; 429 when its bucket is empty.
    pub fn intake_request(&self, endpoint: uuid::Uuid) -> Result<(), ApiError> {
        let rate = f64::from(self.limits.intake_per_second);
        if rate == 0.0 {
            return Ok(());
        }
        self.endpoints.take(endpoint, rate * 2.0, rate).map_err(|wait| {
            too_many(
                wait,
                format!(
                    "this intake endpoint is over its limit of {} requests per second; retry after {wait} s",
                    self.limits.intake_per_second
                ),
            )
        })
    }

    /// One of `tenant`'s [`INTAKE_IN_FLIGHT_PER_TENANT`] intake slots, held until the
    /// guard drops; 429 when all are taken.
    pub fn intake_slot(&self, tenant: TenantId) -> Result<IntakeSlot, ApiError> {
        let mut map = self
            .intake_in_flight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let n = map.entry(tenant).or_default();
        if *n >= INTAKE_IN_FLIGHT_PER_TENANT {
            return Err(too_many(
                1,
                format!(
                    "this tenant has {INTAKE_IN_FLIGHT_PER_TENANT} intake requests in flight; retry after 1 s"
                ),
            ));
        }
        *n += 1;
        Ok(IntakeSlot {
            tenant,
            map: self.intake_in_flight.clone(),
        })
    }

    /// Counts one request of `tenant`; 429 when its bucket is empty.
    pub fn tenant_request(&self, tenant: TenantId) -> Result<(), ApiError> {
        let rate = f64::from(self.limits.tenant_per_second);
        if rate == 0.0 {
            return Ok(());
        }
        self.tenants.take(tenant, rate * 2.0, rate).map_err(|wait| {
            too_many(
                wait,
                format!(
                    "this tenant is over its limit of {} requests per second; retry after {wait} s",
                    self.limits.tenant_per_second
                ),
            )
        })
    }

    /// 429 when `client` has failed authentication too often lately.
    pub fn check_client(&self, client: Option<IpAddr>) -> Result<(), ApiError> {
        self.failure_budget(client, false)
    }

    /// Takes one of `client`'s failed-authentication tokens before a password is checked,
    /// so that guesses sent at once count as guesses sent one after another; 429 when
    /// none is left. A password that matches gives it back ([`Throttle::refund`]).
    pub fn attempt(&self, client: Option<IpAddr>) -> Result<(), ApiError> {
        self.failure_budget(client, true)
    }

    fn failure_budget(&self, client: Option<IpAddr>, take: bool) -> Result<(), ApiError> {
        let (Some(ip), per_minute) = (client, self.limits.auth_failures_per_minute) else {
            return Ok(());
        };
        if per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(per_minute);
        self.failures
            .with(ip, capacity, capacity / 60.0, take)
            .map_err(|wait| {
                too_many(
                    wait,
                    format!(
                        "too many failed authentications from this address; retry after {wait} s"
                    ),
                )
            })
    }

    /// Gives back the token [`Throttle::attempt`] took: the attempt succeeded.
    pub fn refund(&self, client: Option<IpAddr>) {
        let per_minute = self.limits.auth_failures_per_minute;
        if let (Some(ip), true) = (client, per_minute > 0) {
            self.failures.give(ip, f64::from(per_minute));
        }
    }

    /// Counts a failed authentication of `client`.
    pub fn auth_failed(&self, client: Option<IpAddr>) {
        let per_minute = self.limits.auth_failures_per_minute;
        if let (Some(ip), true) = (client, per_minute > 0) {
            let capacity = f64::from(per_minute);
            let _ = self.failures.take(ip, capacity, capacity / 60.0);
        }
    }
}

/// A tenant's intake request in flight; dropping it frees the slot.
pub struct IntakeSlot {
    tenant: TenantId,
    map: Arc<Mutex<HashMap<TenantId, usize>>>,
}

impl Drop for IntakeSlot {
    fn drop(&mut self) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.tenant) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.tenant);
            }
        }
    }
}

fn too_many(wait: u64, detail: String) -> ApiError {
    let mut problem = Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate-limited",
        "Too many requests",
        detail,
    );
    problem.retry_after = Some(wait);
    problem.into()
}

/// Token buckets by key. Full, idle buckets are dropped when the map grows, so memory
/// stays bounded by the number of recently active keys.
#[derive(Debug)]
struct Buckets<K>(Mutex<HashMap<K, (f64, Instant)>>);

impl<K> Default for Buckets<K> {
    fn default() -> Self {
        Buckets(Mutex::new(HashMap::new()))
    }
}

const PRUNE_ABOVE: usize = 10_000;

impl<K: Eq + Hash + Copy> Buckets<K> {
    /// Takes a token; `Err(seconds until one is back)` when there is none.
    fn take(&self, key: K, capacity: f64, per_second: f64) -> Result<(), u64> {
        self.with(key, capacity, per_second, true)
    }

    /// Puts a token back, up to `capacity`.
    fn give(&self, key: K, capacity: f64) {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((tokens, _)) = map.get_mut(&key) {
            *tokens = (*tokens + 1.0).min(capacity);
        }
    }

    /// Whether a token is there, taking it when `take`.
    fn with(&self, key: K, capacity: f64, per_second: f64, take: bool) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if map.len() > PRUNE_ABOVE {
            map.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * per_second < capacity
            });
        }
        let (tokens, at) = map.entry(key).or_insert((capacity, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * per_second).min(capacity);
        *at = now;
        if *tokens >= 1.0 {
            if take {
                *tokens -= 1.0;
            }
            Ok(())
        } else {
            Err(((1.0 - *tokens) / per_second).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_and_names_the_wait() {
        let buckets: Buckets<u8> = Buckets::default();
        for _ in 0..3 {
            assert!(buckets.take(1, 3.0, 0.5).is_ok());
        }
        assert_eq!(buckets.take(1, 3.0, 0.5), Err(2));
        assert!(buckets.take(2, 3.0, 0.5).is_ok(), "keys are independent");
    }

    #[test]
    fn a_tenants_intake_slots_are_bounded_and_freed() {
        let throttle = Throttle::new(RequestLimits::OFF);
        let (a, b) = (
            TenantId(uuid::Uuid::new_v4()),
            TenantId(uuid::Uuid::new_v4()),
        );
        let held: Vec<_> = (0..INTAKE_IN_FLIGHT_PER_TENANT)
            .map(|_| throttle.intake_slot(a).ok().unwrap())
            .collect();
        assert!(throttle.intake_slot(a).is_err());
        assert!(throttle.intake_slot(b).is_ok(), "tenants are independent");
        drop(held);
        assert!(throttle.intake_slot(a).is_ok());
    }

    #[test]
    fn failed_authentications_block_their_address_only() {
        let throttle = Throttle::new(RequestLimits {
            auth_failures_per_minute: 2,
            ..RequestLimits::OFF
        });
        let a = Some("10.0.0.1".parse().unwrap());
        let b = Some("10.0.0.2".parse().unwrap());
        throttle.auth_failed(a);
        assert!(throttle.check_client(a).is_ok());
        throttle.auth_failed(a);
        assert!(throttle.check_client(a).is_err());
        assert!(throttle.check_client(b).is_ok());
    }

    #[test]
    fn attempts_take_their_token_first_and_a_success_gives_it_back() {
        let throttle = Throttle::new(RequestLimits {
            auth_failures_per_minute: 2,
            ..RequestLimits::OFF
        });
        let a = Some("10.0.0.1".parse().unwrap());
        assert!(throttle.attempt(a).is_ok());
        throttle.refund(a);
        assert!(throttle.attempt(a).is_ok());
        assert!(throttle.attempt(a).is_ok());
        // Two guesses in flight at once used the budget: a third is refused before it is
        // checked.
        assert!(throttle.attempt(a).is_err());
    }
}

//! When to try again: the action's schedule (default immediate, 1 min, 5 min, 30 min,
//! 2 h), with jitter, or the receiver's `Retry-After`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use switchyard_engine::definition::{parse_duration, RetryPolicy, MAX_DURATION};

const DEFAULT_SCHEDULE: [u64; 5] = [0, 60, 300, 1800, 7200];
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The delay before the attempt after `attempt` (1-based), or `None` when attempts are
/// used up. A schedule lists the delay before each attempt; its first entry belongs to
/// the first attempt.
pub fn next_delay(
    policy: Option<&RetryPolicy>,
    attempt: i32,
    retry_after: Option<Duration>,
) -> Option<Duration> {
    let schedule: Vec<Duration> = policy
        .and_then(|p| p.schedule.as_ref())
        .map(|s| s.iter().filter_map(|d| parse_duration(d).ok()).collect())
        .unwrap_or_else(|| {
            DEFAULT_SCHEDULE
                .iter()
                .map(|s| Duration::from_secs(*s))
                .collect()
        });
    let max_attempts = policy
        .and_then(|p| p.max_attempts)
        .map(|m| m as usize)
        .unwrap_or(schedule.len().max(1));
    bounded(&schedule, max_attempts, attempt, retry_after)
}

/// The delay before the attempt after `attempt` on a plain schedule, whose length is the
/// number of attempts (subscription deliveries).
pub fn next_delay_in(
    schedule: &[Duration],
    attempt: i32,
    retry_after: Option<Duration>,
) -> Option<Duration> {
    bounded(schedule, schedule.len().max(1), attempt, retry_after)
}

fn bounded(
    schedule: &[Duration],
    max_attempts: usize,
    attempt: i32,
    retry_after: Option<Duration>,
) -> Option<Duration> {
    let next = attempt.max(0) as usize; // index of the next attempt's delay
    if next >= max_attempts {
        return None;
    }
    if let Some(wait) = retry_after {
        return Some(wait.min(MAX_RETRY_AFTER));
    }
    let base = schedule
        .get(next)
        .or(schedule.last())
        .copied()
        .unwrap_or_default();
    Some(jitter(base.min(MAX_DURATION)))
}

/// The time `delay` from now; saturates instead of overflowing the calendar.
pub fn due_at(delay: Duration) -> DateTime<Utc> {
    let delay = chrono::Duration::from_std(delay.min(MAX_DURATION)).unwrap_or_default();
    Utc::now()
        .checked_add_signed(delay)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Spreads retries by up to ±10% so a burst of failures does not retry in lockstep.
fn jitter(base: Duration) -> Duration {
    if base.is_zero() {
        return base;
    }
    let factor = rand::rng().random_range(0.9..1.1);
    base.mul_f64(factor)
}

/// Parses `Retry-After`: seconds, or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_has_five_attempts() {
        let second = next_delay(None, 1, None).unwrap();
        assert!(
            (Duration::from_secs(54)..=Duration::from_secs(66)).contains(&second),
            "about a minute, give or take the jitter: {second:?}"
        );
        assert!(next_delay(None, 4, None).unwrap() > Duration::from_secs(6000));
        assert_eq!(next_delay(None, 5, None), None);
    }

    #[test]
    fn a_custom_schedule_and_retry_after_apply() {
        let policy = RetryPolicy {
            max_attempts: Some(3),
            schedule: Some(vec!["0s".into(), "2s".into()]),
        };
        assert!(next_delay(Some(&policy), 1, None).unwrap() <= Duration::from_millis(2200));
        assert!(
            next_delay(Some(&policy), 2, None).unwrap() >= Duration::from_millis(1800),
            "the last delay repeats"
        );
        assert_eq!(next_delay(Some(&policy), 3, None), None);
        assert_eq!(
            next_delay(Some(&policy), 1, Some(Duration::from_secs(7))),
            Some(Duration::from_secs(7))
        );
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("soon"), None);
    }
}

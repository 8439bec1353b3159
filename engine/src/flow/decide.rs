//! What an observation does to a destination's flow state: plain data in, plain data
//! out, so every rule of holds and the circuit breaker is tested without a database.

use chrono::{DateTime, Utc};

use super::destination::{reason, Breaker, Observation};

/// The destination's flow state, as [`decide`] reads and writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Flow {
    pub failures: i32,
    pub held_until: Option<DateTime<Utc>>,
    pub held_reason: Option<String>,
}

/// A circuit opening or closing, for its health event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CircuitChange {
    Opened { until: DateTime<Utc>, failures: i32 },
    Closed,
}

/// What `observation` does to a destination's flow state.
pub(crate) fn decide(
    before: &Flow,
    observation: Observation,
    breaker: Breaker,
    now: DateTime<Utc>,
) -> (Flow, Option<CircuitChange>) {
    let threshold = breaker.failures.max(1) as i32;
    let reason = before.held_reason.as_deref();
    let cooldown = now + chrono::Duration::from_std(breaker.cooldown).unwrap_or_default();
    // Holds that last only while a request is out end with its answer.
    let transient = matches!(reason, Some(reason::CONCURRENCY) | Some(reason::PROBE));
    let kept = |flow: &Flow| Flow {
        held_until: if transient { None } else { flow.held_until },
        held_reason: if transient {
            None
        } else {
            flow.held_reason.clone()
        },
        ..flow.clone()
    };
    match observation {
        Observation::NotSent => (kept(before), None),
        Observation::Answered => {
            let closed = before.failures >= threshold;
            let circuit_hold = matches!(reason, Some(reason::CIRCUIT));
            let mut after = kept(before);
            after.failures = 0;
            if circuit_hold {
                after.held_until = None;
                after.held_reason = None;
            }
            (after, closed.then_some(CircuitChange::Closed))
        }
        Observation::Failed => {
            let failures = before.failures.saturating_add(1);
            let mut after = kept(before);
            after.failures = failures;
            if failures < threshold {
                return (after, None);
            }
            let opened = before.failures < threshold;
            // Already open (a request that was out when it opened): the cooldown stands.
            if !matches!(reason, Some(reason::CIRCUIT)) || opened {
                after.held_until = Some(cooldown);
                after.held_reason = Some(reason::CIRCUIT.into());
            }
            let change = opened.then_some(CircuitChange::Opened {
                until: cooldown,
                failures,
            });
            (after, change)
        }
        Observation::Throttled(until) => {
            let mut after = kept(before);
            let current = after.held_until.filter(|held| *held > now);
            if current.is_none_or(|held| held < until) {
                after.held_until = Some(until);
                after.held_reason = Some(reason::RETRY_AFTER.into());
            }
            (after, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn open() -> Flow {
        Flow {
            failures: 0,
            held_until: None,
            held_reason: None,
        }
    }

    const BREAKER: Breaker = Breaker {
        failures: 3,
        cooldown: Duration::from_secs(30),
    };

    #[test]
    fn the_circuit_opens_after_consecutive_failures_and_a_probe_closes_it() {
        let mut flow = open();
        for n in 1..=2 {
            let (after, change) = decide(&flow, Observation::Failed, BREAKER, at(0));
            assert_eq!((after.failures, change), (n, None));
            flow = after;
        }
        let (after, change) = decide(&flow, Observation::Failed, BREAKER, at(0));
        assert_eq!(
            change,
            Some(CircuitChange::Opened {
                until: at(30),
                failures: 3
            })
        );
        assert_eq!(after.held_until, Some(at(30)));
        // A straggler's failure keeps the cooldown and says nothing more.
        let (straggler, change) = decide(&after, Observation::Failed, BREAKER, at(5));
        assert_eq!((straggler.held_until, change), (Some(at(30)), None));
        // The probe fails: open again for a cooldown, no second event.
        let probing = Flow {
            held_until: Some(at(90)),
            held_reason: Some(reason::PROBE.into()),
            ..straggler
        };
        let (reopened, change) = decide(&probing, Observation::Failed, BREAKER, at(31));
        assert_eq!((reopened.held_until, change), (Some(at(61)), None));
        // The next probe succeeds: closed, counted from zero.
        let probing = Flow {
            held_reason: Some(reason::PROBE.into()),
            ..reopened
        };
        let (closed, change) = decide(&probing, Observation::Answered, BREAKER, at(62));
        assert_eq!(change, Some(CircuitChange::Closed));
        assert_eq!(closed, open());
    }

    #[test]
    fn a_success_in_between_resets_the_count() {
        let (one, _) = decide(&open(), Observation::Failed, BREAKER, at(0));
        let (reset, change) = decide(&one, Observation::Answered, BREAKER, at(1));
        assert_eq!((reset.failures, change), (0, None));
    }

    #[test]
    fn retry_after_holds_the_destination_and_only_extends_it() {
        let (held, _) = decide(&open(), Observation::Throttled(at(20)), BREAKER, at(0));
        assert_eq!(held.held_until, Some(at(20)));
        assert_eq!(held.held_reason.as_deref(), Some(reason::RETRY_AFTER));
        let (same, _) = decide(&held, Observation::Throttled(at(10)), BREAKER, at(1));
        assert_eq!(same.held_until, Some(at(20)));
        // Not a failure: the circuit count does not move.
        assert_eq!(same.failures, 0);
    }

    #[test]
    fn an_answer_frees_a_concurrency_hold_but_not_a_rate_window() {
        let full = Flow {
            held_until: Some(at(40)),
            held_reason: Some(reason::CONCURRENCY.into()),
            ..open()
        };
        assert_eq!(
            decide(&full, Observation::Answered, BREAKER, at(1)).0,
            open()
        );
        let window = Flow {
            held_reason: Some(reason::RATE.into()),
            ..full
        };
        assert_eq!(
            decide(&window, Observation::Answered, BREAKER, at(1)).0,
            window
        );
    }
}

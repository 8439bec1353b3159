//! Budgets for evaluating what tenants wrote: guards and payload templates are code from
//! untrusted designers, run over data from untrusted services. Every evaluation gets a
//! [`Budget`] of steps, bytes of intermediate values and wall-clock time; running out is a
//! named error ([`Exceeded`]) that fails that one guard or action, never the process.
//! The defaults are [`Limits::GUARD`] and [`Limits::TEMPLATE`]; an operator may set others
//! for the process at start-up ([`configure`]).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use thiserror::Error;

/// The limits of one evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Operations evaluated (guard nodes, template loop iterations).
    pub steps: u64,
    /// Bytes of values produced along the way (copies, concatenations, rendered output).
    pub bytes: usize,
    /// Wall-clock time.
    pub time: Duration,
}

impl Limits {
    /// Guards: JSONLogic rules over the template context.
    pub const GUARD: Limits = Limits {
        steps: 100_000,
        bytes: 4 * 1024 * 1024,
        time: Duration::from_millis(100),
    };

    /// Payload templates: one action's path and body.
    pub const TEMPLATE: Limits = Limits {
        steps: 100_000,
        bytes: 4 * 1024 * 1024,
        time: Duration::from_millis(250),
    };

    /// These limits with an hour to run: tests that name the step or memory budget must
    /// not lose to the clock on a loaded machine.
    #[cfg(test)]
    pub(crate) const fn untimed(self) -> Limits {
        Limits {
            time: Duration::from_secs(3600),
            ..self
        }
    }
}

/// The limits this process evaluates guards and templates under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budgets {
    pub guard: Limits,
    pub template: Limits,
}

impl Default for Budgets {
    fn default() -> Self {
        Budgets {
            guard: Limits::GUARD,
            template: Limits::TEMPLATE,
        }
    }
}

static CONFIGURED: OnceLock<Budgets> = OnceLock::new();

/// Sets this process's budgets, once, at start-up (later calls change nothing).
pub fn configure(budgets: Budgets) {
    let _ = CONFIGURED.set(budgets);
}

/// The configured budgets, or the defaults.
pub fn current() -> Budgets {
    CONFIGURED.get().copied().unwrap_or_default()
}

/// Which limit an evaluation ran out of.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum Exceeded {
    #[error("the step budget ({0} operations) was exhausted")]
    Steps(u64),
    #[error("the memory budget ({0} bytes of intermediate values) was exhausted")]
    Bytes(usize),
    #[error("the time budget ({0} ms) was exhausted")]
    Time(u128),
}

/// What is left of one evaluation's limits.
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    steps: u64,
    bytes: usize,
    deadline: Instant,
}

impl Budget {
    /// A fresh budget; the clock starts now.
    pub fn new(limits: Limits) -> Self {
        Budget {
            limits,
            steps: 0,
            bytes: 0,
            deadline: Instant::now() + limits.time,
        }
    }

    /// Counts `n` operations; the clock is read every 256 of them.
    pub fn steps(&mut self, n: u64) -> Result<(), Exceeded> {
        let before = self.steps;
        self.steps = self.steps.saturating_add(n);
        if self.steps > self.limits.steps {
            return Err(Exceeded::Steps(self.limits.steps));
        }
        if before / 256 != self.steps / 256 {
            self.check_time()?;
        }
        Ok(())
    }

    /// Counts `n` bytes of values produced.
    pub fn bytes(&mut self, n: usize) -> Result<(), Exceeded> {
        self.bytes = self.bytes.saturating_add(n);
        if self.bytes > self.limits.bytes {
            return Err(Exceeded::Bytes(self.limits.bytes));
        }
        Ok(())
    }

    /// Fails once the deadline has passed.
    pub fn check_time(&self) -> Result<(), Exceeded> {
        if Instant::now() > self.deadline {
            return Err(Exceeded::Time(self.limits.time.as_millis()));
        }
        Ok(())
    }
}

/// The size of a JSON value as a budget counts it: about its serialised length.
pub fn json_size(value: &serde_json::Value) -> usize {
    use serde_json::Value;
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) => 8,
        Value::String(s) => s.len() + 2,
        Value::Array(items) => items.iter().map(json_size).sum::<usize>() + 2,
        Value::Object(map) => {
            map.iter()
                .map(|(k, v)| k.len() + 3 + json_size(v))
                .sum::<usize>()
                + 2
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_and_bytes_run_out_with_a_named_limit() {
        let mut budget = Budget::new(Limits {
            steps: 10,
            bytes: 100,
            time: Duration::from_secs(5),
        });
        assert!(budget.steps(10).is_ok());
        assert_eq!(budget.steps(1), Err(Exceeded::Steps(10)));
        assert!(budget.bytes(100).is_ok());
        assert_eq!(budget.bytes(1), Err(Exceeded::Bytes(100)));
    }

    #[test]
    fn the_clock_is_read_as_steps_pass() {
        let mut budget = Budget::new(Limits {
            steps: u64::MAX,
            bytes: usize::MAX,
            time: Duration::ZERO,
        });
        std::thread::sleep(Duration::from_millis(2));
        assert!(matches!(budget.steps(300), Err(Exceeded::Time(0))));
    }
}

//! The budgets designers' guards and templates are evaluated under: flags and variables,
//! checked at start-up (README: Security).

use std::time::Duration;

use clap::Args;
use switchyard_engine::budget::{Budgets, Limits};

/// The evaluation budget settings.
#[derive(Clone, Debug, Args)]
pub struct BudgetArgs {
    /// Operations one guard evaluation may take.
    #[arg(long, env = "SWITCHYARD_GUARD_MAX_STEPS", default_value_t = Limits::GUARD.steps, global = true)]
    pub guard_max_steps: u64,
    /// Bytes of intermediate values one guard evaluation may produce.
    #[arg(long, env = "SWITCHYARD_GUARD_MAX_BYTES", default_value_t = Limits::GUARD.bytes, global = true)]
    pub guard_max_bytes: usize,
    /// Milliseconds one guard evaluation may take.
    #[arg(long, env = "SWITCHYARD_GUARD_MAX_MS", default_value_t = Limits::GUARD.time.as_millis() as u64, global = true)]
    pub guard_max_ms: u64,
    /// Steps (loop iterations and writes) rendering one action's payload may take.
    #[arg(long, env = "SWITCHYARD_TEMPLATE_MAX_STEPS", default_value_t = Limits::TEMPLATE.steps, global = true)]
    pub template_max_steps: u64,
    /// Bytes of output and copied values rendering one action's payload may produce.
    #[arg(long, env = "SWITCHYARD_TEMPLATE_MAX_BYTES", default_value_t = Limits::TEMPLATE.bytes, global = true)]
    pub template_max_bytes: usize,
    /// Milliseconds rendering one action's payload may take.
    #[arg(long, env = "SWITCHYARD_TEMPLATE_MAX_MS", default_value_t = Limits::TEMPLATE.time.as_millis() as u64, global = true)]
    pub template_max_ms: u64,
}

impl BudgetArgs {
    /// The budgets, checked: every limit at least 1.
    pub fn budgets(&self) -> anyhow::Result<Budgets> {
        let values = [
            ("SWITCHYARD_GUARD_MAX_STEPS", self.guard_max_steps),
            ("SWITCHYARD_GUARD_MAX_BYTES", self.guard_max_bytes as u64),
            ("SWITCHYARD_GUARD_MAX_MS", self.guard_max_ms),
            ("SWITCHYARD_TEMPLATE_MAX_STEPS", self.template_max_steps),
            (
                "SWITCHYARD_TEMPLATE_MAX_BYTES",
                self.template_max_bytes as u64,
            ),
            ("SWITCHYARD_TEMPLATE_MAX_MS", self.template_max_ms),
        ];
        for (name, value) in values {
            anyhow::ensure!(value >= 1, "{name} must be at least 1");
        }
        Ok(Budgets {
            guard: Limits {
                steps: self.guard_max_steps,
                bytes: self.guard_max_bytes,
                time: Duration::from_millis(self.guard_max_ms),
            },
            template: Limits {
                steps: self.template_max_steps,
                bytes: self.template_max_bytes,
                time: Duration::from_millis(self.template_max_ms),
            },
        })
    }
}

//! The worker's timer side: one due timer fired, as the actor `timer`.

use std::sync::Arc;

use switchyard_engine::metrics;
use switchyard_engine::timer::{self, ClaimedTimer, Fired};
use switchyard_engine::StoreError;

use super::kind::{Handled, Kind};
use super::{persist, Inner};

/// Timers, each fired as a transition by the actor `timer`.
pub(super) struct Timers;

impl Kind for Timers {
    type Item = ClaimedTimer;
    const NAME: &'static str = "timers";
    const SHARE: usize = 2;

    #[tracing::instrument(skip_all, fields(timer.id = %t.id, job.id = %t.job_id))]
    async fn process(inner: Arc<Inner>, t: ClaimedTimer) -> Handled {
        match persist::through_outage(|| timer::fire(&inner.pool, &t)).await {
            Ok(Fired::Applied) => metrics::timer("fired"),
            Ok(Fired::Cancelled(reason)) => {
                metrics::timer("cancelled");
                tracing::info!(%reason, "a timer found its job moved on")
            }
            Ok(Fired::Stale) => {
                tracing::warn!(
                    "the lease expired before the timer was recorded; another attempt owns it"
                )
            }
            Err(err @ StoreError::Unavailable(_)) => {
                tracing::warn!(error = %err, "database unavailable while firing a timer; giving it back");
                return Handled::GiveBack { at: None };
            }
            Err(err) => {
                tracing::error!(error = %err, "could not fire a timer; its lease will return it to the queue")
            }
        }
        // The transition may have queued actions.
        Handled::Done
    }
}

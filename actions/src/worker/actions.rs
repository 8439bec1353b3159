//! The worker's action side: one claimed run attempted, and its outcome recorded.

use std::sync::Arc;
use std::time::Duration;

use switchyard_engine::flow::Destination;
use switchyard_engine::job::lane::{ClaimedRun, Recorded};
use switchyard_engine::metrics;
use switchyard_engine::outcome::Outcome;

use super::kind::{Handled, Kind};
use super::{attempt, flow, isolate, outcome, Inner};

/// Action runs: each job's actions in order, different jobs in parallel.
pub(super) struct Actions;

impl Kind for Actions {
    type Item = ClaimedRun;
    const NAME: &'static str = "action runs";

    #[tracing::instrument(skip_all, fields(action.id = %run.id, job.id = %run.job_id, action.attempt = run.attempt))]
    async fn process(inner: Arc<Inner>, run: ClaimedRun) -> Handled {
        let pass = match run.connection_id {
            Some(connection) => {
                let lease = attempt::timeout(&run) + Duration::from_secs(30);
                let dest = Destination::Connection(connection);
                match flow::admit(&inner, dest, run.id, run.limits, run.failures, lease, false)
                    .await
                {
                    flow::Gate::Go(pass) => Some(pass),
                    flow::Gate::Wait { reason } => {
                        // Held or paused: back in its place in the lane, not an attempt.
                        tracing::debug!(reason, "the connection is held; the action waits");
                        return Handled::GiveBack { at: None };
                    }
                }
            }
            None => None,
        };
        let attempted = isolate::isolated(attempt::attempt(&inner, &run))
            .await
            .unwrap_or_else(|error| attempt::Attempted::NotSent { error });
        if let Some(pass) = pass {
            let (status, sent, retry_after, error) = match &attempted {
                attempt::Attempted::Sent(sent) => (
                    sent.response.status,
                    true,
                    sent.response.retry_after(),
                    sent.response.problem(),
                ),
                _ => (None, false, None, None),
            };
            let detail = serde_json::json!({
                "action_id": run.id, "job_id": run.job_id, "status_code": status, "last_error": error,
            });
            pass.observe(&inner, status, sent, retry_after, detail)
                .await;
        }
        let give_back = match &attempted {
            attempt::Attempted::Deferred(err) => {
                tracing::warn!(error = %err, "database unavailable while preparing an action; giving it back");
                true
            }
            attempt::Attempted::Drained => {
                tracing::info!("stopping before the request left; giving the action back");
                true
            }
            _ => false,
        };
        if give_back {
            return Handled::GiveBack { at: None };
        }
        let recording =
            match isolate::isolated(async { outcome::recording(&run, &attempted) }).await {
                Ok(recording) => recording,
                Err(error) => outcome::recording(&run, &attempt::Attempted::NotSent { error }),
            };
        count(&attempted);
        match inner.recorder.record(run, recording).await {
            Ok(Recorded::Done) => {}
            Ok(Recorded::Stale) => tracing::warn!(
                "the lease expired before the outcome was recorded; another attempt owns the run"
            ),
            Err(err) => {
                tracing::error!(error = %err, "could not record an action outcome; its lease will return it to the queue")
            }
        }
        // The lane may have released its next action.
        Handled::Done
    }
}

/// The attempt in [`switchyard_engine::metrics::ACTION_ATTEMPTS`].
fn count(attempted: &attempt::Attempted) {
    match attempted {
        attempt::Attempted::Sent(sent) => metrics::action_attempt(
            sent.provider.as_str(),
            sent.response.outcome(),
            sent.response.status,
            Some(sent.response.duration),
        ),
        attempt::Attempted::NotSent { .. } => {
            metrics::action_attempt("none", Outcome::NotSent, None, None)
        }
        attempt::Attempted::Deferred(_) | attempt::Attempted::Drained => {}
    }
}

//! The worker's subscription side: fan new events out into deliveries, then claim due
//! deliveries and send them, each held to its subscription's per-minute limit.

use std::sync::Arc;
use std::time::Duration;

use switchyard_engine::subscription::delivery::{self, ClaimedDelivery};

use switchyard_engine::flow::{Destination, Limits, Rate};
use switchyard_engine::metrics;
use switchyard_engine::outcome::Outcome;
use switchyard_engine::subscription::dispatch;

use tokio::sync::watch;

use super::kind::{Handled, Kind};
use super::{flow, isolate, Inner};
use crate::deliveries::deliver;
use crate::WorkerSignal;

/// Events fanned out per pass.
const DISPATCH_BATCH: i64 = 500;

/// The least time between two fan-out passes. A busy worker finishes an item every
/// fraction of a millisecond and each pass is a transaction: pacing them lets one pass
/// carry the events of many commits.
const DISPATCH_GAP: Duration = Duration::from_millis(10);

/// Fans new events out to subscriptions until `stop` turns true. It runs as a task of its
/// own beside the claiming loop, so that a pass never delays a claim: after each pass it
/// waits [`DISPATCH_GAP`], then for new events (or `poll`) unless the pass was full.
pub(super) async fn fan_out(
    inner: Arc<Inner>,
    signal: WorkerSignal,
    poll: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let full = isolate::isolated(dispatch_once(&inner, &signal))
            .await
            .unwrap_or(false);
        tokio::time::sleep(DISPATCH_GAP).await;
        if full {
            continue;
        }
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = signal.events_woken() => {}
            _ = tokio::time::sleep(poll) => {}
        }
    }
}

/// One pass; returns whether it was full (more events may be waiting).
async fn dispatch_once(inner: &Inner, signal: &WorkerSignal) -> bool {
    match dispatch::dispatch(&inner.pool, DISPATCH_BATCH).await {
        Ok(done) => {
            if done.deliveries > 0 {
                signal.wake();
            }
            done.events >= DISPATCH_BATCH as u64
        }
        Err(err) => {
            tracing::warn!(error = %err, "could not fan events out to subscriptions");
            false
        }
    }
}

/// Subscription deliveries, each held to its subscription's rate limit.
pub(super) struct Deliveries;

impl Kind for Deliveries {
    type Item = ClaimedDelivery;
    const NAME: &'static str = "deliveries";

    #[tracing::instrument(skip_all, fields(delivery.id = %d.id, subscription.id = %d.subscription_id, delivery.attempt = d.attempt))]
    async fn process(inner: Arc<Inner>, d: ClaimedDelivery) -> Handled {
        // Without a rate of its own, a subscription gets the server's per-minute default.
        let limits = Limits {
            rate: d.limits.rate.or(Some(Rate::per_minute(
                inner.deliveries.per_minute.max(1) as u32
            ))),
            ..d.limits
        };
        let lease = inner.deliveries.timeout + Duration::from_secs(30);
        let dest = Destination::Subscription(d.subscription_id);
        let pass = match flow::admit(&inner, dest, d.id, limits, d.failures, lease, true).await {
            flow::Gate::Go(pass) => pass,
            flow::Gate::Wait { reason } => {
                // Held: back to the queue uncounted, not claimed again until the hold ends.
                tracing::debug!(reason, "the subscription is held; the delivery waits");
                return Handled::GiveBack { at: None };
            }
        };
        let attempt = deliver::attempt(&inner.keyring, &inner.sender, &inner.deliveries, &d);
        let recording = super::isolate::isolated(attempt)
            .await
            .unwrap_or_else(deliver::not_sent);
        let sent = recording.outcome != Outcome::NotSent;
        let status = recording.status_code.and_then(|c| u16::try_from(c).ok());
        let detail = serde_json::json!({
            "delivery_id": d.id, "event_id": d.event_id,
            "status_code": recording.status_code, "error": recording.error,
        });
        pass.observe(&inner, status, sent, recording.retry_after, detail)
            .await;
        metrics::delivery_attempt(
            recording.outcome,
            recording.status_code.and_then(|c| u16::try_from(c).ok()),
            sent.then(|| Duration::from_millis(recording.duration_ms.max(0) as u64)),
        );
        match super::persist::through_outage(|| delivery::record(&inner.pool, &d, &recording)).await
        {
            Ok(true) => {}
            Ok(false) => tracing::warn!("the lease expired before the delivery was recorded"),
            Err(err) => {
                tracing::error!(error = %err, "could not record a delivery; its lease will return it to the queue")
            }
        }
        Handled::Done
    }
}

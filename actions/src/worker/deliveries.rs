//! The worker's subscription side: fan new events out into deliveries, then claim due
//! deliveries and send them, each held to its subscription's per-minute limit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use switchyard_engine::subscription::delivery::{self, ClaimedDelivery};

use switchyard_engine::subscription::dispatch;

use super::Inner;
use crate::deliveries::deliver;
use crate::WorkerSignal;

/// Events fanned out per pass.
const DISPATCH_BATCH: i64 = 500;

/// The least time between two fan-out passes. A busy worker loops after every finished
/// item, and each pass is a transaction: pacing them lets one pass carry the events of
/// many commits.
const DISPATCH_GAP: Duration = Duration::from_millis(10);

/// Paces fan-out passes; a pass asked for too soon is owed, and the loop comes back for it.
pub(super) struct Pacer {
    next: Instant,
    owed: bool,
}

impl Pacer {
    pub(super) fn new() -> Pacer {
        Pacer {
            next: Instant::now(),
            owed: false,
        }
    }

    /// One dispatch pass if one is due; returns whether it moved past any event (there may
    /// be more).
    pub(super) async fn dispatch(&mut self, inner: &Inner) -> bool {
        let now = Instant::now();
        if now < self.next {
            self.owed = true;
            return false;
        }
        self.next = now + DISPATCH_GAP;
        self.owed = false;
        match dispatch::dispatch(&inner.pool, DISPATCH_BATCH).await {
            Ok(done) => done.events > 0,
            Err(err) => {
                tracing::warn!(error = %err, "could not fan events out to subscriptions");
                false
            }
        }
    }

    /// When the loop must run again for an owed pass.
    pub(super) fn owed_at(&self) -> Option<Instant> {
        self.owed.then_some(self.next)
    }
}

#[tracing::instrument(skip_all, fields(delivery.id = %d.id, subscription.id = %d.subscription_id, delivery.attempt = d.attempt))]
pub(super) async fn process(inner: Arc<Inner>, d: ClaimedDelivery, signal: WorkerSignal) {
    match delivery::take_slot(&inner.pool, d.subscription_id, inner.deliveries.per_minute).await {
        Ok(None) => {}
        Ok(Some(free_at)) => {
            // Over the limit: wait for a slot, uncounted; nothing is dropped.
            if let Err(err) =
                super::persist::through_outage(|| delivery::defer(&inner.pool, &d, free_at)).await
            {
                tracing::warn!(error = %err, "could not defer a rate-limited delivery; its lease will");
            }
            return;
        }
        Err(err) => {
            tracing::warn!(error = %err, "could not check the rate limit; trying again shortly");
            let later = Utc::now() + chrono::Duration::seconds(1);
            let _ = delivery::defer(&inner.pool, &d, later).await;
            return;
        }
    }
    let attempt = deliver::attempt(&inner.keyring, &inner.sender, &inner.deliveries, &d);
    let recording = super::isolate::isolated(attempt)
        .await
        .unwrap_or_else(deliver::not_sent);
    match super::persist::through_outage(|| delivery::record(&inner.pool, &d, &recording)).await {
        Ok(true) => {}
        Ok(false) => tracing::warn!("the lease expired before the delivery was recorded"),
        Err(err) => {
            tracing::error!(error = %err, "could not record a delivery; its lease will return it to the queue")
        }
    }
    // A slot is free: look again now.
    signal.wake();
}

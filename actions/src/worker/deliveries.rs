//! The worker's subscription side: fan new events out into deliveries, then claim due
//! deliveries and send them, each held to its subscription's per-minute limit.

use std::sync::Arc;

use chrono::Utc;
use switchyard_engine::subscription::delivery::{self, ClaimedDelivery};

use switchyard_engine::subscription::dispatch;

use super::Inner;
use crate::deliveries::deliver;
use crate::WorkerSignal;

/// Events fanned out per pass.
const DISPATCH_BATCH: i64 = 500;

/// One dispatch pass; returns whether it moved past any event (there may be more).
pub(super) async fn dispatch(inner: &Inner) -> bool {
    match dispatch::dispatch(&inner.pool, DISPATCH_BATCH).await {
        Ok(done) => done.events > 0,
        Err(err) => {
            tracing::warn!(error = %err, "could not fan events out to subscriptions");
            false
        }
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

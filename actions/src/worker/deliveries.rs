//! The worker's subscription side: fan new events out into deliveries, then claim due
//! deliveries and send them, each held to its subscription's per-minute limit.

use std::sync::Arc;

use chrono::Utc;
use switchyard_engine::subscription::delivery::{self, ClaimedDelivery};
use switchyard_engine::subscription::dispatch;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::Inner;
use crate::deliveries::deliver;

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

/// Claims as many due deliveries as there are free slots and starts them.
pub(super) async fn claim_into(inner: &Arc<Inner>, permits: &Arc<Semaphore>) -> usize {
    let free = permits.available_permits();
    if free == 0 {
        return 0;
    }
    let claimed = match delivery::claim(&inner.pool, free as i64).await {
        Ok(claimed) => claimed,
        Err(err) => {
            tracing::warn!(error = %err, "could not claim deliveries");
            return 0;
        }
    };
    let count = claimed.len();
    for d in claimed {
        let permit = permits
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        tokio::spawn(process(inner.clone(), d, permit));
    }
    count
}

#[tracing::instrument(skip_all, fields(delivery.id = %d.id, subscription.id = %d.subscription_id, delivery.attempt = d.attempt))]
async fn process(inner: Arc<Inner>, d: ClaimedDelivery, _permit: OwnedSemaphorePermit) {
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
}

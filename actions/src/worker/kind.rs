//! The kinds of queued work the worker runs, behind one trait: each claims from the one
//! work queue ([`switchyard_engine::queue`]), recovers expired leases, and processes one
//! claimed item. The worker's loop knows nothing else about a kind, so timers join by
//! implementing [`Kind`].

use std::future::Future;
use std::sync::Arc;

use switchyard_engine::job::lane::{self, ClaimedRun};
use switchyard_engine::subscription::delivery::{self, ClaimedDelivery};
use switchyard_engine::{Pool, StoreError};

use super::Inner;
use crate::WorkerSignal;

/// One kind of queued work.
pub(super) trait Kind: 'static {
    type Item: Send + 'static;
    /// What the log calls these items.
    const NAME: &'static str;

    /// Claims up to `limit` due items under a lease.
    fn claim(
        pool: &Pool,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<Self::Item>, StoreError>> + Send;

    /// Returns items whose lease expired to the queue.
    fn recover(pool: &Pool) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Attempts one claimed item and records its outcome; wakes the worker when done (a
    /// slot is free, and the outcome may have made more work due).
    fn process(
        inner: Arc<Inner>,
        item: Self::Item,
        signal: WorkerSignal,
    ) -> impl Future<Output = ()> + Send + 'static;
}

/// Action runs: each job's actions in order, different jobs in parallel.
pub(super) struct Actions;

impl Kind for Actions {
    type Item = ClaimedRun;
    const NAME: &'static str = "action runs";

    fn claim(
        pool: &Pool,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<ClaimedRun>, StoreError>> + Send {
        lane::claim(pool, limit)
    }

    fn recover(pool: &Pool) -> impl Future<Output = Result<u64, StoreError>> + Send {
        lane::recover_expired(pool)
    }

    fn process(
        inner: Arc<Inner>,
        item: ClaimedRun,
        signal: WorkerSignal,
    ) -> impl Future<Output = ()> + Send + 'static {
        super::actions::process(inner, item, signal)
    }
}

/// Subscription deliveries, each held to its subscription's rate limit.
pub(super) struct Deliveries;

impl Kind for Deliveries {
    type Item = ClaimedDelivery;
    const NAME: &'static str = "deliveries";

    fn claim(
        pool: &Pool,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<ClaimedDelivery>, StoreError>> + Send {
        delivery::claim(pool, limit)
    }

    fn recover(pool: &Pool) -> impl Future<Output = Result<u64, StoreError>> + Send {
        delivery::recover_expired(pool)
    }

    fn process(
        inner: Arc<Inner>,
        item: ClaimedDelivery,
        signal: WorkerSignal,
    ) -> impl Future<Output = ()> + Send + 'static {
        super::deliveries::process(inner, item, signal)
    }
}

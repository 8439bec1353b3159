//! The kinds of queued work the worker runs, behind one trait: each claims from the one
//! work queue ([`switchyard_engine::queue`]), recovers expired leases, and processes one
//! claimed item. The worker's loop knows nothing else about a kind, so timers join by
//! implementing [`Kind`].

use std::future::Future;
use std::sync::Arc;

use switchyard_engine::job::lane::{self, ClaimedRun};
use switchyard_engine::queue::Queue;
use switchyard_engine::subscription::delivery::{self, ClaimedDelivery};
use switchyard_engine::timer::{self, ClaimedTimer};
use switchyard_engine::{Pool, StoreError, TenantId};

use super::Inner;
use crate::WorkerSignal;

/// One kind of queued work.
pub(super) trait Kind: 'static {
    type Item: Send + 'static;
    /// What the log calls these items.
    const NAME: &'static str;
    /// One claim of this kind takes at most 1/SHARE of all slots, so that a burst of it
    /// (thousands of timers due at once) cannot starve the other kinds.
    const SHARE: usize = 1;

    /// The kind's queue (which tenants have due work).
    const QUEUE: &'static Queue;

    /// Claims up to `limit` of `tenant`'s due items under a lease.
    fn claim(
        pool: &Pool,
        tenant: TenantId,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<Self::Item>, StoreError>> + Send;

    /// Whose item this is: the share it counts against.
    fn tenant(item: &Self::Item) -> TenantId;

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

    const QUEUE: &'static Queue = &lane::ACTIONS;

    fn claim(
        pool: &Pool,
        tenant: TenantId,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<ClaimedRun>, StoreError>> + Send {
        lane::claim(pool, tenant, limit)
    }

    fn tenant(item: &ClaimedRun) -> TenantId {
        item.tenant_id
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

    const QUEUE: &'static Queue = &delivery::DELIVERIES;

    fn claim(
        pool: &Pool,
        tenant: TenantId,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<ClaimedDelivery>, StoreError>> + Send {
        delivery::claim(pool, tenant, limit)
    }

    fn tenant(item: &ClaimedDelivery) -> TenantId {
        item.tenant_id
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

/// Timers, each fired as a transition by the actor `timer`.
pub(super) struct Timers;

impl Kind for Timers {
    type Item = ClaimedTimer;
    const NAME: &'static str = "timers";
    const SHARE: usize = 2;

    const QUEUE: &'static Queue = &timer::TIMERS;

    fn claim(
        pool: &Pool,
        tenant: TenantId,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<ClaimedTimer>, StoreError>> + Send {
        timer::claim(pool, tenant, limit)
    }

    fn tenant(item: &ClaimedTimer) -> TenantId {
        item.tenant_id
    }

    fn recover(pool: &Pool) -> impl Future<Output = Result<u64, StoreError>> + Send {
        timer::recover_expired(pool)
    }

    fn process(
        inner: Arc<Inner>,
        item: ClaimedTimer,
        signal: WorkerSignal,
    ) -> impl Future<Output = ()> + Send + 'static {
        super::timers::process(inner, item, signal)
    }
}

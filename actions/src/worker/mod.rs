//! The action worker: claims due action runs in batches under a lease, runs each job's
//! actions one at a time in commit order (the lane is kept by the engine: only one run of
//! a job is ever due), different jobs in parallel up to a concurrency limit, and records
//! every outcome. Many workers, in one process or many, may share one database.
//!
//! Every kind of queued work (action runs, deliveries, timers) runs through one trait,
//! [`kind::Kind`], and one loop: claim into free slots, process (or give back), wake.
//!
//! - [`attempt`]: render, decrypt just in time, build, guard, send.
//! - [`outcome`]: success, retry or failure, and what the log and ledger get.
//! - [`retry`]: the schedule, jitter and `Retry-After`.
//! - [`persist`]: outcomes survive a database outage: their writes are retried.
//! - `recorder`: action outcomes written in batches, many per transaction.
//! - [`isolate`]: a panic on one item fails that item, not the loop.
//! - `share`: every tenant with work gets its fair share of the slots.
//! - [`deliveries`]: a task beside the loop fans new events out to subscriptions; the
//!   loop sends their deliveries, sharing the concurrency limit.
//! - `flow`: each destination's limits, holds and circuit breaker, asked before a request
//!   leaves and told what came back.
//! - `actions`: one action run attempted and recorded.
//! - `timers`: one due timer fired as a transition by the actor `timer`.

mod actions;
pub mod attempt;
pub mod deliveries;
mod flow;
pub mod isolate;
mod kind;
pub mod outcome;
pub mod persist;
mod recorder;
pub mod retry;
mod share;
mod timers;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use switchyard_engine::flow::Breaker;
use switchyard_engine::queue::{self, Item};
use switchyard_engine::{timer, wake, Pool, TenantId};
use tokio::sync::Semaphore;

use crate::deliveries::DeliveryConfig;
use crate::egress::EgressPolicy;
use crate::providers::ProviderEndpoints;
use crate::sender::Sender;
use crate::vault::Keyring;
use crate::WorkerSignal;
use actions::Actions;
use deliveries::Deliveries;
use kind::{Handled, Kind};
use timers::Timers;

/// How a worker runs.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Actions in flight at once (`SWITCHYARD_WORKER_CONCURRENCY`).
    pub concurrency: usize,
    /// How often to look for due work nobody woke us for (other processes' commits,
    /// scheduled retries).
    pub poll_interval: Duration,
    /// How often to return expired leases to the queue.
    pub recovery_interval: Duration,
    pub policy: EgressPolicy,
    pub endpoints: ProviderEndpoints,
    /// Subscription deliveries: schedule and limits.
    pub deliveries: DeliveryConfig,
    /// The database URL to LISTEN on for work other processes commit
    /// ([`switchyard_engine::wake`]); `None` polls only.
    pub listen: Option<String>,
    /// How long a stopping worker waits for its requests in flight
    /// (`SWITCHYARD_DRAIN_TIMEOUT`).
    pub drain_timeout: Duration,
    /// When a destination's circuit opens, and for how long
    /// (`SWITCHYARD_BREAKER_FAILURES`, `SWITCHYARD_BREAKER_COOLDOWN`).
    pub breaker: Breaker,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            concurrency: 64,
            poll_interval: Duration::from_millis(250),
            recovery_interval: Duration::from_secs(5),
            policy: EgressPolicy::default(),
            endpoints: ProviderEndpoints::default(),
            deliveries: DeliveryConfig::default(),
            listen: None,
            drain_timeout: Duration::from_secs(20),
            breaker: Breaker::default(),
        }
    }
}

/// What every attempt shares.
pub struct Inner {
    pub(crate) pool: Pool,
    pub(crate) keyring: Arc<Keyring>,
    pub(crate) sender: Sender,
    pub(crate) endpoints: ProviderEndpoints,
    pub(crate) deliveries: DeliveryConfig,
    pub(crate) recorder: recorder::Recorder,
    pub(crate) breaker: Breaker,
    /// Set when the worker is asked to stop: an item whose request has not left yet is
    /// given back instead of sent.
    pub(crate) draining: std::sync::atomic::AtomicBool,
}

impl Inner {
    /// Whether the worker is stopping; see [`Inner::draining`].
    pub(crate) fn draining(&self) -> bool {
        self.draining.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A worker; [`Worker::run`] until shutdown.
pub struct Worker {
    inner: Arc<Inner>,
    config: WorkerConfig,
    signal: WorkerSignal,
    shares: Arc<share::Shares>,
    /// Per kind, where the next search for due tenants starts (see [`share::Plan`]).
    resume: Mutex<HashMap<&'static str, TenantId>>,
}

/// How many tenants with due work one pass looks at, per kind.
const TENANTS_PER_PASS: i64 = 256;

impl Worker {
    /// A worker over `pool` that wakes on `signal`.
    pub fn new(
        pool: Pool,
        keyring: Arc<Keyring>,
        config: WorkerConfig,
        signal: WorkerSignal,
    ) -> Result<Worker, reqwest::Error> {
        let inner = Inner {
            pool,
            keyring,
            sender: Sender::new(config.policy.clone())?,
            endpoints: config.endpoints.clone(),
            deliveries: config.deliveries.clone(),
            recorder: recorder::Recorder::new(),
            breaker: config.breaker,
            draining: Default::default(),
        };
        Ok(Worker {
            inner: Arc::new(inner),
            shares: share::Shares::new(config.concurrency),
            resume: Mutex::default(),
            config,
            signal,
        })
    }

    /// Claims and runs actions until `shutdown` completes, then drains: it claims nothing
    /// more, gives back what it claimed but has not sent yet, and waits up to the drain
    /// timeout for the requests in flight and their outcomes. Anything still running then
    /// returns to the queue when its lease expires.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let permits = Arc::new(Semaphore::new(self.config.concurrency));
        self.inner.recorder.start(self.inner.pool.clone());
        // Work committed by other processes wakes this loop as a local commit does.
        let listener = self.config.listen.clone().map(|url| {
            let signal = self.signal.clone();
            tokio::spawn(async move { wake::listen(&url, move || signal.wake()).await })
        });
        let mut last_recovery: Option<Instant> = None;
        let mut next_timer = NextTimer::default();
        let (stop_fan_out, stopping) = tokio::sync::watch::channel(false);
        let fan_out = tokio::spawn(deliveries::fan_out(
            self.inner.clone(),
            self.signal.clone(),
            self.config.poll_interval,
            stopping,
        ));
        tokio::pin!(shutdown);
        loop {
            if last_recovery.is_none_or(|at| at.elapsed() >= self.config.recovery_interval) {
                self.recover().await;
                last_recovery = Some(Instant::now());
            }
            // A bug in one pass must not end the loop for every tenant.
            let pass = isolate::isolated(async {
                // Timers first: a burst of due timers is claimed in batches like the rest,
                // and what their transitions queue is claimed on the next pass.
                self.claim_into::<Timers>(&permits).await
                    + self.claim_into::<Actions>(&permits).await
                    + self.claim_into::<Deliveries>(&permits).await
            });
            let claimed = pass.await.unwrap_or(0);
            if claimed > 0 && permits.available_permits() > 0 {
                continue;
            }
            // Timers are due at a time nobody commits at: sleep until the next one (or the
            // poll, whichever is sooner) so they fire on time rather than at the next poll.
            let pause = next_timer
                .pause(&self.inner.pool, self.config.poll_interval)
                .await;
            tokio::select! {
                _ = &mut shutdown => break,
                _ = self.signal.woken() => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
        if let Some(listener) = listener {
            listener.abort();
        }
        self.inner
            .draining
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = stop_fan_out.send(true);
        let _ = fan_out.await;
        let all = self.config.concurrency as u32;
        let in_flight = self.config.concurrency - permits.available_permits();
        tracing::info!(in_flight, "draining: waiting for the requests in flight");
        if tokio::time::timeout(self.config.drain_timeout, permits.acquire_many(all))
            .await
            .is_err()
        {
            tracing::warn!(
                "the drain timeout passed with requests still in flight; their leases will return them to the queue"
            );
        } else {
            tracing::info!("drained");
        }
    }

    /// Returns work whose worker died (expired leases) to the queue.
    async fn recover(&self) {
        self.recover_kind::<Actions>().await;
        self.recover_kind::<Deliveries>().await;
        self.recover_kind::<Timers>().await;
    }

    async fn recover_kind<K: Kind>(&self) {
        match K::Item::QUEUE.recover_expired(&self.inner.pool).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                recovered = n,
                "returned {} with expired leases to the queue",
                K::NAME
            ),
            Err(err) => {
                tracing::warn!(error = %err, "could not recover expired leases of {}", K::NAME)
            }
        }
    }

    /// Claims as many items of kind `K` as there are free slots, shared fairly among the
    /// tenants with due work, and starts them; returns how many.
    async fn claim_into<K: Kind>(&self, permits: &Arc<Semaphore>) -> usize {
        let free = permits.available_permits();
        // Claim in batches: while most slots are busy, wait for an eighth of them to free
        // up rather than paying a claim query for every finished item.
        let busy = self.config.concurrency - free;
        if free == 0 || (busy > 0 && free < self.config.concurrency.div_ceil(8)) {
            return 0;
        }
        let limit = free.min((self.config.concurrency / K::SHARE).max(1));
        let due = match self.due_tenants::<K>().await {
            Ok(due) => due,
            Err(err) => {
                tracing::warn!(error = %err, "could not find the tenants with due {}", K::NAME);
                return 0;
            }
        };
        if due.is_empty() {
            return 0;
        }
        let plan = self.shares.plan(&due, limit);
        {
            let mut resume = self.resume.lock().unwrap_or_else(|e| e.into_inner());
            match plan.resume_after {
                Some(tenant) => resume.insert(K::NAME, tenant),
                None => resume.remove(K::NAME),
            };
        }
        let mut count = 0;
        // One claim per tenant: each names one tenant's rows only.
        for (tenant, n) in plan.grants {
            let items = match queue::claim::<K::Item>(&self.inner.pool, tenant, n as i64).await {
                Ok(items) => items,
                Err(err) => {
                    tracing::warn!(error = %err, "could not claim {}", K::NAME);
                    continue;
                }
            };
            count += items.len();
            for item in items {
                let permit = permits
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed");
                let held = self.shares.hold(item.tenant());
                let work = handle::<K>(self.inner.clone(), item, self.signal.clone());
                tokio::spawn(async move {
                    work.await;
                    drop(held);
                    drop(permit);
                });
            }
        }
        count
    }

    /// The tenants with due work of kind `K`, starting after the one the last pass stopped
    /// at and wrapping round to the first.
    async fn due_tenants<K: Kind>(&self) -> Result<Vec<TenantId>, switchyard_engine::StoreError> {
        let after = self
            .resume
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(K::NAME)
            .copied();
        let pool = &self.inner.pool;
        let mut due = K::Item::QUEUE
            .due_tenants(pool, after, TENANTS_PER_PASS)
            .await?;
        if let Some(after) = after {
            let room = TENANTS_PER_PASS - due.len() as i64;
            if room > 0 {
                let wrapped = K::Item::QUEUE.due_tenants(pool, None, room).await?;
                due.extend(wrapped.into_iter().filter(|t| *t <= after));
            }
        }
        Ok(due)
    }
}

/// One claimed item, the same way for every kind: a stopping worker gives it back
/// unstarted; otherwise the kind processes it, and what it gives back returns to the queue
/// through an outage (the attempt does not count).
async fn handle<K: Kind>(inner: Arc<Inner>, item: K::Item, signal: WorkerSignal) {
    let fence = item.fence();
    let handled = if inner.draining() {
        tracing::info!("stopping: giving back {} not started", K::NAME);
        Handled::GiveBack { at: None }
    } else {
        K::process(inner.clone(), item).await
    };
    match handled {
        Handled::Done => signal.wake(),
        Handled::GiveBack { at } => {
            let pool = &inner.pool;
            let given = persist::through_outage(|| K::Item::QUEUE.give_back(pool, fence, at));
            if let Err(err) = given.await {
                tracing::warn!(error = %err, "could not give back one of the {}; its lease will", K::NAME);
            }
        }
    }
}

/// When the next pending timer is due, as last read. A busy loop sleeps after nearly every
/// pass, so the time is read again only once a poll interval has passed or the timer it
/// knew of has come due. A timer scheduled meanwhile is at least a second away (`after`)
/// or already due (a past `at`, claimed on the wake its commit sends), so nothing fires
/// late for it.
#[derive(Default)]
struct NextTimer {
    read_at: Option<Instant>,
    due: Option<chrono::DateTime<chrono::Utc>>,
}

impl NextTimer {
    /// The poll interval, or less when a timer is due sooner. A timer already due that
    /// this pass did not claim (every slot busy) is looked at again shortly, not at once:
    /// a finishing item wakes the loop anyway.
    async fn pause(&mut self, pool: &Pool, poll: Duration) -> Duration {
        const PAST_DUE: Duration = Duration::from_millis(20);
        let now = chrono::Utc::now();
        let stale = self.read_at.is_none_or(|at| at.elapsed() >= poll)
            || self.due.is_some_and(|due| due <= now);
        if stale {
            self.due = timer::next_due(pool).await.ok().flatten();
            self.read_at = Some(Instant::now());
        }
        match self.due {
            Some(due) => (due - chrono::Utc::now())
                .to_std()
                .unwrap_or(PAST_DUE)
                .min(poll),
            None => poll,
        }
    }
}

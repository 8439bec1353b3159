//! What every route needs: the database pool, the vault, provider endpoints, the egress
//! guard, the delivery limits, and the wake-ups for workers here and in other processes.

use std::sync::Arc;

use switchyard_actions::deliveries::DeliveryConfig;
use switchyard_actions::egress::EgressPolicy;
use switchyard_actions::providers::ProviderEndpoints;
use switchyard_actions::sender::Sender;
use switchyard_actions::vault::Keyring;
use switchyard_actions::worker::WorkerConfig;
use switchyard_actions::{WorkerHealth, WorkerSignal};
use switchyard_engine::wake::Announcer;
use switchyard_engine::Pool;

use crate::heavy::HeavyReads;
use crate::throttle::{RequestLimits, Throttle};

/// Shared by all routes; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub pool: Pool,
    pub worker: WorkerSignal,
    /// Tells workers in other processes about committed work.
    pub announcer: Announcer,
    /// Whether the worker loop beside this API still runs (`/readyz`).
    pub worker_health: WorkerHealth,
    pub keyring: Arc<Keyring>,
    pub endpoints: Arc<ProviderEndpoints>,
    /// Connector test events leave through the same guard as actions.
    pub sender: Sender,
    pub policy: Arc<EgressPolicy>,
    pub deliveries: Arc<DeliveryConfig>,
    /// Per-tenant request and per-address failed-authentication limits.
    pub throttle: Arc<Throttle>,
    /// Exports and verifications running, per tenant.
    pub heavy: Arc<HeavyReads>,
    /// The bearer token `GET /metrics` on the API listener asks for; without one the
    /// metrics are not served there (`SWITCHYARD_METRICS_TOKEN`).
    pub metrics_token: Option<Arc<str>>,
}

impl AppState {
    /// State around a pool, with a fresh worker signal; `worker` gives the endpoints,
    /// the egress policy and the delivery limits.
    pub fn new(pool: Pool, keyring: Keyring, worker: &WorkerConfig) -> anyhow::Result<Self> {
        Ok(AppState {
            pool: pool.clone(),
            worker: WorkerSignal::default(),
            announcer: Announcer::spawn(pool.clone()),
            worker_health: WorkerHealth::default(),
            keyring: Arc::new(keyring),
            endpoints: Arc::new(worker.endpoints.clone()),
            sender: Sender::new(worker.policy.clone())?,
            policy: Arc::new(worker.policy.clone()),
            deliveries: Arc::new(worker.deliveries.clone()),
            throttle: Arc::new(Throttle::new(RequestLimits::default())),
            heavy: Arc::default(),
            metrics_token: None,
        })
    }

    /// Work was committed: wake the worker beside this API now, and announce it to the
    /// workers of other processes. Call after the commit.
    pub fn committed(&self) {
        self.worker.wake();
        self.announcer.announce();
    }

    /// Events were committed but no work: only the fan-out to subscriptions beside this
    /// API has something to do (other processes' fan-outs find them on their poll).
    pub fn committed_events(&self) {
        self.worker.events();
    }

    /// What checking and sealing a connection's credentials takes.
    pub fn sealer(&self) -> switchyard_actions::connections::Sealer<'_> {
        switchyard_actions::connections::Sealer {
            keyring: &self.keyring,
            endpoints: &self.endpoints,
            policy: &self.policy,
            secret_overlap: self.deliveries.secret_overlap,
        }
    }

    /// The same state under other request limits.
    pub fn with_limits(mut self, limits: RequestLimits) -> Self {
        self.throttle = Arc::new(Throttle::new(limits));
        self
    }

    /// The same state, serving `/metrics` on the API to callers with `token`.
    pub fn with_metrics_token(mut self, token: Option<String>) -> Self {
        self.metrics_token = token.filter(|t| !t.is_empty()).map(Arc::from);
        self
    }
}

//! What every route needs: the database pool, the vault, provider endpoints, the egress
//! guard, the delivery limits, and the wake-ups for workers here and in other processes.

use std::sync::Arc;

use switchyard_actions::deliveries::DeliveryConfig;
use switchyard_actions::egress::EgressPolicy;
use switchyard_actions::intake::receive::Intake;
use switchyard_actions::providers::ProviderEndpoints;
use switchyard_actions::sender::Sender;
use switchyard_actions::vault::Keyring;
use switchyard_actions::worker::WorkerConfig;
use switchyard_actions::{WorkerHealth, WorkerSignal};
use switchyard_engine::intake::apply::Committed;
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
    /// Receiving signed webhooks at `/in/{id}`: endpoints cached, refusals counted.
    pub intake: Arc<Intake>,
    /// Where senders reach this server (`SWITCHYARD_PUBLIC_URL`), without a trailing `/`;
    /// unset, a request's own `Host`.
    pub public_url: Option<Arc<str>>,
}

impl AppState {
    /// State around a pool, with a fresh worker signal; `worker` gives the endpoints,
    /// the egress policy and the delivery limits.
    pub fn new(pool: Pool, keyring: Keyring, worker: &WorkerConfig) -> anyhow::Result<Self> {
        let keyring = Arc::new(keyring);
        Ok(AppState {
            pool: pool.clone(),
            worker: WorkerSignal::default(),
            announcer: Announcer::spawn(pool.clone()),
            worker_health: WorkerHealth::default(),
            keyring: keyring.clone(),
            endpoints: Arc::new(worker.endpoints.clone()),
            sender: Sender::new(worker.policy.clone())?,
            policy: Arc::new(worker.policy.clone()),
            deliveries: Arc::new(worker.deliveries.clone()),
            throttle: Arc::new(Throttle::new(RequestLimits::default())),
            heavy: Arc::default(),
            metrics_token: None,
            intake: Arc::new(Intake::new(pool.clone(), keyring.clone())),
            public_url: None,
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

    /// The same state, telling senders `public_url` (`https://host[:port][/prefix]`).
    pub fn with_public_url(mut self, public_url: Option<String>) -> anyhow::Result<Self> {
        if let Some(text) = public_url.filter(|u| !u.is_empty()) {
            let url = url::Url::parse(&text)
                .map_err(|e| anyhow::anyhow!("SWITCHYARD_PUBLIC_URL '{text}' is not a URL: {e}"))?;
            if !matches!(url.scheme(), "http" | "https") || url.query().is_some() {
                anyhow::bail!("SWITCHYARD_PUBLIC_URL is an http(s) address without a query, such as https://hooks.example.com");
            }
            self.public_url = Some(Arc::from(text.trim_end_matches('/')));
        }
        Ok(self)
    }

    /// Wakes what a committed intake route needs woken.
    pub fn on_intake_commit(&self) -> switchyard_actions::intake::receive::OnCommit {
        let state = self.clone();
        Arc::new(move |committed| match committed {
            Committed::Work => state.committed(),
            Committed::Events => state.committed_events(),
            Committed::Nothing => {}
        })
    }

    /// The same state, serving `/metrics` on the API to callers with `token`.
    pub fn with_metrics_token(mut self, token: Option<String>) -> Self {
        self.metrics_token = token.filter(|t| !t.is_empty()).map(Arc::from);
        self
    }
}

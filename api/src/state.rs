//! What every route needs: the database pool, the vault, provider endpoints, and the
//! worker's wake-up signal.

use std::sync::Arc;

use switchyard_actions::providers::ProviderEndpoints;
use switchyard_actions::vault::Keyring;
use switchyard_actions::WorkerSignal;
use switchyard_engine::Pool;

/// Shared by all routes; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub pool: Pool,
    pub worker: WorkerSignal,
    pub keyring: Arc<Keyring>,
    pub endpoints: Arc<ProviderEndpoints>,
}

impl AppState {
    /// State around a pool, with a fresh worker signal.
    pub fn new(pool: Pool, keyring: Keyring, endpoints: ProviderEndpoints) -> Self {
        AppState {
            pool,
            worker: WorkerSignal::default(),
            keyring: Arc::new(keyring),
            endpoints: Arc::new(endpoints),
        }
    }
}

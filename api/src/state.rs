//! What every route needs: the database pool and the worker's wake-up signal.

use switchyard_actions::WorkerSignal;
use switchyard_engine::Pool;

/// Shared by all routes; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub pool: Pool,
    pub worker: WorkerSignal,
}

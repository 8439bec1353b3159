//! Writing an outcome through a database outage. The request has already been sent, so the
//! outcome is worth keeping: a write that fails because the database is unreachable is
//! tried again for a while (the write is idempotent: it only applies while this attempt
//! still holds the lease). Only after that does the lease have to bring the work back.

use std::future::Future;
use std::time::{Duration, Instant};

use switchyard_engine::StoreError;

/// How long to keep trying through an outage.
const PATIENCE: Duration = Duration::from_secs(30);

/// Runs `write` until it succeeds, fails for another reason, or `PATIENCE` has passed.
pub async fn through_outage<T, F, Fut>(mut write: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let started = Instant::now();
    let mut pause = Duration::from_millis(100);
    loop {
        match write().await {
            Err(StoreError::Unavailable(_)) if started.elapsed() + pause < PATIENCE => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            other => return other,
        }
    }
}

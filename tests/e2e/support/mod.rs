//! The test harness: one embedded PostgreSQL cluster per test process, a migrated template
//! database, and for each test a fresh database cloned from it plus the real HTTP server
//! on port 0.

pub mod cluster;
pub mod flood;
pub mod http;
pub mod logs;
pub mod receiver;
pub mod verify;
pub mod worker;
mod workflows;

pub use http::TestApp;

use std::time::{Duration, Instant};

/// Waits for `check` to return `Some`, polling; panics with `what` after `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A directory of its own for one test's cluster or data, under the tests' root
/// (`<tmp>/switchyard-tests/<name>-<pid>-<random>`); not created.
pub fn scratch_dir(name: &str) -> std::path::PathBuf {
    cluster::test_root().join(format!(
        "{name}-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ))
}

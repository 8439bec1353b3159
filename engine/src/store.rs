//! The PostgreSQL pool and schema migrations.

use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use crate::StoreError;

pub use deadpool_postgres::Pool;

mod embedded_migrations {
    refinery::embed_migrations!("../migrations");
}

/// Builds a pool for `url` with at most `max_size` connections. Connections are opened
/// lazily; a checkout waits at most a few seconds so an outage answers instead of hanging.
pub fn connect(url: &str, max_size: usize) -> Result<Pool, StoreError> {
    let mut config = tokio_postgres::Config::from_str(url)
        .map_err(|err| StoreError::Unavailable(format!("DATABASE_URL is not valid: {err}")))?;
    config.connect_timeout(Duration::from_secs(5));
    if config.get_application_name().is_none() {
        config.application_name("switchyard");
    }
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(max_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(Duration::from_secs(5)))
        .create_timeout(Some(Duration::from_secs(5)))
        .build()
        .map_err(|err| StoreError::Unavailable(err.to_string()))
}

/// Applies every migration in `migrations/` that has not run yet. An advisory lock makes
/// concurrent start-ups of several processes take turns instead of racing.
pub async fn migrate(pool: &Pool) -> Result<usize, StoreError> {
    const MIGRATION_LOCK: i64 = 0x5357_5944_4d49_4752; // "SWYDMIGR"
    let mut client = pool.get().await?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let client: &mut tokio_postgres::Client = &mut client;
    let outcome = embedded_migrations::migrations::runner()
        .run_async(client)
        .await;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await?;
    let report = outcome.map_err(|err| StoreError::Corrupt(format!("migration failed: {err}")))?;
    Ok(report.applied_migrations().len())
}

/// True when the database answers a trivial query within a second.
pub async fn ready(pool: &Pool) -> bool {
    let check = async {
        let client = pool.get().await.ok()?;
        client.query_one("SELECT 1", &[]).await.ok()
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(1), check).await,
        Ok(Some(_))
    )
}

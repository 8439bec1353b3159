//! The PostgreSQL pool and schema migrations.

mod text;
pub mod tls;

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, RecyclingMethod, Runtime};

use crate::StoreError;

pub use deadpool_postgres::Pool;
pub use tls::{target, SslMode, Target};

mod embedded_migrations {
    refinery::embed_migrations!("../migrations");
}

/// Every row read into `T` by column name (see [`postgres_from_row::FromRow`]).
pub fn read_rows<T: postgres_from_row::FromRow>(
    rows: &[tokio_postgres::Row],
) -> Result<Vec<T>, StoreError> {
    rows.iter().map(read_row).collect()
}

/// One row read into `T` by column name.
pub fn read_row<T: postgres_from_row::FromRow>(row: &tokio_postgres::Row) -> Result<T, StoreError> {
    Ok(T::try_from_row(row)?)
}

/// Builds a pool for `url` with at most `max_size` connections. Connections are opened
/// lazily; a checkout waits at most a few seconds so an outage answers instead of hanging.
pub fn connect(url: &str, max_size: usize) -> Result<Pool, StoreError> {
    let Target {
        mut config, tls, ..
    } = target(url)?;
    config.connect_timeout(Duration::from_secs(5));
    if config.get_application_name().is_none() {
        config.application_name("switchyard");
    }
    let manager = Manager::from_config(
        config,
        tls,
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

/// Opens a first connection to say early, and clearly, why the database cannot be used:
/// above all a server certificate that `sslmode` refuses.
pub async fn check(pool: &Pool, url: &str) -> Result<(), StoreError> {
    let Err(err) = pool.get().await else {
        return Ok(());
    };
    // tokio-postgres keeps the handshake's reason in the error's sources.
    let inner: &dyn std::error::Error = match &err {
        deadpool_postgres::PoolError::Backend(inner) => inner,
        other => other,
    };
    let mut text = inner.to_string();
    let mut source = inner.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    if !text.contains("TLS") && !text.contains("certificate") {
        return Err(StoreError::from(err));
    }
    let mode = target(url).map(|t| t.mode).unwrap_or(SslMode::Prefer);
    Err(StoreError::Unavailable(format!(
        "the TLS connection to PostgreSQL failed ({mode}): {text}. With verify-ca the server's \
         certificate must be signed by a CA in sslrootcert; with verify-full it must also name \
         the host in DATABASE_URL"
    )))
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

//! Opening the database: `DATABASE_URL`, or the embedded cluster; then migrations.

use anyhow::Context;
use switchyard_engine::embedded::{EmbeddedOptions, EmbeddedPostgres};
use switchyard_engine::{store, Pool};

use crate::config::DatabaseArgs;

/// The application database name inside the embedded cluster.
const DATABASE: &str = "switchyard";

/// An open, migrated database; stops the embedded cluster (if ours) when dropped.
#[derive(Debug)]
pub struct Database {
    pub pool: Pool,
    pub embedded: Option<EmbeddedPostgres>,
}

/// Opens the configured database and applies pending migrations.
pub async fn open(args: &DatabaseArgs) -> anyhow::Result<Database> {
    let (url, embedded) = match &args.database_url {
        Some(url) => (url.clone(), None),
        None => {
            let options = EmbeddedOptions {
                data_dir: args.data_dir.clone(),
                throwaway: false,
            };
            let cluster = EmbeddedPostgres::start(options, DATABASE)
                .await
                .context("starting the embedded PostgreSQL")?;
            (cluster.url(DATABASE), Some(cluster))
        }
    };
    let pool = store::connect(&url, args.db_pool_size)?;
    let applied = store::migrate(&pool).await.context("applying migrations")?;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    Ok(Database { pool, embedded })
}

//! Opening the database: `DATABASE_URL`, or the embedded cluster; then migrations.

use anyhow::Context;
use switchyard_engine::embedded::{EmbeddedOptions, EmbeddedPostgres};
use switchyard_engine::{store, Pool};

use switchyard_actions::vault::Keyring;

use crate::config::{DatabaseArgs, VaultArgs};

/// The application database name inside the embedded cluster.
const DATABASE: &str = "switchyard";

/// An open, migrated database; stops the embedded cluster (if ours) when dropped.
#[derive(Debug)]
pub struct Database {
    pub pool: Pool,
    /// Where it is, for connections outside the pool (listening for work announcements).
    pub url: String,
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
                port: None,
            };
            let cluster = EmbeddedPostgres::start(options, DATABASE)
                .await
                .context("starting the embedded PostgreSQL")?;
            (cluster.url(DATABASE), Some(cluster))
        }
    };
    let pool = store::connect(&url, args.db_pool_size)?;
    store::check(&pool, &url)
        .await
        .context("connecting to PostgreSQL")?;
    let applied = store::migrate(&pool).await.context("applying migrations")?;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    Ok(Database {
        pool,
        url,
        embedded,
    })
}

/// Loads the credential keys. The embedded default keeps a generated key beside its data;
/// with an external database a key must be configured, or start-up stops here.
pub fn keyring(db: &DatabaseArgs, vault: &VaultArgs) -> anyhow::Result<Keyring> {
    let key_file = db
        .database_url
        .is_none()
        .then(|| db.data_dir.join("encryption-key"));
    Keyring::load(&vault.sources(), key_file.as_deref())
        .context("loading the credential encryption key")
}

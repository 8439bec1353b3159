//! `switchyard tenant create --name N`: prints {"tenant_id", "api_key"} for scripts.

use switchyard_engine::api_key::{self, Scope};
use switchyard_engine::{tenant, Actor};

use crate::config::DatabaseArgs;
use crate::database;

/// Creates the tenant and a `full` key and prints both as one JSON object.
pub async fn create(db: &DatabaseArgs, name: &str) -> anyhow::Result<()> {
    let name = name.trim();
    anyhow::ensure!(
        !name.is_empty() && name.len() <= 200,
        "--name must be 1 to 200 characters"
    );
    let database = database::open(db).await?;
    let tenant_id = tenant::create(&database.pool, name).await?;
    let actor = Actor::operator(tenant_id);
    let (_, secret) =
        api_key::create(&database.pool, &actor, "initial full key", &[Scope::Full]).await?;
    println!(
        "{}",
        serde_json::json!({ "tenant_id": tenant_id, "api_key": secret.expose() })
    );
    Ok(())
}

//! `switchyard audit verify`: recompute the hash chains from the command line.

use switchyard_engine::log::verify;
use switchyard_engine::TenantId;

use crate::config::DatabaseArgs;
use crate::database;

/// Prints the verification as JSON; returns whether every chain holds.
pub async fn verify(db: &DatabaseArgs, tenant: Option<uuid::Uuid>) -> anyhow::Result<bool> {
    let database = database::open(db).await?;
    let outcome = verify::verify(&database.pool, tenant.map(TenantId)).await?;
    println!("{}", serde_json::to_string_pretty(&outcome)?);
    Ok(outcome.ok)
}

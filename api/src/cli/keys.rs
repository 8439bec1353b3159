//! `switchyard keys rotate`: re-encrypt every credential under the current key.

use switchyard_actions::vault::rotate;

use crate::config::{DatabaseArgs, VaultArgs};
use crate::database;

/// Rotates and prints the counts as JSON.
pub async fn rotate(db: &DatabaseArgs, vault: &VaultArgs) -> anyhow::Result<()> {
    let keyring = database::keyring(db, vault)?;
    let database = database::open(db).await?;
    let outcome = rotate::rotate(&database.pool, &keyring).await?;
    println!(
        "{}",
        serde_json::json!({
            "key_id": keyring.current_id(),
            "rotated": outcome.rotated,
            "already_current": outcome.already_current,
        })
    );
    Ok(())
}

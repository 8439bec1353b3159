//! Secrets as the vault sealed them, and the rows that hold them: connection credentials
//! and subscription targets. The engine stores and moves ciphertext; it never sees plaintext.

use uuid::Uuid;

use crate::{StoreError, TenantId};

/// Credentials as the vault sealed them.
#[derive(Clone)]
pub struct Sealed {
    pub ciphertext: Vec<u8>,
    pub key_id: String,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealed")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// A table whose rows hold sealed secrets (`ciphertext`, `key_id`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealedTable {
    Connections,
    Subscriptions,
}

impl SealedTable {
    pub const ALL: [SealedTable; 2] = [SealedTable::Connections, SealedTable::Subscriptions];

    fn table(self) -> &'static str {
        match self {
            SealedTable::Connections => "connections",
            SealedTable::Subscriptions => "webhook_subscriptions",
        }
    }

    /// What one row is, for messages.
    pub fn row_name(self) -> &'static str {
        match self {
            SealedTable::Connections => "connection",
            SealedTable::Subscriptions => "subscription",
        }
    }
}

/// Every row's sealed secret, locked, for key rotation.
pub async fn all_for_update(
    tx: &deadpool_postgres::Transaction<'_>,
    table: SealedTable,
) -> Result<Vec<(Uuid, TenantId, Sealed)>, StoreError> {
    let rows = tx
        .query(
            &format!(
                "SELECT id, tenant_id, ciphertext, key_id FROM {} ORDER BY id FOR UPDATE",
                table.table()
            ),
            &[],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                r.try_get("tenant_id")?,
                Sealed {
                    ciphertext: r.try_get("ciphertext")?,
                    key_id: r.try_get("key_id")?,
                },
            ))
        })
        .collect()
}

/// Replaces a row's sealed secret (key rotation).
pub async fn reseal(
    tx: &deadpool_postgres::Transaction<'_>,
    table: SealedTable,
    id: Uuid,
    sealed: &Sealed,
) -> Result<(), StoreError> {
    tx.execute(
        &format!(
            "UPDATE {} SET ciphertext = $2, key_id = $3 WHERE id = $1",
            table.table()
        ),
        &[&id, &sealed.ciphertext, &sealed.key_id],
    )
    .await?;
    if table == SealedTable::Connections {
        // Delivered at commit: workers forget the row sealed under the old key.
        tx.execute(
            "SELECT pg_notify($1, $2)",
            &[&crate::connection::cache::CHANNEL, &id.to_string()],
        )
        .await?;
    }
    Ok(())
}

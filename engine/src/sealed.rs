//! Secrets as the vault sealed them, and the rows that hold them: connection credentials,
//! subscription targets and intake endpoints' signing secrets. The engine stores and moves
//! ciphertext; it never sees plaintext.

use std::future::Future;

use deadpool_postgres::GenericClient;
use uuid::Uuid;

use crate::store::read_row;
use crate::{Pool, StoreError, TenantId};

/// Credentials as the vault sealed them.
#[derive(Clone, postgres_from_row::FromRow)]
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
    Intake,
}

impl SealedTable {
    pub const ALL: [SealedTable; 3] = [
        SealedTable::Connections,
        SealedTable::Subscriptions,
        SealedTable::Intake,
    ];

    fn table(self) -> &'static str {
        match self {
            SealedTable::Connections => "connections",
            SealedTable::Subscriptions => "webhook_subscriptions",
            SealedTable::Intake => "intake_endpoints",
        }
    }

    /// What one row is, for messages.
    pub fn row_name(self) -> &'static str {
        match self {
            SealedTable::Connections => "connection",
            SealedTable::Subscriptions => "subscription",
            SealedTable::Intake => "intake endpoint",
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
        .map(|r| Ok((r.try_get("id")?, r.try_get("tenant_id")?, read_row(r)?)))
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

/// The view of a row that holds a sealed secret: what every such kind reads the same way
/// (one by id, a page after an id, and one with its secret for the worker to open just in
/// time). The tenant is always part of the filter, so no read reaches another tenant's row.
pub trait SealedRow: postgres_from_row::FromRow + Send + Sized {
    /// Its table.
    const TABLE: SealedTable;
    /// What its view reads: a `SELECT` list that never names a secret.
    const COLUMNS: &'static str;

    /// One row of the tenant.
    fn get(
        pool: &Pool,
        tenant_id: TenantId,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<Self>, StoreError>> + Send {
        async move {
            let client = pool.get().await?;
            let sql = format!(
                "SELECT {} FROM {} WHERE id = $1 AND tenant_id = $2",
                Self::COLUMNS,
                Self::TABLE.table()
            );
            client
                .query_opt(&sql, &[&id, &tenant_id.0])
                .await?
                .as_ref()
                .map(read_row)
                .transpose()
        }
    }

    /// The tenant's rows, oldest first, after `after`.
    fn list(
        pool: &Pool,
        tenant_id: TenantId,
        after: Option<Uuid>,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<Self>, StoreError>> + Send {
        async move {
            let client = pool.get().await?;
            let sql = format!(
                "SELECT {} FROM {} WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2) \
                 ORDER BY id LIMIT $3",
                Self::COLUMNS,
                Self::TABLE.table()
            );
            let rows = client.query(&sql, &[&tenant_id.0, &after, &limit]).await?;
            rows.iter().map(read_row).collect()
        }
    }

    /// One row of the tenant with its sealed secret.
    fn sealed<C: GenericClient + Sync>(
        client: &C,
        tenant_id: TenantId,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<(Self, Sealed)>, StoreError>> + Send {
        async move {
            let stmt = client
                .prepare_cached(&format!(
                    "SELECT {}, ciphertext, key_id FROM {} WHERE id = $1 AND tenant_id = $2",
                    Self::COLUMNS,
                    Self::TABLE.table()
                ))
                .await?;
            let Some(row) = client.query_opt(&stmt, &[&id, &tenant_id.0]).await? else {
                return Ok(None);
            };
            Ok(Some((read_row(&row)?, read_row(&row)?)))
        }
    }
}

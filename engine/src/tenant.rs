//! Tenants: the unit of isolation.

use serde_json::json;

use crate::events::account::TenantCreated;
use crate::events::Payload;
use crate::log::EventType;
use crate::log::{append, NewEvent, StreamLock};
use crate::{Pool, StoreError, TenantId};

/// Creates a tenant and records `tenant.created` in its own stream.
pub async fn create(pool: &Pool, name: &str) -> Result<TenantId, StoreError> {
    let id = TenantId::new();
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    tx.execute(
        "INSERT INTO tenants (id, name) VALUES ($1, $2)",
        &[&id.0, &name],
    )
    .await?;
    append(
        &tx,
        NewEvent {
            tenant_id: id,
            stream_id: id.0,
            event_type: EventType::TenantCreated,
            data: TenantCreated {
                id,
                name: name.to_string(),
            }
            .to_data()?,
            metadata: json!({ "actor_key_id": null, "request_id": null, "idempotency_key": null }),
        },
        StreamLock::Take,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Locks the tenant's row and counts what `count_sql` (a `count(*)` over `$1`, the
/// tenant's id) finds: a quota checked this way holds against concurrent creates, which
/// wait for the lock. `None` when there is no such tenant.
pub async fn count_under_lock(
    tx: &deadpool_postgres::Transaction<'_>,
    tenant: TenantId,
    count_sql: &str,
) -> Result<Option<i64>, StoreError> {
    let locked = tx
        .query_opt(
            "SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE",
            &[&tenant.0],
        )
        .await?;
    if locked.is_none() {
        return Ok(None);
    }
    Ok(Some(
        tx.query_one(count_sql, &[&tenant])
            .await?
            .try_get("count")?,
    ))
}

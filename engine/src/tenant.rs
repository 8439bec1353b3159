//! Tenants: the unit of isolation.

use serde_json::json;

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
            data: json!({ "id": id, "name": name }),
            metadata: json!({ "actor_key_id": null, "request_id": null, "idempotency_key": null }),
        },
        StreamLock::Take,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

//! Pausing a connection by hand, and resuming it: while paused, its actions wait in
//! order (the queue's due filter leaves them unclaimed; see [`crate::flow`]).

use serde_json::json;
use uuid::Uuid;

use super::{record, Connection, COLUMNS};
use crate::log::EventType;
use crate::store::read_row;
use crate::{Actor, Pool, StoreError};

/// Pauses a connection (its actions wait, in order) or resumes it; appends
/// `connection.updated` with `paused` when that changed. `None`: no such connection.
pub async fn set_paused(
    pool: &Pool,
    actor: &Actor,
    id: Uuid,
    paused: bool,
) -> Result<Option<Connection>, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let was: Option<bool> = tx
        .query_opt(
            "SELECT paused_at IS NOT NULL AS paused FROM connections \
             WHERE id = $1 AND tenant_id = $2 FOR UPDATE",
            &[&id, &actor.tenant_id],
        )
        .await?
        .map(|r| r.try_get("paused"))
        .transpose()?;
    let Some(was) = was else {
        return Ok(None);
    };
    let row = tx
        .query_one(
            &format!(
                "UPDATE connections SET paused_at = CASE WHEN $2 THEN coalesce(paused_at, now()) END, \
                 updated_at = CASE WHEN $3 THEN now() ELSE updated_at END WHERE id = $1 RETURNING {COLUMNS}"
            ),
            &[&id, &paused, &(was != paused)],
        )
        .await?;
    let connection: Connection = read_row(&row)?;
    if was != paused {
        record(
            &tx,
            actor,
            EventType::ConnectionUpdated,
            &connection,
            json!({ "credentials_changed": false, "paused": paused }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Some(connection))
}

//! A connection's health and last event time, from the requests made with it.

use uuid::Uuid;

use crate::health::Health;
use crate::{Pool, StoreError, TenantId};

/// Records the outcome of a request on the connection's health and last event time.
/// `throttled` (the worker's case) writes at most about once a second per connection
/// unless the health changes: every action of a busy connection would otherwise queue on
/// this one row.
pub async fn mark_health(
    tx: &deadpool_postgres::Transaction<'_>,
    id: Uuid,
    healthy: bool,
    throttled: bool,
) -> Result<(), StoreError> {
    let stmt = tx
        .prepare_cached(
            "UPDATE connections SET health = $2, last_event_at = now() WHERE id = $1 \
             AND (NOT $3 OR health <> $2 OR last_event_at IS NULL \
                  OR last_event_at < now() - interval '1 second')",
        )
        .await?;
    let health = if healthy {
        Health::Healthy
    } else {
        Health::Failing
    }
    .as_str();
    tx.execute(&stmt, &[&id, &health, &throttled]).await?;
    Ok(())
}

/// [`mark_health`] (throttled) for each connection's latest outcome in a batch, in id
/// order so that two batches cannot deadlock on the rows.
pub async fn mark_health_all(
    tx: &deadpool_postgres::Transaction<'_>,
    latest: std::collections::HashMap<Uuid, bool>,
) -> Result<(), StoreError> {
    let mut latest: Vec<(Uuid, bool)> = latest.into_iter().collect();
    latest.sort();
    for (id, healthy) in latest {
        mark_health(tx, id, healthy, true).await?;
    }
    Ok(())
}

/// Records a connector test event: the connection's health and last event time, and a
/// ledger row when a request left (`source_id` names the test), in one transaction.
pub async fn record_test(
    pool: &Pool,
    tenant_id: TenantId,
    id: Uuid,
    source_id: Uuid,
    healthy: bool,
    sent: Option<&crate::ledger::LedgerEntry>,
) -> Result<(), StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    mark_health(&tx, id, healthy, false).await?;
    if let Some(entry) = sent {
        crate::ledger::insert(&tx, tenant_id, source_id, 1, None, entry).await?;
    }
    tx.commit().await?;
    Ok(())
}

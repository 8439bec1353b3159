//! A connection's health and last event time, from the requests made with it, and the
//! events its changes append to the connection's stream: `connection.failing` (seed 002's
//! `app:health_warning`) when a request fails after the connection was healthy or untried,
//! `connection.recovered` (`app:health_cleared`) when one succeeds after it was failing,
//! and `connection.tested` (`app:health_check`) for each connector test. Their data
//! carries the seed's payload fields beside Switchyard's.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::health::Health;
use crate::log::{append, EventType, NewEvent, StreamLock};
use crate::{Pool, StoreError, TenantId};

/// What a request with the connection showed: `None` when it succeeded, else what went
/// wrong (no secrets: the sender's problem text).
pub type Observed = Option<String>;

/// The advice sent with a warning, as seed 002's `recommendation`.
const RECOMMENDATION: &str =
    "Check that the endpoint is up and that the connection's credentials are still valid";

/// Records the outcome of a request on the connection's health and last event time, and
/// appends an event when the health changed. `throttled` (the worker's case) writes at
/// most about once a second per connection unless the health changes: every action of a
/// busy connection would otherwise queue on this one row.
pub async fn mark_health(
    tx: &deadpool_postgres::Transaction<'_>,
    id: Uuid,
    observed: &Observed,
    throttled: bool,
) -> Result<(), StoreError> {
    // `changed` moves the health only from the states a change starts from: when two
    // writers race, PostgreSQL re-checks that condition on the row the first one left,
    // so the change (and its event) happens once. `touched` is the throttled write of
    // everything else, and takes no lock when it is not due.
    let stmt = tx
        .prepare_cached(
            "WITH changed AS (UPDATE connections SET health = $2, last_event_at = now() \
                              WHERE id = $1 AND health = ANY($4::text[]) \
                              RETURNING tenant_id, provider, connection_name), \
                  touched AS (UPDATE connections SET health = $2, last_event_at = now() \
                              WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM changed) \
                                AND (NOT $3 OR health <> $2 OR last_event_at IS NULL \
                                     OR last_event_at < now() - interval '1 second') \
                              RETURNING 1) \
             SELECT tenant_id, provider, connection_name FROM changed",
        )
        .await?;
    let (health, from): (Health, &[&str]) = match observed {
        None => (Health::Healthy, &["failing"]),
        Some(_) => (Health::Failing, &["healthy", "unknown"]),
    };
    let Some(row) = tx
        .query_opt(&stmt, &[&id, &health.as_str(), &throttled, &from])
        .await?
    else {
        return Ok(());
    };
    let about = About::returned(id, &row)?;
    match observed {
        Some(problem) => {
            let data = json!({
                "health": "failing", "error": problem,
                "status": "degraded", "healthStatus": "warning",
                "warningMessage": problem, "recommendation": RECOMMENDATION,
            });
            about.record(tx, EventType::ConnectionFailing, data).await
        }
        None => {
            let previous = last_warning(tx, id).await?;
            let data = json!({
                "health": "healthy", "previous_health": "failing",
                "status": "connected", "healthStatus": "healthy", "previousWarning": previous,
            });
            about.record(tx, EventType::ConnectionRecovered, data).await
        }
    }
}

/// Sets the connection's health as its circuit opens (`failing`) or closes (`healthy`)
/// and appends the health event that says so, with `extra` (the circuit's state).
pub async fn circuit_changed(
    tx: &deadpool_postgres::Transaction<'_>,
    id: Uuid,
    opened: bool,
    extra: Value,
) -> Result<(), StoreError> {
    let health = if opened {
        Health::Failing
    } else {
        Health::Healthy
    };
    let stmt = tx
        .prepare_cached(
            "UPDATE connections SET health = $2 WHERE id = $1 \
             RETURNING tenant_id, provider, connection_name",
        )
        .await?;
    let Some(row) = tx.query_opt(&stmt, &[&id, &health.as_str()]).await? else {
        return Ok(());
    };
    let about = About::returned(id, &row)?;
    let mut data = if opened {
        let problem =
            "the circuit opened after consecutive failures; requests wait for its cooldown";
        json!({
            "health": "failing", "error": problem,
            "status": "degraded", "healthStatus": "warning",
            "warningMessage": problem, "recommendation": RECOMMENDATION,
        })
    } else {
        json!({
            "health": "healthy", "previous_health": "failing",
            "status": "connected", "healthStatus": "healthy",
            "previousWarning": last_warning(tx, id).await?,
        })
    };
    if let (Some(data), Value::Object(extra)) = (data.as_object_mut(), extra) {
        data.extend(extra);
    }
    let event = if opened {
        EventType::ConnectionFailing
    } else {
        EventType::ConnectionRecovered
    };
    about.record(tx, event, data).await
}

/// [`mark_health`] (throttled) for each connection's latest outcome in a batch, in id
/// order so that two batches cannot deadlock on the rows.
pub async fn mark_health_all(
    tx: &deadpool_postgres::Transaction<'_>,
    latest: std::collections::HashMap<Uuid, Observed>,
) -> Result<(), StoreError> {
    let mut latest: Vec<(Uuid, Observed)> = latest.into_iter().collect();
    latest.sort();
    for (id, observed) in latest {
        mark_health(tx, id, &observed, true).await?;
    }
    Ok(())
}

/// What a connector test showed.
#[derive(Debug)]
pub struct TestResult<'a> {
    pub observed: Observed,
    pub status_code: Option<u16>,
    /// Present when a request left.
    pub sent: Option<&'a crate::ledger::LedgerEntry>,
}

/// Records a connector test event: the connection's health and last event time, a
/// `connection.tested` event, and a ledger row when a request left (`source_id` names the
/// test), in one transaction.
pub async fn record_test(
    pool: &Pool,
    tenant_id: TenantId,
    id: Uuid,
    source_id: Uuid,
    result: TestResult<'_>,
) -> Result<(), StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    mark_health(&tx, id, &result.observed, false).await?;
    if let Some(entry) = result.sent {
        crate::ledger::insert(&tx, tenant_id, source_id, 1, None, entry).await?;
    }
    let row = tx
        .query_opt(
            "SELECT provider, connection_name FROM connections WHERE id = $1 AND tenant_id = $2",
            &[&id, &tenant_id.0],
        )
        .await?;
    if let Some(row) = row {
        let about = About {
            id,
            tenant_id,
            provider: row.try_get("provider")?,
            name: row.try_get("connection_name")?,
        };
        let ok = result.observed.is_none();
        let data = json!({
            "test_id": source_id, "delivered": ok, "status_code": result.status_code,
            "error": result.observed,
            "status": if ok { "connected" } else { "degraded" },
            "healthStatus": if ok { "healthy" } else { "warning" },
            "warningMessage": result.observed,
        });
        about.record(&tx, EventType::ConnectionTested, data).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The warning of the connection's latest `connection.failing` event.
async fn last_warning(
    tx: &deadpool_postgres::Transaction<'_>,
    id: Uuid,
) -> Result<Value, StoreError> {
    let stmt = tx
        .prepare_cached(
            "SELECT data -> 'warningMessage' AS warning FROM event_log \
             WHERE stream_id = $1 AND type = $2 ORDER BY stream_version DESC LIMIT 1",
        )
        .await?;
    let row = tx
        .query_opt(&stmt, &[&id, &EventType::ConnectionFailing.as_str()])
        .await?;
    Ok(row
        .map(|r| r.try_get::<_, Option<Value>>("warning"))
        .transpose()?
        .flatten()
        .unwrap_or(Value::Null))
}

/// The connection an event is about.
struct About {
    id: Uuid,
    tenant_id: TenantId,
    provider: String,
    name: String,
}

impl About {
    /// From a row that returned `tenant_id, provider, connection_name`.
    fn returned(id: Uuid, row: &tokio_postgres::Row) -> Result<About, StoreError> {
        Ok(About {
            id,
            tenant_id: row.try_get("tenant_id")?,
            provider: row.try_get("provider")?,
            name: row.try_get("connection_name")?,
        })
    }

    /// Appends `event_type` to the connection's stream: its id, provider and name (with
    /// seed 002's `appType`), then `extra`.
    async fn record(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        event_type: EventType,
        extra: Value,
    ) -> Result<(), StoreError> {
        let mut data = json!({
            "id": self.id, "provider": self.provider, "connection_name": self.name,
            "appType": self.provider,
        });
        if let (Some(data), Value::Object(extra)) = (data.as_object_mut(), extra) {
            data.extend(extra);
        }
        append(
            tx,
            NewEvent {
                tenant_id: self.tenant_id,
                stream_id: self.id,
                event_type,
                data,
                // Observed by a worker, not done by anyone.
                metadata: json!({ "actor_key_id": null, "request_id": null, "idempotency_key": null }),
            },
            StreamLock::Take,
        )
        .await?;
        Ok(())
    }
}

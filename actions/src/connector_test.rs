//! The webhook connector's test event (seed 000): exactly the seed's body, signed like any
//! webhook connection request, sent through the egress guard, metered, and recorded on the
//! connection's health and last event time.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use serde::Serialize;
use serde_json::json;
use switchyard_engine::connection::{self, Connection, TestResult};
use switchyard_engine::sealed::SealedRow;
use switchyard_engine::{Actor, Pool, StoreError};
use uuid::Uuid;

use crate::connections::{self, ConnectionError};
use crate::providers::{self, Provider, ProviderEndpoints, RenderedPayload};
use crate::sender::Sender;
use crate::vault::Keyring;

/// How long the receiver has to answer a test event.
const TEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What happened to a test event.
#[derive(Debug, Serialize)]
pub struct TestOutcome {
    pub delivered: bool,
    pub status_code: Option<u16>,
    pub duration_ms: i32,
    pub error: Option<String>,
}

/// Sends the test event to webhook connection `id`.
pub async fn send(
    pool: &Pool,
    keyring: &Keyring,
    sender: &Sender,
    endpoints: &ProviderEndpoints,
    actor: &Actor,
    id: Uuid,
) -> Result<TestOutcome, ConnectionError> {
    let client = pool.get().await.map_err(StoreError::from)?;
    let (conn, sealed) = Connection::sealed(&client, actor.tenant_id, id)
        .await?
        .ok_or(ConnectionError::NotFound(id))?;
    drop(client);
    if conn.provider != Provider::Webhook.as_str() {
        return Err(ConnectionError::Invalid {
            field: "id".into(),
            message: format!(
                "test events go to webhook connections; this one is {}",
                conn.provider
            ),
        });
    }
    let body = json!({
        "type": "integration.test",
        "created_at": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        "data": {
            "provider": conn.provider,
            "connection_id": conn.id,
            "connection_name": conn.connection_name,
        },
    });
    let test_id = Uuid::now_v7();
    let outbound = {
        let credentials = connections::open_credentials(keyring, actor, id, &sealed)?;
        let payload = RenderedPayload {
            method: "POST".into(),
            path: None,
            body: Some(body),
        };
        providers::build(
            Provider::Webhook,
            &credentials,
            endpoints,
            &payload,
            &test_id.to_string(),
            Utc::now().timestamp(),
        )
        .map_err(|err| ConnectionError::Unreadable(err.to_string()))?
    };
    let outcome = match sender.send(outbound, TEST_TIMEOUT).await {
        Ok(response) => {
            let observed = match response.succeeded() {
                true => None,
                false => Some(
                    response
                        .problem()
                        .unwrap_or_else(|| "the test failed".into()),
                ),
            };
            let result = TestResult {
                observed,
                status_code: response.status,
                sent: Some(&response.ledger_entry(Some(id))),
            };
            connection::record_test(pool, actor.tenant_id, id, test_id, result).await?;
            TestOutcome {
                delivered: response.succeeded(),
                status_code: response.status,
                duration_ms: response.duration_ms(),
                error: response.problem(),
            }
        }
        Err(refused) => {
            let result = TestResult {
                observed: Some(refused.clone()),
                status_code: None,
                sent: None,
            };
            connection::record_test(pool, actor.tenant_id, id, test_id, result).await?;
            TestOutcome {
                delivered: false,
                status_code: None,
                duration_ms: 0,
                error: Some(refused),
            }
        }
    };
    Ok(outcome)
}

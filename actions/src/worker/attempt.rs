//! One attempt of one action: render the payload, open the connection's credentials just
//! in time, build the provider's request, pass the egress guard, send with the action's
//! timeout. Nothing here writes to the database.

use std::time::Duration;

use serde_json::{json, Map, Value};
use switchyard_engine::job::lane::ClaimedRun;
use switchyard_engine::template::render_payload_off_thread;
use switchyard_engine::{connection, StoreError};
use uuid::Uuid;

use super::Inner;
use crate::providers::{self, Outbound, Provider, RenderedPayload};
use crate::sender::Response;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// What happened to the request.
#[derive(Debug)]
pub enum Attempted {
    /// No request left: the payload did not render, the connection is gone or does not
    /// decrypt, or the egress guard refused the target. Retrying would not help.
    NotSent { error: String },
    /// A request was sent (or a connection attempted).
    Sent(Sent),
    /// The database was unreachable while preparing; the run is given back untouched.
    Deferred(StoreError),
    /// The worker began to stop before the request left; the run is given back untouched.
    Drained,
}

/// A request that left, and what came back.
#[derive(Debug)]
pub struct Sent {
    pub connection_id: Uuid,
    pub provider: Provider,
    pub response: Response,
}

enum Prepared {
    Ready(Outbound, Uuid, Provider, Duration),
    Refused(String),
}

/// Runs one attempt.
pub async fn attempt(inner: &Inner, run: &ClaimedRun) -> Attempted {
    match prepare(inner, run).await {
        Err(err) => Attempted::Deferred(err),
        Ok(Prepared::Refused(error)) => Attempted::NotSent { error },
        // The last moment to give the run back unsent: once the request leaves, the
        // worker waits for its answer.
        Ok(Prepared::Ready(..)) if inner.draining() => Attempted::Drained,
        Ok(Prepared::Ready(outbound, connection_id, provider, timeout)) => {
            send(inner, outbound, connection_id, provider, timeout).await
        }
    }
}

async fn prepare(inner: &Inner, run: &ClaimedRun) -> Result<Prepared, StoreError> {
    let refuse = |msg: String| Ok(Prepared::Refused(msg));
    if let Some(reason) = &run.poison {
        return refuse(reason.clone());
    }
    let mut context = run.context.clone();
    if let Value::Object(map) = &mut context {
        map.insert(
            "action".into(),
            json!({ "id": run.id, "name": run.name, "attempt": run.attempt }),
        );
    }
    let tpl = &run.spec.payload_template;
    let rendered = render_payload_off_thread(tpl.path.clone(), tpl.body.clone(), context).await;
    let (path, body) = match rendered {
        Ok(payload) => payload,
        Err(err) => return refuse(format!("the payload template did not render: {err}")),
    };
    let Ok(connection_id) = Uuid::parse_str(&tpl.connection_id) else {
        return refuse(format!("'{}' is not a connection id", tpl.connection_id));
    };
    let sealed = {
        let client = inner.pool.get().await?;
        connection::cache::sealed(&client, run.tenant_id, connection_id).await?
    };
    let Some((conn, sealed)) = sealed else {
        return refuse(format!("connection {connection_id} no longer exists"));
    };
    let Some(provider) = Provider::parse(&conn.provider) else {
        return refuse(format!(
            "connection {connection_id} has an unknown provider '{}'",
            conn.provider
        ));
    };
    // The plaintext lives only inside this block and the request built from it.
    let outbound = {
        let plaintext = match inner.keyring.decrypt(
            run.tenant_id.0,
            connection_id,
            &sealed.ciphertext,
            &sealed.key_id,
        ) {
            Ok(p) => p,
            Err(err) => return refuse(err.to_string()),
        };
        let Ok(credentials) = serde_json::from_slice::<Map<String, Value>>(plaintext.expose())
        else {
            return refuse(format!(
                "connection {connection_id}'s credentials are not a JSON object"
            ));
        };
        let payload = RenderedPayload {
            method: tpl.method.clone().unwrap_or_else(|| "POST".into()),
            path,
            body,
        };
        match providers::build(
            provider,
            &credentials,
            &inner.endpoints,
            &payload,
            &run.id.to_string(),
            chrono::Utc::now().timestamp(),
        ) {
            Ok(outbound) => outbound,
            Err(err) => return refuse(err.to_string()),
        }
    };
    Ok(Prepared::Ready(
        outbound,
        connection_id,
        provider,
        timeout(run),
    ))
}

/// How long the run's request may take.
pub fn timeout(run: &ClaimedRun) -> Duration {
    run.spec
        .timeout_ms
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_TIMEOUT)
}

async fn send(
    inner: &Inner,
    outbound: Outbound,
    connection_id: Uuid,
    provider: Provider,
    timeout: Duration,
) -> Attempted {
    match inner.sender.send(outbound, timeout).await {
        Ok(response) => Attempted::Sent(Sent {
            connection_id,
            provider,
            response,
        }),
        Err(error) => Attempted::NotSent { error },
    }
}

//! One attempt of one action: render the payload, open the connection's credentials just
//! in time, build the provider's request, pass the egress guard, send with the action's
//! timeout. Nothing here writes to the database.

use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use switchyard_engine::job::lane::ClaimedRun;
use switchyard_engine::template::{render_str, render_value};
use switchyard_engine::{connection, StoreError};
use uuid::Uuid;

use super::Inner;
use crate::egress;
use crate::providers::{self, Outbound, Provider, RenderedPayload};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The response body kept in the log.
const EXCERPT_BYTES: usize = 4096;
/// Response bytes read at most (the rest is not waited for).
const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

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
}

/// A request that left, and what came back.
#[derive(Debug)]
pub struct Sent {
    pub connection_id: Uuid,
    pub method: String,
    pub status: Option<u16>,
    /// A network error or timeout, without the URL (it can carry secrets).
    pub error: Option<String>,
    pub timed_out: bool,
    pub duration: Duration,
    pub bytes_out: usize,
    pub bytes_in: usize,
    pub body_sha256: String,
    pub excerpt: String,
    pub retry_after: Option<Duration>,
}

enum Prepared {
    Ready(Outbound, Uuid, Duration),
    Refused(String),
}

/// Runs one attempt.
pub async fn attempt(inner: &Inner, run: &ClaimedRun) -> Attempted {
    match prepare(inner, run).await {
        Err(err) => Attempted::Deferred(err),
        Ok(Prepared::Refused(error)) => Attempted::NotSent { error },
        Ok(Prepared::Ready(outbound, connection_id, timeout)) => {
            send(inner, outbound, connection_id, timeout).await
        }
    }
}

async fn prepare(inner: &Inner, run: &ClaimedRun) -> Result<Prepared, StoreError> {
    let refuse = |msg: String| Ok(Prepared::Refused(msg));
    let mut context = run.context.clone();
    if let Value::Object(map) = &mut context {
        map.insert(
            "action".into(),
            json!({ "id": run.id, "name": run.name, "attempt": run.attempt }),
        );
    }
    let tpl = &run.spec.payload_template;
    let path = match tpl
        .path
        .as_deref()
        .map(|p| render_str(p, &context))
        .transpose()
    {
        Ok(path) => path,
        Err(err) => return refuse(format!("the payload template did not render: {err}")),
    };
    let body = match tpl
        .body
        .as_ref()
        .map(|b| render_value(b, &context))
        .transpose()
    {
        Ok(body) => body,
        Err(err) => return refuse(format!("the payload template did not render: {err}")),
    };
    let Ok(connection_id) = Uuid::parse_str(&tpl.connection_id) else {
        return refuse(format!("'{}' is not a connection id", tpl.connection_id));
    };
    let sealed = {
        let client = inner.pool.get().await?;
        connection::sealed(&client, run.tenant_id, connection_id).await?
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
    let literal = match outbound.url.host() {
        Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
        _ => None,
    };
    if let Some(ip) = literal {
        if let Err(blocked) = inner.policy.check_literal(&ip.to_string(), ip) {
            return refuse(blocked.to_string());
        }
    }
    let timeout = run
        .spec
        .timeout_ms
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_TIMEOUT);
    Ok(Prepared::Ready(outbound, connection_id, timeout))
}

async fn send(
    inner: &Inner,
    outbound: Outbound,
    connection_id: Uuid,
    timeout: Duration,
) -> Attempted {
    let body_sha256 = hex::encode(Sha256::digest(&outbound.body));
    let bytes_out = outbound.body.len();
    let method = outbound.method.to_string();
    let mut request = inner
        .http
        .request(outbound.method, outbound.url)
        .timeout(timeout);
    for (name, value) in &outbound.headers {
        request = request.header(*name, value);
    }
    let started = Instant::now();
    let sent = |status, error, timed_out, bytes_in, excerpt, retry_after| {
        Attempted::Sent(Sent {
            connection_id,
            method: method.clone(),
            status,
            error,
            timed_out,
            duration: started.elapsed(),
            bytes_out,
            bytes_in,
            body_sha256: body_sha256.clone(),
            excerpt,
            retry_after,
        })
    };
    match request.body(outbound.body).send().await {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(super::retry::parse_retry_after);
            let mut kept = Vec::new();
            let mut bytes_in = 0usize;
            // A body that stalls or errors after the status arrived still counts as answered.
            while let Ok(Some(chunk)) = response.chunk().await {
                bytes_in += chunk.len();
                if kept.len() < EXCERPT_BYTES {
                    kept.extend_from_slice(&chunk[..chunk.len().min(EXCERPT_BYTES - kept.len())]);
                }
                if bytes_in >= MAX_RESPONSE_BYTES {
                    break;
                }
            }
            sent(
                Some(status),
                None,
                false,
                bytes_in,
                excerpt(&kept),
                retry_after,
            )
        }
        Err(err) => {
            if let Some(blocked) = egress::blocked_in(&err) {
                return Attempted::NotSent {
                    error: blocked.to_string(),
                };
            }
            let timed_out = err.is_timeout();
            let error = if timed_out {
                format!("no response within {} ms", timeout.as_millis())
            } else {
                describe(&err)
            };
            sent(None, Some(error), timed_out, 0, String::new(), None)
        }
    }
}

/// A client error and its causes, without the URL.
fn describe(err: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = std::error::Error::source(err);
    while let Some(e) = source {
        parts.push(e.to_string());
        source = e.source();
    }
    let head = if err.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    if parts.is_empty() {
        head.to_string()
    } else {
        format!("{head}: {}", parts.join(": "))
    }
}

/// Up to 4 KiB of the response as text, cut at a character boundary.
fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut end = text.len().min(EXCERPT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

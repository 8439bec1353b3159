//! Idempotent commands: a request repeated with the same `Idempotency-Key` gets the stored
//! result of the first and writes nothing; the same key with another request is refused.
//!
//! The stored result is written in the command's own transaction, so it exists exactly
//! when the command's effects do. Failed commands store nothing and may be retried.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::{StoreError, TenantId};

/// A client's key and the fingerprint of the request it was sent with.
#[derive(Clone, Debug)]
pub struct IdempotencyKey {
    pub key: String,
    /// sha-256 of whatever makes two requests "the same" (method, route, body).
    pub fingerprint: [u8; 32],
}

impl IdempotencyKey {
    /// Fingerprints a request from its parts.
    pub fn new(key: String, parts: &[&[u8]]) -> Self {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
        IdempotencyKey {
            key,
            fingerprint: hasher.finalize().into(),
        }
    }
}

/// Why a keyed command cannot run.
#[derive(Debug, Error)]
pub enum IdempotencyError {
    /// The key was used before for a different request.
    #[error("Idempotency-Key '{0}' was already used with a different request")]
    Reused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Serialises commands with the same key and returns the stored result if there is one.
/// Call first inside the command's transaction.
pub async fn lookup<T: DeserializeOwned>(
    tx: &deadpool_postgres::Transaction<'_>,
    tenant_id: TenantId,
    key: &IdempotencyKey,
) -> Result<Option<T>, IdempotencyError> {
    let lock = tx
        .prepare_cached("SELECT pg_advisory_xact_lock($1)")
        .await
        .map_err(StoreError::from)?;
    tx.execute(&lock, &[&lock_key(tenant_id, &key.key)])
        .await
        .map_err(StoreError::from)?;
    let select = tx
        .prepare_cached(
            "SELECT fingerprint, response FROM idempotency_keys WHERE tenant_id = $1 AND key = $2",
        )
        .await
        .map_err(StoreError::from)?;
    let Some(row) = tx
        .query_opt(&select, &[&tenant_id.0, &key.key])
        .await
        .map_err(StoreError::from)?
    else {
        return Ok(None);
    };
    let fingerprint: Vec<u8> = row.try_get("fingerprint").map_err(StoreError::from)?;
    if fingerprint != key.fingerprint {
        return Err(IdempotencyError::Reused(key.key.clone()));
    }
    let response = crate::stored_json::read(&row, 1);
    serde_json::from_value(response)
        .map(Some)
        .map_err(|err| StoreError::Corrupt(format!("stored idempotent response: {err}")).into())
}

/// Stores the result of a command, in its transaction.
pub async fn remember<T: Serialize>(
    tx: &deadpool_postgres::Transaction<'_>,
    tenant_id: TenantId,
    key: &IdempotencyKey,
    result: &T,
) -> Result<(), StoreError> {
    let response = serde_json::to_value(result)
        .map_err(|err| StoreError::Corrupt(format!("serialising a response: {err}")))?;
    let insert = tx
        .prepare_cached(
            "INSERT INTO idempotency_keys (tenant_id, key, fingerprint, response) \
             VALUES ($1, $2, $3, $4)",
        )
        .await?;
    tx.execute(
        &insert,
        &[
            &tenant_id.0,
            &key.key,
            &key.fingerprint.as_slice(),
            &response,
        ],
    )
    .await?;
    Ok(())
}

fn lock_key(tenant_id: TenantId, key: &str) -> i64 {
    let mut hasher = Sha256::new();
    hasher.update(tenant_id.0.as_bytes());
    hasher.update(key.as_bytes());
    let digest = hasher.finalize();
    i64::from_be_bytes(digest[..8].try_into().expect("sha-256 is 32 bytes"))
}

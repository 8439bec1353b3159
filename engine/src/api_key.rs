//! API keys: `sy_` followed by 40 random characters, shown once; only their sha-256 is
//! stored. Each key belongs to one tenant and carries scopes.

use chrono::{DateTime, Utc};
use rand::distr::{Alphanumeric, SampleString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::events::account::{ApiKeyCreated, ApiKeyRevoked};
use crate::events::Payload;
use crate::log::{append, StreamLock};
use crate::{Actor, ApiKeyId, Pool, StoreError, TenantId};

/// What a key may do. `Full` may do everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Full,
    Designer,
    Service,
    Auditor,
}

impl Scope {
    /// Every scope, for error messages.
    pub const ALL: [Scope; 4] = [Scope::Full, Scope::Designer, Scope::Service, Scope::Auditor];

    /// The scope's name as clients write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Full => "full",
            Scope::Designer => "designer",
            Scope::Service => "service",
            Scope::Auditor => "auditor",
        }
    }

    /// Parses a scope name.
    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// A key's secret, shown once at creation. Deliberately neither `Debug` nor `Display`.
pub struct SecretKey(String);

impl SecretKey {
    /// The secret itself, for the one response that shows it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The authenticated caller behind a key or a console session.
#[derive(Clone, Debug)]
pub struct Principal {
    pub tenant_id: TenantId,
    /// The key, when the caller sent one.
    pub key_id: Option<ApiKeyId>,
    /// The person, when the caller is a signed-in console session.
    pub user_id: Option<crate::UserId>,
    pub scopes: Vec<Scope>,
}

impl Principal {
    /// True when the key has `full` or any of `allowed`.
    pub fn may(&self, allowed: &[Scope]) -> bool {
        grants(&self.scopes, allowed)
    }
}

/// Whether holding `held` allows what any of `allowed` does: `full` allows everything.
pub fn grants(held: &[Scope], allowed: &[Scope]) -> bool {
    held.iter()
        .any(|s| *s == Scope::Full || allowed.contains(s))
}

/// A key as listed: never the secret.
#[derive(Clone, Debug, Serialize)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub name: String,
    /// The first characters of the key, to tell keys apart.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The most active (unrevoked) keys a tenant may have.
pub const MAX_ACTIVE_PER_TENANT: i64 = 100;

/// Why a key was not created.
#[derive(Debug, thiserror::Error)]
pub enum CreateKeyError {
    #[error("the tenant has {MAX_ACTIVE_PER_TENANT} active API keys, the most a tenant may have; revoke one first")]
    TooMany,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<tokio_postgres::Error> for CreateKeyError {
    fn from(err: tokio_postgres::Error) -> Self {
        CreateKeyError::Store(err.into())
    }
}

impl From<deadpool_postgres::PoolError> for CreateKeyError {
    fn from(err: deadpool_postgres::PoolError) -> Self {
        CreateKeyError::Store(err.into())
    }
}

/// Creates a key for `tenant_id` and returns it with its secret, unless the tenant has
/// [`MAX_ACTIVE_PER_TENANT`] active keys already (counted under the tenant's row lock).
pub async fn create(
    pool: &Pool,
    actor: &Actor,
    name: &str,
    scopes: &[Scope],
) -> Result<(ApiKeyRecord, SecretKey), CreateKeyError> {
    let secret = format!("sy_{}", Alphanumeric.sample_string(&mut rand::rng(), 40));
    let prefix = secret[..11].to_string();
    let id = ApiKeyId::new();
    let scope_names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let active = crate::tenant::count_under_lock(
        &tx,
        actor.tenant_id,
        "SELECT count(*) FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL",
    )
    .await?
    .unwrap_or(0);
    if active >= MAX_ACTIVE_PER_TENANT {
        return Err(CreateKeyError::TooMany);
    }
    let row = tx
        .query_one(
            "INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, scopes) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING created_at",
            &[
                &id.0,
                &actor.tenant_id.0,
                &name,
                &prefix,
                &digest(&secret).as_slice(),
                &scope_names,
            ],
        )
        .await?;
    let created = ApiKeyCreated {
        id,
        name: name.to_string(),
        prefix: prefix.clone(),
        scopes: scope_names.iter().map(|s| s.to_string()).collect(),
    };
    append(&tx, created.by(actor, id.0)?, StreamLock::Take).await?;
    tx.commit().await?;
    let record = ApiKeyRecord {
        id,
        name: name.to_string(),
        prefix,
        scopes: scopes.to_vec(),
        created_at: row.try_get("created_at")?,
        revoked_at: None,
    };
    Ok((record, SecretKey(secret)))
}

/// The principal behind `token`, or `None` for an unknown or revoked key.
pub async fn authenticate(pool: &Pool, token: &str) -> Result<Option<Principal>, StoreError> {
    if !token.starts_with("sy_") {
        return Ok(None);
    }
    let client = pool.get().await?;
    let stmt = client
        .prepare_cached(
            "SELECT id, tenant_id, scopes FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
        )
        .await?;
    let Some(row) = client
        .query_opt(&stmt, &[&digest(token).as_slice()])
        .await?
    else {
        return Ok(None);
    };
    let names: Vec<String> = row.try_get("scopes")?;
    Ok(Some(Principal {
        key_id: Some(row.try_get("id")?),
        user_id: None,
        tenant_id: row.try_get("tenant_id")?,
        scopes: names.iter().filter_map(|n| Scope::parse(n)).collect(),
    }))
}

/// A tenant's keys, oldest first, after `after` (a key id).
pub async fn list(
    pool: &Pool,
    tenant_id: TenantId,
    after: Option<ApiKeyId>,
    limit: i64,
) -> Result<Vec<ApiKeyRecord>, StoreError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            "SELECT id, name, prefix, scopes, created_at, revoked_at FROM api_keys \
             WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3",
            &[&tenant_id.0, &after.map(|a| a.0), &limit],
        )
        .await?;
    rows.iter()
        .map(|row| {
            let names: Vec<String> = row.try_get("scopes")?;
            Ok(ApiKeyRecord {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                prefix: row.try_get("prefix")?,
                scopes: names.iter().filter_map(|n| Scope::parse(n)).collect(),
                created_at: row.try_get("created_at")?,
                revoked_at: row.try_get("revoked_at")?,
            })
        })
        .collect()
}

/// Revokes a key of the actor's tenant. `false` when no such active key exists.
pub async fn revoke(pool: &Pool, actor: &Actor, id: ApiKeyId) -> Result<bool, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let revoked = tx
        .execute(
            "UPDATE api_keys SET revoked_at = now() \
             WHERE id = $1 AND tenant_id = $2 AND revoked_at IS NULL",
            &[&id.0, &actor.tenant_id.0],
        )
        .await?;
    if revoked == 0 {
        return Ok(false);
    }
    append(&tx, ApiKeyRevoked { id }.by(actor, id.0)?, StreamLock::Take).await?;
    tx.commit().await?;
    Ok(true)
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

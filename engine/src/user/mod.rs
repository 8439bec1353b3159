//! Console accounts: people of one tenant with a role, signing in with email and password.
//!
//! - [`password`]: argon2id hashing and generated passwords.
//! - [`session`]: server-side sessions behind an opaque cookie token.
//!
//! A role maps onto the API's scopes, so a signed-in person may do exactly what a key
//! with that scope may: `admin` is `full`, `designer` is `designer`, `auditor` is
//! `auditor` (read only).

pub mod password;
pub mod role;
pub mod session;

pub use role::Role;

use chrono::{DateTime, Utc};
use serde::Serialize;
use thiserror::Error;

use crate::api_key::Scope;
use crate::events::account::{UserCreated, UserDisabled};
use crate::events::Payload;
use crate::log::{append, StreamLock};
use crate::{Actor, Pool, StoreError, TenantId, UserId};

// What a role may do is the API's word for it.
impl Role {
    /// The API scope this role acts with.
    pub fn scope(self) -> Scope {
        match self {
            Role::Admin => Scope::Full,
            Role::Designer => Scope::Designer,
            Role::Auditor => Scope::Auditor,
        }
    }
}

/// A person as stored, without the password hash.
#[derive(Clone, Debug, Serialize, postgres_from_row::FromRow)]
pub struct User {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub email: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// Why a user could not be created.
#[derive(Debug, Error)]
pub enum UserError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("a user with the email {0} already exists")]
    EmailTaken(String),
    #[error(
        "the tenant has {MAX_PER_TENANT} users, the most a tenant may have; disable one first"
    )]
    TooMany,
    #[error("no tenant with id {0}")]
    NoTenant(TenantId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn check_email(email: &str) -> Result<String, UserError> {
    let email = email.trim().to_lowercase();
    let plausible = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if !plausible {
        return Err(UserError::Invalid {
            field: "email",
            message: "give an email address such as ana@example.com".into(),
        });
    }
    Ok(email)
}

/// The most console users (active ones) a tenant may have.
pub const MAX_PER_TENANT: i64 = 500;

/// Creates a user of `tenant_id` with `password` (already checked by the caller's rules:
/// see [`password::check`]); records `user.created` (without the password) in the user's
/// own stream.
pub async fn create(
    pool: &Pool,
    actor: &Actor,
    email: &str,
    role: Role,
    password: &str,
) -> Result<User, UserError> {
    let email = check_email(email)?;
    password::check(password).map_err(|message| UserError::Invalid {
        field: "password",
        message,
    })?;
    let secret = password.to_string();
    let phc = tokio::task::spawn_blocking(move || password::hash(&secret))
        .await
        .map_err(|_| StoreError::Corrupt("hashing the password failed".into()))?;
    let id = UserId::new();
    let mut client = pool.get().await.map_err(StoreError::from)?;
    let tx = client.transaction().await.map_err(StoreError::from)?;
    // The tenant's row is locked while counting, so concurrent creates cannot pass the
    // quota together.
    let active = crate::tenant::count_under_lock(
        &tx,
        actor.tenant_id,
        "SELECT count(*) FROM users WHERE tenant_id = $1 AND disabled_at IS NULL",
    )
    .await?
    .ok_or(UserError::NoTenant(actor.tenant_id))?;
    if active >= MAX_PER_TENANT {
        return Err(UserError::TooMany);
    }
    // Unique within the tenant only: another tenant's accounts are neither found nor
    // reserved by this.
    let inserted = tx
        .query_opt(
            "INSERT INTO users (id, tenant_id, email, role, password_hash) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id, (lower(email))) DO NOTHING RETURNING created_at",
            &[&id.0, &actor.tenant_id.0, &email, &role.as_str(), &phc],
        )
        .await
        .map_err(StoreError::from)?;
    let created_at: DateTime<Utc> = match inserted {
        Some(row) => row.try_get("created_at").map_err(StoreError::from)?,
        None => return Err(UserError::EmailTaken(email)),
    };
    let created = UserCreated {
        id,
        email: email.clone(),
        role,
    };
    append(&tx, created.by(actor, id.0)?, StreamLock::Take).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(User {
        id,
        tenant_id: actor.tenant_id,
        email,
        role,
        created_at,
    })
}

/// A person as listed: with whether they may still sign in.
#[derive(Clone, Debug, Serialize, postgres_from_row::FromRow)]
pub struct Listed {
    #[serde(flatten)]
    #[from_row(flatten)]
    pub user: User,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// The tenant's users, oldest first.
pub async fn list(pool: &Pool, tenant_id: TenantId) -> Result<Vec<Listed>, StoreError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            "SELECT id, tenant_id, email, role, created_at, disabled_at FROM users \
             WHERE tenant_id = $1 ORDER BY created_at, id LIMIT 1000",
            &[&tenant_id.0],
        )
        .await?;
    crate::store::read_rows(&rows)
}

/// Disables a user of the actor's tenant and ends every session they have; records
/// `user.disabled`. `false` when the tenant has no such active user.
pub async fn disable(pool: &Pool, actor: &Actor, id: UserId) -> Result<bool, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let updated = tx
        .execute(
            "UPDATE users SET disabled_at = now() \
             WHERE id = $1 AND tenant_id = $2 AND disabled_at IS NULL",
            &[&id.0, &actor.tenant_id.0],
        )
        .await?;
    if updated == 0 {
        return Ok(false);
    }
    tx.execute(
        "UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
        &[&id.0],
    )
    .await?;
    append(&tx, UserDisabled { id }.by(actor, id.0)?, StreamLock::Take).await?;
    tx.commit().await?;
    Ok(true)
}

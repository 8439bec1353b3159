//! Creating and changing subscriptions: check the fields, seal the URL and secret, store.

use serde_json::json;
use switchyard_engine::connection::Sealed;
use switchyard_engine::flow::Limits;
use switchyard_engine::sealed::SealedRow;
pub use switchyard_engine::subscription::recovery::{Backfill, MAX_BACKFILL};
use switchyard_engine::subscription::{
    self, event_types, Inserted, NewSubscription, Subscription, SubscriptionChanges,
};
use switchyard_engine::{Actor, Pool, StoreError, TenantId};
use thiserror::Error;
use url::Url;
use uuid::Uuid;

use super::DeliveryConfig;
use crate::egress::EgressPolicy;
use crate::providers::url_preview;
use crate::rotation::{self, Previous};
use crate::vault::{Keyring, VaultError};

/// What a subscriber sends (seed 002's fields).
#[derive(Debug, Default)]
pub struct SubscriptionInput {
    pub name: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub secret: Option<String>,
    pub enabled: Option<bool>,
    /// How often and how many at once the endpoint is called.
    pub limits: Limits,
    /// Deliver events recorded before the subscription, from here.
    pub backfill: Option<Backfill>,
}

/// A change; `None` keeps the current value. `secret: Some(None)` removes the secret.
#[derive(Debug, Default)]
pub struct SubscriptionUpdate {
    pub name: Option<String>,
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub secret: Option<Option<String>>,
    pub enabled: Option<bool>,
    /// New limits; `Some(Limits::default())` removes them.
    pub limits: Option<Limits>,
}

/// Why a subscription was not stored, changed or deleted.
#[derive(Debug, Error)]
pub enum SubscriptionError {
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("subscription {0} not found")]
    NotFound(Uuid),
    #[error("a tenant may have at most {0} subscriptions; delete one first")]
    LimitReached(i64),
    #[error("the backfill would cover more than {MAX_BACKFILL} events; start it later")]
    BackfillTooLarge,
    #[error("{0}")]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &str, message: impl Into<String>) -> SubscriptionError {
    SubscriptionError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// The target and secret as sealed together, with a replaced secret while it still signs.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Target {
    pub url: String,
    pub secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Previous>,
}

fn check_name(name: &str) -> Result<String, SubscriptionError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(invalid(
            "name",
            "give the webhook a name of 1 to 200 characters",
        ));
    }
    Ok(name.to_string())
}

fn check_url(
    raw: &str,
    config: &DeliveryConfig,
    policy: &EgressPolicy,
) -> Result<String, SubscriptionError> {
    let url = Url::parse(raw.trim()).map_err(|err| invalid("url", format!("not a URL: {err}")))?;
    match url.scheme() {
        "https" => {}
        "http" if !config.require_https => {}
        "http" => {
            return Err(invalid(
                "url",
                "must be https (SWITCHYARD_REQUIRE_HTTPS_SUBSCRIPTIONS is on)",
            ))
        }
        other => {
            return Err(invalid(
                "url",
                format!("must be http or https, not {other}"),
            ))
        }
    }
    if url.host().is_none() {
        return Err(invalid("url", "must name a host"));
    }
    policy
        .check_url(&url)
        .map_err(|blocked| invalid("url", blocked.to_string()))?;
    Ok(url.to_string())
}

fn check_event_types(patterns: &[String]) -> Result<Vec<String>, SubscriptionError> {
    if patterns.is_empty() {
        return Err(invalid(
            "eventTypes",
            "list at least one event type, e.g. [\"job.*\"]",
        ));
    }
    let mut kept: Vec<String> = Vec::new();
    for (i, pattern) in patterns.iter().enumerate() {
        let pattern = pattern.trim();
        event_types::check_subscription_pattern(pattern)
            .map_err(|m| invalid(&format!("eventTypes[{i}]"), m))?;
        if !kept.iter().any(|p| p == pattern) {
            kept.push(pattern.to_string());
        }
    }
    Ok(kept)
}

fn check_secret(secret: Option<String>) -> Result<Option<String>, SubscriptionError> {
    match secret {
        Some(s) if s.is_empty() || s.len() > 1024 => Err(invalid(
            "secret",
            "must be 1 to 1024 characters, or left out",
        )),
        other => Ok(other),
    }
}

/// Seals `target` for subscription `id`; returns it with the URL's preview.
fn seal(
    keyring: &Keyring,
    tenant_id: TenantId,
    id: Uuid,
    target: &Target,
) -> (Sealed, String, bool) {
    let plaintext = serde_json::to_vec(target).expect("a target serialises");
    let (ciphertext, key_id) = keyring.encrypt(tenant_id.0, id, &plaintext);
    (
        Sealed { ciphertext, key_id },
        url_preview(&target.url),
        target.secret.is_some(),
    )
}

/// Opens a subscription's sealed target.
pub fn open(
    keyring: &Keyring,
    tenant_id: TenantId,
    id: Uuid,
    sealed: &Sealed,
) -> Result<Target, VaultError> {
    let plaintext = keyring.decrypt(tenant_id.0, id, &sealed.ciphertext, &sealed.key_id)?;
    serde_json::from_slice(plaintext.expose())
        .map_err(|_| VaultError::Corrupt(format!("subscription {id}'s target is not valid")))
}

/// Validates and stores a subscription; returns it and the deliveries its backfill queued.
pub async fn create(
    pool: &Pool,
    keyring: &Keyring,
    config: &DeliveryConfig,
    policy: &EgressPolicy,
    actor: &Actor,
    input: SubscriptionInput,
) -> Result<(Subscription, u64), SubscriptionError> {
    let name = check_name(&input.name)?;
    let url = check_url(&input.url, config, policy)?;
    let event_types = check_event_types(&input.event_types)?;
    let secret = check_secret(input.secret)?;
    let id = Uuid::now_v7();
    let (sealed, url_preview, has_secret) = seal(
        keyring,
        actor.tenant_id,
        id,
        &Target {
            url,
            secret,
            previous: None,
        },
    );
    let new = NewSubscription {
        id,
        name,
        sealed,
        url_preview,
        has_secret,
        event_types,
        enabled: input.enabled.unwrap_or(true),
        limits: input.limits,
        backfill: input.backfill,
    };
    match subscription::insert(pool, actor, new, config.max_subscriptions).await? {
        Inserted::Created(s, backfilled) => Ok((*s, backfilled)),
        Inserted::LimitReached(_) => Err(SubscriptionError::LimitReached(config.max_subscriptions)),
        Inserted::BackfillTooLarge => Err(SubscriptionError::BackfillTooLarge),
    }
}

/// Changes a subscription; a new URL or secret is sealed with whatever is kept.
pub async fn update(
    pool: &Pool,
    keyring: &Keyring,
    config: &DeliveryConfig,
    policy: &EgressPolicy,
    actor: &Actor,
    id: Uuid,
    update: SubscriptionUpdate,
) -> Result<Subscription, SubscriptionError> {
    let mut changes = SubscriptionChanges::default();
    if let Some(name) = update.name {
        changes.name = Some(check_name(&name)?);
    }
    if let Some(patterns) = update.event_types {
        changes.event_types = Some(check_event_types(&patterns)?);
    }
    changes.enabled = update.enabled;
    changes.limits = update.limits;
    if update.url.is_some() || update.secret.is_some() {
        let client = pool.get().await.map_err(StoreError::from)?;
        let (_, sealed) = Subscription::sealed(&client, actor.tenant_id, id)
            .await?
            .ok_or(SubscriptionError::NotFound(id))?;
        let current = open(keyring, actor.tenant_id, id, &sealed)?;
        let secret = match update.secret {
            Some(secret) => check_secret(secret)?,
            None => current.secret.clone(),
        };
        let previous = rotation::after_change(
            current.secret.as_deref(),
            secret.as_deref(),
            current.previous,
            config.secret_overlap,
        );
        changes.previous_secret_until = previous.as_ref().map(|p| p.until);
        let target = Target {
            url: match update.url {
                Some(url) => check_url(&url, config, policy)?,
                None => current.url,
            },
            secret,
            previous,
        };
        changes.sealed = Some(seal(keyring, actor.tenant_id, id, &target));
    }
    subscription::update(pool, actor, id, changes)
        .await?
        .ok_or(SubscriptionError::NotFound(id))
}

/// Deletes a subscription and its pending deliveries.
pub async fn delete(pool: &Pool, actor: &Actor, id: Uuid) -> Result<(), SubscriptionError> {
    if subscription::delete(pool, actor, id).await? {
        Ok(())
    } else {
        Err(SubscriptionError::NotFound(id))
    }
}

/// The catalogue of subscribable event types.
/// Seed 002's names come after Switchyard's, each saying which event it stands for.
pub fn catalogue() -> serde_json::Value {
    let ours = event_types::subscribable_types()
        .map(|t| json!({ "type": t, "description": t.description() }));
    let seed = event_types::SEED_NAMES
        .iter()
        .map(|(name, t)| json!({ "type": name, "description": t.description(), "alias_of": t }));
    json!(ours.chain(seed).collect::<Vec<_>>())
}

//! Event subscriptions (seed 002) as stored: a name, event type patterns, and the target URL
//! and signing secret sealed by the vault (a catch-hook URL is a bearer secret, so only its
//! preview is ever shown). Creating, changing, deleting and disabling a subscription
//! appends a metadata-only event to its stream.
//!
//! - [`event_types`]: what may be subscribed to, and `*` patterns.
//! - [`dispatch`]: fanning the log out into deliveries, exactly once per subscription.
//! - [`delivery`]: claiming, rate limiting and recording deliveries.
//! - [`delivery_log`]: the delivery log, and redelivering one delivery.
//! - [`recovery`]: recovering a window of failed deliveries; backfilling a new subscription.

pub mod delivery;
pub mod delivery_log;
pub mod dispatch;
pub mod event_types;
pub mod recovery;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::flow::view::flow_columns;
use crate::flow::{FlowView, Limits};
use crate::health::Health;
use crate::log::EventType;
use crate::log::{append, NewEvent, StreamLock};
use crate::sealed::{Sealed, SealedRow, SealedTable};
use crate::store::read_row;
use crate::{Actor, Pool, StoreError, TenantId};

/// A subscription's metadata: never its URL or secret.
#[derive(Clone, Debug, Serialize, postgres_from_row::FromRow)]
pub struct Subscription {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub name: String,
    /// Scheme and host of the target, nothing secret-bearing.
    pub url_preview: String,
    pub has_secret: bool,
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    /// `unknown`, `healthy` or `failing` (a delivery used up its attempts; a later
    /// success clears it).
    pub health: Health,
    pub last_delivery_at: Option<DateTime<Utc>>,
    /// Until when the previous secret still signs beside the current one (a rotation).
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// Its limits (without a `rate`, the server's per-minute default applies) and hold.
    #[serde(flatten)]
    #[from_row(flatten)]
    pub flow: FlowView,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A subscription to store.
#[derive(Debug)]
pub struct NewSubscription {
    pub id: Uuid,
    pub name: String,
    pub sealed: Sealed,
    pub url_preview: String,
    pub has_secret: bool,
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub limits: Limits,
    /// Deliver the events recorded before the subscription, from here.
    pub backfill: Option<recovery::Backfill>,
}

/// What to change; `None` keeps the current value.
#[derive(Debug, Default)]
pub struct SubscriptionChanges {
    pub name: Option<String>,
    /// New sealed target, its preview, and whether it has a secret.
    pub sealed: Option<(Sealed, String, bool)>,
    /// With `sealed`: until when a previous secret sealed in it still signs.
    pub previous_secret_until: Option<DateTime<Utc>>,
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
    /// New limits (`Some(Limits::default())` removes them).
    pub limits: Option<Limits>,
}

/// The outcome of an insert.
#[derive(Debug)]
pub enum Inserted {
    /// Created, with the number of deliveries its backfill queued.
    Created(Box<Subscription>, u64),
    /// The tenant already has this many subscriptions.
    LimitReached(i64),
    /// The backfill would cover more events than allowed; nothing was stored.
    BackfillTooLarge,
}

impl SealedRow for Subscription {
    const TABLE: SealedTable = SealedTable::Subscriptions;
    const COLUMNS: &'static str = COLUMNS;
}

const COLUMNS: &str = concat!(
    "id, tenant_id, name, url_preview, has_secret, event_types, enabled, disabled_reason, \
     health, last_delivery_at, previous_secret_until, created_at, updated_at, ",
    flow_columns!()
);

/// Appends a metadata-only event about `s` to its stream.
pub(crate) async fn record(
    tx: &deadpool_postgres::Transaction<'_>,
    tenant_id: TenantId,
    metadata: serde_json::Value,
    event_type: EventType,
    s: &Subscription,
) -> Result<(), StoreError> {
    record_with(tx, tenant_id, metadata, event_type, s, json!({})).await
}

/// [`record`], with `extra` fields after the subscription's.
pub(crate) async fn record_with(
    tx: &deadpool_postgres::Transaction<'_>,
    tenant_id: TenantId,
    metadata: serde_json::Value,
    event_type: EventType,
    s: &Subscription,
    extra: serde_json::Value,
) -> Result<(), StoreError> {
    let mut data = json!({
        "id": s.id, "name": s.name, "url_preview": s.url_preview,
        "event_types": s.event_types, "enabled": s.enabled,
        "disabled_reason": s.disabled_reason, "health": s.health,
    });
    if let (Some(data), serde_json::Value::Object(extra)) = (data.as_object_mut(), extra) {
        data.extend(extra);
    }
    append(
        tx,
        NewEvent {
            tenant_id,
            stream_id: s.id,
            event_type,
            data,
            metadata,
        },
        StreamLock::Take,
    )
    .await?;
    Ok(())
}

/// Stores a new subscription unless the tenant already has `max` of them. The tenant's
/// row is locked while counting, so concurrent creates cannot pass the limit together.
pub async fn insert(
    pool: &Pool,
    actor: &Actor,
    new: NewSubscription,
    max: i64,
) -> Result<Inserted, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let count = crate::tenant::count_under_lock(
        &tx,
        actor.tenant_id,
        "SELECT count(*) FROM webhook_subscriptions WHERE tenant_id = $1",
    )
    .await?
    .unwrap_or(0);
    if count >= max {
        return Ok(Inserted::LimitReached(count));
    }
    let row = tx
        .query_one(
            &format!(
                "INSERT INTO webhook_subscriptions (id, tenant_id, name, ciphertext, key_id, url_preview, \
                 has_secret, event_types, enabled, limits) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {COLUMNS}"
            ),
            &[&new.id, &actor.tenant_id.0, &new.name, &new.sealed.ciphertext, &new.sealed.key_id,
              &new.url_preview, &new.has_secret, &new.event_types, &new.enabled, &new.limits.to_stored()],
        )
        .await?;
    let subscription: Subscription = read_row(&row)?;
    record(
        &tx,
        actor.tenant_id,
        actor.metadata(),
        EventType::SubscriptionCreated,
        &subscription,
    )
    .await?;
    let backfilled = match new.backfill {
        None => 0,
        Some(from) => match recovery::backfill(&tx, subscription.id, from).await {
            Ok(n) => n,
            Err(recovery::BackfillError::TooMany) => return Ok(Inserted::BackfillTooLarge),
            Err(recovery::BackfillError::Store(err)) => return Err(err),
        },
    };
    tx.commit().await?;
    Ok(Inserted::Created(Box::new(subscription), backfilled))
}

/// Changes a subscription. Enabling it again clears the reason it was disabled.
pub async fn update(
    pool: &Pool,
    actor: &Actor,
    id: Uuid,
    changes: SubscriptionChanges,
) -> Result<Option<Subscription>, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let (ciphertext, key_id, preview, has_secret) = match &changes.sealed {
        Some((sealed, preview, has_secret)) => (
            Some(sealed.ciphertext.clone()),
            Some(sealed.key_id.clone()),
            Some(preview.clone()),
            Some(*has_secret),
        ),
        None => (None, None, None, None),
    };
    let row = tx
        .query_opt(
            &format!(
                "UPDATE webhook_subscriptions SET name = coalesce($3, name), \
                 ciphertext = coalesce($4, ciphertext), key_id = coalesce($5, key_id), \
                 url_preview = coalesce($6, url_preview), has_secret = coalesce($7, has_secret), \
                 event_types = coalesce($8, event_types), enabled = coalesce($9, enabled), \
                 disabled_reason = CASE WHEN $9 THEN NULL ELSE disabled_reason END, \
                 previous_secret_until = CASE WHEN $4::bytea IS NULL THEN previous_secret_until ELSE $10 END, \
                 limits = CASE WHEN $11 THEN $12 ELSE limits END, \
                 updated_at = now() WHERE id = $1 AND tenant_id = $2 RETURNING {COLUMNS}"
            ),
            &[
                &id,
                &actor.tenant_id.0,
                &changes.name,
                &ciphertext,
                &key_id,
                &preview,
                &has_secret,
                &changes.event_types,
                &changes.enabled,
                &changes.previous_secret_until,
                &changes.limits.is_some(),
                &changes.limits.and_then(Limits::to_stored),
            ],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let subscription: Subscription = read_row(&row)?;
    record(
        &tx,
        actor.tenant_id,
        actor.metadata(),
        EventType::SubscriptionUpdated,
        &subscription,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(subscription))
}

/// Deletes a subscription and its deliveries; returns whether it existed.
pub async fn delete(pool: &Pool, actor: &Actor, id: Uuid) -> Result<bool, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    // Locks in the worker's order, deliveries before their subscription: recording a
    // delivery settles its row, then writes the subscription's health. Deleting the
    // subscription first and cascading to its deliveries would take them the other way
    // round and deadlock with a delivery being recorded.
    tx.execute(
        "SELECT 1 FROM deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id \
         WHERE d.subscription_id = $1 AND s.tenant_id = $2 ORDER BY d.id FOR UPDATE OF d",
        &[&id, &actor.tenant_id.0],
    )
    .await?;
    let Some(row) = tx
        .query_opt(
            &format!("DELETE FROM webhook_subscriptions WHERE id = $1 AND tenant_id = $2 RETURNING {COLUMNS}"),
            &[&id, &actor.tenant_id.0],
        )
        .await?
    else {
        return Ok(false);
    };
    let subscription: Subscription = read_row(&row)?;
    record(
        &tx,
        actor.tenant_id,
        actor.metadata(),
        EventType::SubscriptionDeleted,
        &subscription,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

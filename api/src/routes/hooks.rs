//! Event subscriptions (seed 002): `/api/hooks/webhooks` with the seed's camelCase fields,
//! the event type catalogue, the delivery log and manual redelivery. The target URL is a
//! bearer secret for catch hooks, so responses carry only its preview in `url`.

use chrono::{DateTime, Utc};
use poem::http::StatusCode;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Deserialize;
use serde_json::Value;
use switchyard_actions::deliveries::subscriptions::{
    self, SubscriptionError, SubscriptionInput, SubscriptionUpdate,
};
use switchyard_engine::api_key::Scope;
use switchyard_engine::subscription::delivery::{self, DeliveryView, Redelivery};
use switchyard_engine::subscription::{self as store, Subscription};
use uuid::Uuid;

use super::{paging, ApiTags};
use crate::auth::ApiKeyAuth;
use crate::json_body::JsonBody;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

pub struct HooksApi {
    pub state: AppState,
}

#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
struct CreateWebhook {
    name: String,
    url: String,
    /// Event types or patterns such as `job.*`.
    event_types: Vec<String>,
    /// Signs each delivery (`X-Hook-Signature`, `webhook-signature`) when given.
    secret: Option<String>,
    enabled: Option<bool>,
}

#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
struct UpdateWebhook {
    name: Option<String>,
    url: Option<String>,
    event_types: Option<Vec<String>>,
    /// A new secret, or `null` to stop signing.
    #[serde(default)]
    secret: MaybeUndefined<String>,
    enabled: Option<bool>,
}

/// A subscription; never its full URL or its secret.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct Webhook {
    id: Uuid,
    name: String,
    /// Scheme and host of the target URL (the full URL is stored encrypted).
    url: String,
    event_types: Vec<String>,
    enabled: bool,
    has_secret: bool,
    /// `unknown`, `healthy` or `failing` (a delivery used up its attempts).
    health: String,
    /// Set when a 410 answer disabled the subscription.
    disabled_reason: Option<String>,
    last_delivery_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Subscription> for Webhook {
    fn from(s: Subscription) -> Self {
        Webhook {
            id: s.id,
            name: s.name,
            url: s.url_preview,
            event_types: s.event_types,
            enabled: s.enabled,
            has_secret: s.has_secret,
            health: s.health,
            disabled_reason: s.disabled_reason,
            last_delivery_at: s.last_delivery_at,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct WebhookList {
    items: Vec<Webhook>,
    #[oai(rename = "next_cursor")]
    next_cursor: Option<String>,
}

#[derive(Object)]
struct EventTypes {
    items: Value,
}

/// One attempt in the delivery log.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct Attempt {
    attempt: i32,
    /// `succeeded`, `failed`, `timeout`, `network_error` or `not_sent`.
    outcome: String,
    status_code: Option<i32>,
    error: Option<String>,
    response_excerpt: String,
    duration_ms: i32,
    next_attempt_at: Option<DateTime<Utc>>,
    recorded_at: DateTime<Utc>,
}

/// A delivery of one event to one subscription.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct Delivery {
    id: Uuid,
    event_id: Uuid,
    event_type: String,
    /// `pending`, `running`, `succeeded` or `failed`.
    status: String,
    attempts: i32,
    next_attempt_at: Option<DateTime<Utc>>,
    last_status_code: Option<i32>,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    attempt_log: Vec<Attempt>,
}

impl From<DeliveryView> for Delivery {
    fn from(d: DeliveryView) -> Self {
        Delivery {
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            created_at: d.created_at,
            updated_at: d.updated_at,
            attempt_log: d
                .attempt_log
                .into_iter()
                .map(|a| Attempt {
                    attempt: a.attempt,
                    outcome: a.outcome,
                    status_code: a.status_code,
                    error: a.error,
                    response_excerpt: a.response_excerpt,
                    duration_ms: a.duration_ms,
                    next_attempt_at: a.next_attempt_at,
                    recorded_at: a.recorded_at,
                })
                .collect(),
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct DeliveryList {
    items: Vec<Delivery>,
    #[oai(rename = "next_cursor")]
    next_cursor: Option<String>,
}

#[derive(Object)]
struct Redelivered {
    id: Uuid,
    status: String,
}

#[derive(ApiResponse)]
enum CreateResponse {
    #[oai(status = 201)]
    Created(Json<Webhook>),
}

#[derive(ApiResponse)]
enum DeleteResponse {
    /// The subscription and its deliveries are gone.
    #[oai(status = 204)]
    Deleted,
}

#[derive(ApiResponse)]
enum RedeliverResponse {
    /// One more attempt is scheduled now.
    #[oai(status = 202)]
    Accepted(Json<Redelivered>),
}

fn subscription_error(err: SubscriptionError) -> ApiError {
    let detail = err.to_string();
    match err {
        SubscriptionError::Invalid { field, message } => ApiError::invalid(&field, message),
        SubscriptionError::NotFound(id) => ApiError::not_found("webhook", id),
        SubscriptionError::LimitReached(_) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "subscription-limit",
            "Too many webhooks",
            detail,
        )
        .into(),
        SubscriptionError::Vault(_) => Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "credentials-unreadable",
            "The stored URL cannot be opened",
            format!("{detail}; set the URL again, or configure the key it was sealed with"),
        )
        .into(),
        SubscriptionError::Store(err) => err.into(),
    }
}

#[OpenApi(tag = "ApiTags::Subscriptions")]
impl HooksApi {
    /// Subscribe a URL to events; deliveries are signed when a secret is given.
    #[oai(path = "/api/hooks/webhooks", method = "post")]
    async fn create(
        &self,
        auth: ApiKeyAuth,
        body: JsonBody<CreateWebhook>,
    ) -> Result<CreateResponse, ApiError> {
        let actor = auth.require(&[Scope::Full])?;
        let body = body.0;
        let created = subscriptions::create(
            &self.state.pool,
            &self.state.keyring,
            &self.state.deliveries,
            &self.state.policy,
            &actor,
            SubscriptionInput {
                name: body.name,
                url: body.url,
                event_types: body.event_types,
                secret: body.secret,
                enabled: body.enabled,
            },
        )
        .await
        .map_err(subscription_error)?;
        Ok(CreateResponse::Created(Json(created.into())))
    }

    /// The tenant's subscriptions.
    #[oai(path = "/api/hooks/webhooks", method = "get")]
    async fn list(
        &self,
        auth: ApiKeyAuth,
        cursor: Query<Option<String>>,
        limit: Query<Option<i64>>,
    ) -> Result<Json<WebhookList>, ApiError> {
        let actor = auth.require(&[Scope::Full])?;
        let limit = paging::limit(limit.0, 50, 500)?;
        let after = paging::cursor(cursor.0.as_deref(), |c| Uuid::parse_str(c).ok())?;
        let items = store::list(&self.state.pool, actor.tenant_id, after, limit).await?;
        let next_cursor = paging::next_cursor(&items, limit, |s| s.id.to_string());
        Ok(Json(WebhookList {
            items: items.into_iter().map(Into::into).collect(),
            next_cursor,
        }))
    }

    /// The event types that can be subscribed to.
    #[oai(path = "/api/hooks/event-types", method = "get")]
    async fn event_types(&self, auth: ApiKeyAuth) -> Result<Json<EventTypes>, ApiError> {
        auth.require(&[Scope::Full])?;
        Ok(Json(EventTypes {
            items: subscriptions::catalogue(),
        }))
    }

    /// One subscription.
    #[oai(path = "/api/hooks/webhooks/:id", method = "get")]
    async fn get(&self, auth: ApiKeyAuth, id: Path<Uuid>) -> Result<Json<Webhook>, ApiError> {
        let actor = auth.require(&[Scope::Full])?;
        store::get(&self.state.pool, actor.tenant_id, id.0)
            .await?
            .map(|s| Json(s.into()))
            .ok_or_else(|| ApiError::not_found("webhook", id.0))
    }

    /// Change a subscription; `enabled: true` re-enables one a 410 disabled.
    #[oai(path = "/api/hooks/webhooks/:id", method = "patch")]
    async fn update(
        &self,
        auth: ApiKeyAuth,
        id: Path<Uuid>,
        body: JsonBody<UpdateWebhook>,
    ) -> Result<Json<Webhook>, ApiError> {
        let actor = auth.require(&[Scope::Full])?;
        let body = body.0;
        let secret = match body.secret {
            MaybeUndefined::Value(s) => Some(Some(s)),
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Undefined => None,
        };
        let updated = subscriptions::update(
            &self.state.pool,
            &self.state.keyring,
            &self.state.deliveries,
            &self.state.policy,
            &actor,
            id.0,
            SubscriptionUpdate {
                name: body.name,
                url: body.url,
                event_types: body.event_types,
                secret,
                enabled: body.enabled,
            },
        )
        .await
        .map_err(subscription_error)?;
        self.state.worker.wake();
        Ok(Json(updated.into()))
    }

    /// Delete a subscription and its deliveries.
    #[oai(path = "/api/hooks/webhooks/:id", method = "delete")]
    async fn delete(&self, auth: ApiKeyAuth, id: Path<Uuid>) -> Result<DeleteResponse, ApiError> {
        let actor = auth.require(&[Scope::Full])?;
        subscriptions::delete(&self.state.pool, &actor, id.0)
            .await
            .map_err(subscription_error)?;
        Ok(DeleteResponse::Deleted)
    }

    /// The subscription's deliveries, newest first, each with every attempt.
    #[oai(path = "/api/hooks/webhooks/:id/deliveries", method = "get")]
    async fn deliveries(
        &self,
        auth: ApiKeyAuth,
        id: Path<Uuid>,
        cursor: Query<Option<String>>,
        limit: Query<Option<i64>>,
    ) -> Result<Json<DeliveryList>, ApiError> {
        let actor = auth.require(&[Scope::Full])?;
        if store::get(&self.state.pool, actor.tenant_id, id.0)
            .await?
            .is_none()
        {
            return Err(ApiError::not_found("webhook", id.0));
        }
        let limit = paging::limit(limit.0, 50, 500)?;
        let before = paging::cursor(cursor.0.as_deref(), parse_delivery_cursor)?;
        let items = delivery::list(&self.state.pool, actor.tenant_id, id.0, before, limit).await?;
        let next_cursor = paging::next_cursor(&items, limit, |d| {
            format!("{}_{}", d.created_at.timestamp_micros(), d.id)
        });
        Ok(Json(DeliveryList {
            items: items.into_iter().map(Into::into).collect(),
            next_cursor,
        }))
    }

    /// Send a finished delivery again, now (one more attempt).
    #[oai(
        path = "/api/hooks/webhooks/:id/deliveries/:delivery_id/retry",
        method = "post"
    )]
    async fn redeliver(
        &self,
        auth: ApiKeyAuth,
        id: Path<Uuid>,
        delivery_id: Path<Uuid>,
    ) -> Result<RedeliverResponse, ApiError> {
        let actor = auth.require(&[Scope::Full])?;
        match delivery::redeliver(&self.state.pool, actor.tenant_id, id.0, delivery_id.0).await? {
            Redelivery::Scheduled => {
                self.state.worker.wake();
                Ok(RedeliverResponse::Accepted(Json(Redelivered {
                    id: delivery_id.0,
                    status: "pending".into(),
                })))
            }
            Redelivery::NotFound => Err(ApiError::not_found("delivery", delivery_id.0)),
            Redelivery::InProgress(status) => Err(Problem::new(
                StatusCode::CONFLICT,
                "delivery-in-progress",
                "Delivery in progress",
                format!("the delivery is {status}; it can be sent again once it has succeeded or failed"),
            )
            .into()),
        }
    }
}

fn parse_delivery_cursor(text: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (micros, id) = text.split_once('_')?;
    Some((
        DateTime::from_timestamp_micros(micros.parse().ok()?)?,
        Uuid::parse_str(id).ok()?,
    ))
}

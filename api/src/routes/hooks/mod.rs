//! Event subscriptions (seed 002): `/api/hooks/webhooks` with the seed's camelCase fields,
//! the event type catalogue, the delivery log and manual redelivery. The target URL is a
//! bearer secret for catch hooks, so responses carry only its preview in `url`.

mod bodies;

use chrono::{DateTime, Utc};
use poem::http::StatusCode;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, OpenApi};
use switchyard_actions::deliveries::subscriptions::{
    self, Backfill, SubscriptionError, SubscriptionInput, SubscriptionUpdate,
};
use switchyard_engine::api_key::Scope;
use switchyard_engine::sealed::SealedRow;
use switchyard_engine::subscription::delivery_log::{self as delivery, Redelivery};
use switchyard_engine::subscription::recovery;
use switchyard_engine::subscription::Subscription;
use uuid::Uuid;

use super::limits::LimitsBody;
use super::{paging, ApiTags};
use crate::auth::ApiKeyAuth;
use crate::json_body::JsonBody;
use crate::problem::{ApiError, Problem};
use crate::schema::Documented;
use crate::state::AppState;
use bodies::{
    BackfillFrom, CreateWebhook, DeliveryList, EventTypes, RecoverWebhook, Recovered, Redelivered,
    UpdateWebhook, Webhook, WebhookList,
};

pub struct HooksApi {
    pub state: AppState,
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
        SubscriptionError::BackfillTooLarge => ApiError::invalid("backfill", detail),
        SubscriptionError::Store(err) => err.into(),
    }
}

/// The backfill's start: a time or a cursor, exactly one.
fn backfill_from(from: BackfillFrom) -> Result<Backfill, ApiError> {
    match (from.since, from.after) {
        (Some(since), None) => Ok(Backfill::Since(since)),
        (None, Some(after)) => after
            .parse()
            .map(Backfill::After)
            .map_err(|msg: String| ApiError::invalid("backfill.after", msg)),
        _ => Err(ApiError::invalid(
            "backfill",
            "give exactly one of since (a time) or after (a next_cursor of GET /api/v1/events)",
        )),
    }
}

#[OpenApi(tag = "ApiTags::Subscriptions")]
impl HooksApi {
    /// Subscribe a URL to events; deliveries are signed when a secret is given.
    #[oai(
        path = "/api/hooks/webhooks",
        method = "post",
        operation_id = "createSubscription"
    )]
    async fn create(
        &self,
        auth: ApiKeyAuth,
        body: JsonBody<CreateWebhook>,
    ) -> Result<CreateResponse, ApiError> {
        let actor = auth.require(&[Scope::Full])?;
        let body = body.0;
        let backfill = body.backfill.map(backfill_from).transpose()?;
        let (created, backfilled) = subscriptions::create(
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
                limits: LimitsBody::parse_given(body.limits.as_ref())?,
                backfill,
            },
        )
        .await
        .map_err(subscription_error)?;
        if backfilled > 0 {
            self.state.committed();
        }
        let mut webhook = Webhook::from(created);
        webhook.backfilled = backfill.map(|_| backfilled);
        Ok(CreateResponse::Created(Json(webhook)))
    }

    /// The tenant's subscriptions.
    #[oai(
        path = "/api/hooks/webhooks",
        method = "get",
        operation_id = "listSubscriptions"
    )]
    async fn list(
        &self,
        auth: ApiKeyAuth,
        cursor: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))] limit: Query<Option<i64>>,
    ) -> Result<Json<WebhookList>, ApiError> {
        let actor = auth.require(&[Scope::Full])?;
        let limit = paging::limit(limit.0, 50, 500)?;
        let after = paging::cursor(cursor.0.as_deref(), |c| Uuid::parse_str(c).ok())?;
        let items = Subscription::list(&self.state.pool, actor.tenant_id, after, limit).await?;
        let next_cursor = paging::next_cursor(&items, limit, |s| s.id.to_string());
        Ok(Json(WebhookList {
            items: items.into_iter().map(Into::into).collect(),
            next_cursor,
        }))
    }

    /// The event types that can be subscribed to.
    #[oai(
        path = "/api/hooks/event-types",
        method = "get",
        operation_id = "listEventTypes"
    )]
    async fn event_types(&self, auth: ApiKeyAuth) -> Result<Json<EventTypes>, ApiError> {
        auth.require(&[Scope::Full])?;
        Ok(Json(EventTypes {
            items: match subscriptions::catalogue() {
                serde_json::Value::Array(items) => items.into_iter().map(Documented::new).collect(),
                _ => Vec::new(),
            },
        }))
    }

    /// One subscription.
    #[oai(
        path = "/api/hooks/webhooks/:id",
        method = "get",
        operation_id = "getSubscription"
    )]
    async fn get(&self, auth: ApiKeyAuth, id: Path<Uuid>) -> Result<Json<Webhook>, ApiError> {
        let actor = auth.require(&[Scope::Full])?;
        Subscription::get(&self.state.pool, actor.tenant_id, id.0)
            .await?
            .map(|s| Json(s.into()))
            .ok_or_else(|| ApiError::not_found("webhook", id.0))
    }

    /// Change a subscription; `enabled: true` re-enables one a 410 disabled.
    #[oai(
        path = "/api/hooks/webhooks/:id",
        method = "patch",
        operation_id = "updateSubscription"
    )]
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
                limits: LimitsBody::parse_change(&body.limits)?,
            },
        )
        .await
        .map_err(subscription_error)?;
        self.state.committed();
        Ok(Json(updated.into()))
    }

    /// Delete a subscription and its deliveries.
    #[oai(
        path = "/api/hooks/webhooks/:id",
        method = "delete",
        operation_id = "deleteSubscription"
    )]
    async fn delete(&self, auth: ApiKeyAuth, id: Path<Uuid>) -> Result<DeleteResponse, ApiError> {
        let actor = auth.require(&[Scope::Full])?;
        subscriptions::delete(&self.state.pool, &actor, id.0)
            .await
            .map_err(subscription_error)?;
        Ok(DeleteResponse::Deleted)
    }

    /// The subscription's deliveries, newest first, each with every attempt.
    #[oai(
        path = "/api/hooks/webhooks/:id/deliveries",
        method = "get",
        operation_id = "listDeliveries"
    )]
    async fn deliveries(
        &self,
        auth: ApiKeyAuth,
        id: Path<Uuid>,
        cursor: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))] limit: Query<Option<i64>>,
    ) -> Result<Json<DeliveryList>, ApiError> {
        let actor = auth.require(&[Scope::Full])?;
        if Subscription::get(&self.state.pool, actor.tenant_id, id.0)
            .await?
            .is_none()
        {
            return Err(ApiError::not_found("webhook", id.0));
        }
        let limit = paging::limit(limit.0, 50, 500)?;
        let before = paging::cursor(cursor.0.as_deref(), parse_delivery_cursor)?;
        let items = delivery::list(&self.state.pool, actor.tenant_id, id.0, before, limit).await?;
        let next_cursor = paging::next_cursor(&items, limit, |d| {
            format!("{}_{}", d.progress.created_at.timestamp_micros(), d.id)
        });
        Ok(Json(DeliveryList {
            items: items.into_iter().map(Into::into).collect(),
            next_cursor,
        }))
    }

    /// Send a finished delivery again, now (one more attempt).
    #[oai(
        path = "/api/hooks/webhooks/:id/deliveries/:delivery_id/retry",
        method = "post",
        operation_id = "retryDelivery"
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
                self.state.committed();
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

    /// Queue again every failed delivery created in a window (`since`, and `until` or
    /// now), for one more attempt each: after a receiver's outage. One call queues at most
    /// 1000, oldest first, and says how many remain; calling again is safe (only deliveries
    /// still failed are queued). Each shows `requeuedBy: "recover"` in the delivery log.
    #[oai(
        path = "/api/hooks/webhooks/:id/recover",
        method = "post",
        operation_id = "recoverSubscription"
    )]
    async fn recover(
        &self,
        auth: ApiKeyAuth,
        id: Path<Uuid>,
        body: JsonBody<RecoverWebhook>,
    ) -> Result<RecoverResponse, ApiError> {
        let actor = auth.require(&[Scope::Full])?;
        let since = body.0.since;
        let until = body.0.until.unwrap_or_else(Utc::now);
        if until <= since {
            return Err(ApiError::invalid("until", "must be later than since"));
        }
        let recovered = recovery::recover(&self.state.pool, actor.tenant_id, id.0, since, until)
            .await?
            .ok_or_else(|| ApiError::not_found("webhook", id.0))?;
        if recovered.requeued > 0 {
            self.state.committed();
        }
        Ok(RecoverResponse::Accepted(Json(Recovered {
            requeued: recovered.requeued,
            remaining: recovered.remaining,
            since,
            until,
        })))
    }
}

#[derive(ApiResponse)]
enum RecoverResponse {
    /// The window's failed deliveries (up to 1000) are queued again.
    #[oai(status = 202)]
    Accepted(Json<Recovered>),
}

fn parse_delivery_cursor(text: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (micros, id) = text.split_once('_')?;
    Some((
        DateTime::from_timestamp_micros(micros.parse().ok()?)?,
        Uuid::parse_str(id).ok()?,
    ))
}

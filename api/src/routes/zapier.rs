//! A polling trigger for Zapier (seed 004): the tenant's newest events as a bare array,
//! newest first, each with a stable `id` (the event's) that Zapier de-duplicates on. The
//! items are the same event objects subscriptions deliver. REST-hook subscribe and
//! unsubscribe is the subscriptions API.

use chrono::{DateTime, Utc};
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::OpenApi;
use switchyard_actions::deliveries::payload::EventView;
use switchyard_engine::api_key::Scope;
use switchyard_engine::log::read;
use switchyard_engine::subscription::event_types;
use switchyard_engine::StoreError;

use super::{paging, ApiTags};
use crate::auth::ApiKeyAuth;
use crate::problem::ApiError;
use crate::schema::{DeliveredEvent, Documented};
use crate::state::AppState;

pub struct ZapierApi {
    pub state: AppState,
}

/// `since`: an RFC 3339 time, or Unix seconds or milliseconds.
fn parse_since(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    let n: i64 = text.parse().ok()?;
    if n > 100_000_000_000 {
        DateTime::from_timestamp_millis(n)
    } else {
        DateTime::from_timestamp(n, 0)
    }
}

#[OpenApi(tag = "ApiTags::Zapier")]
impl ZapierApi {
    /// The newest events (at most `limit`, default 50), newest first; `event_type` may be
    /// a pattern such as `job.*`; `since` keeps only events recorded after it.
    #[oai(
        path = "/api/webhooks/zapier/poll",
        method = "get",
        operation_id = "pollZapierEvents"
    )]
    async fn poll(
        &self,
        auth: ApiKeyAuth,
        event_type: Query<Option<String>>,
        since: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<Option<i64>>,
    ) -> Result<Json<Vec<Documented<DeliveredEvent>>>, ApiError> {
        let actor = auth.require(&[Scope::Service])?;
        let limit = paging::limit(limit.0, 50, 100)?;
        let pattern = match event_type
            .0
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            Some(p) => {
                event_types::check_pattern(p).map_err(|m| ApiError::invalid("event_type", m))?;
                Some(event_types::like_pattern(p))
            }
            None => None,
        };
        let since = match since.0.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => Some(parse_since(s).ok_or_else(|| {
                ApiError::invalid(
                    "since",
                    "give an RFC 3339 time or Unix seconds or milliseconds",
                )
            })?),
            None => None,
        };
        let since = paging::time("since", since)?;
        let client = self.state.pool.get().await.map_err(StoreError::from)?;
        let events = read::newest(
            &client,
            actor.tenant_id,
            &event_types::subscribable(),
            pattern.as_deref(),
            since,
            limit,
        )
        .await?;
        Ok(Json(
            events
                .iter()
                .map(|e| {
                    Documented::new(
                        EventView {
                            id: e.id.0,
                            event_type: e.event_type.as_str(),
                            tenant_id: actor.tenant_id.0,
                            stream_id: e.stream_id,
                            position: e.position,
                            recorded_at: e.recorded_at,
                            data: &e.data,
                        }
                        .to_json(),
                    )
                })
                .collect(),
        ))
    }
}

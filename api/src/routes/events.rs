//! The tenant's event log: pages, an NDJSON export, and chain verification.

use chrono::{DateTime, Utc};
use futures_util::stream;
use poem::Body;
use poem_openapi::param::Query;
use poem_openapi::payload::{Binary, Json};
use poem_openapi::types::ToJSON;
use poem_openapi::{ApiResponse, Object, OpenApi};
use switchyard_engine::api_key::Scope;
use switchyard_engine::log::{self, Cursor, Event, EventFilter};
use switchyard_engine::{StoreError, TenantId};
use uuid::Uuid;

use super::{paging, ApiTags};
use crate::auth::ApiKeyAuth;
use crate::problem::ApiError;
use crate::schema::{Closed, Documented, EventTypes, JsonObject};
use crate::state::AppState;

pub struct EventsApi {
    pub state: AppState,
}

/// An event of the log.
#[derive(Object)]
pub struct EventBody {
    id: Uuid,
    position: i64,
    stream_id: Uuid,
    stream_version: i64,
    #[oai(rename = "type")]
    event_type: Closed<EventTypes>,
    data: Documented<JsonObject>,
    metadata: Documented<JsonObject>,
    recorded_at: DateTime<Utc>,
    prev_hash: String,
    hash: String,
}

impl From<Event> for EventBody {
    fn from(e: Event) -> Self {
        EventBody {
            id: e.id.0,
            position: e.position,
            stream_id: e.stream_id,
            stream_version: e.stream_version,
            event_type: e.event_type.as_str().into(),
            data: Documented::new(e.data),
            metadata: Documented::new(e.metadata),
            recorded_at: e.recorded_at,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

/// A page of events.
#[derive(Object)]
pub struct EventList {
    pub items: Vec<EventBody>,
    pub next_cursor: Option<String>,
}

#[derive(Object)]
struct VerificationBody {
    ok: bool,
    events_checked: u64,
    streams_checked: u64,
    first_break: Option<BreakBody>,
}

#[derive(Object)]
struct BreakBody {
    position: i64,
    event_id: Uuid,
    stream_id: Uuid,
    stream_version: i64,
    reason: String,
}

#[derive(ApiResponse)]
enum ExportResponse {
    /// One event per line, in cursor order.
    #[oai(status = 200, content_type = "application/x-ndjson")]
    Ok(Binary<Body>),
}

const EXPORT_PAGE: i64 = 500;

#[OpenApi(tag = "ApiTags::Events")]
impl EventsApi {
    /// Page through the log. Only committed events are returned, and a late-committing
    /// event is never skipped: keep `next_cursor` and pass it as `after` to continue.
    /// `next_cursor` is null only for an empty page.
    #[oai(path = "/api/v1/events", method = "get", operation_id = "listEvents")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        auth: ApiKeyAuth,
        after: Query<Option<String>>,
        cursor: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))] limit: Query<Option<i64>>,
        #[oai(name = "type")] event_type: Query<Option<String>>,
        stream_id: Query<Option<Uuid>>,
        since: Query<Option<DateTime<Utc>>>,
        until: Query<Option<DateTime<Utc>>>,
    ) -> Result<Json<EventList>, ApiError> {
        let actor = auth.require(&[Scope::Auditor])?;
        let limit = paging::limit(limit.0, 100, 1000)?;
        let raw = after.0.or(cursor.0);
        let filter = filter(
            actor.tenant_id,
            raw.as_deref(),
            event_type.0,
            stream_id.0,
            since.0,
            until.0,
        )?;
        let client = self.state.pool.get().await.map_err(StoreError::from)?;
        let page = log::read::page(&client, &filter, limit).await?;
        Ok(Json(EventList {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor.map(|c| c.to_string()),
        }))
    }

    /// The same selection as NDJSON, streamed page by page up to the log's end as of the
    /// request.
    #[oai(
        path = "/api/v1/events/export",
        method = "get",
        operation_id = "exportEvents"
    )]
    async fn export(
        &self,
        auth: ApiKeyAuth,
        after: Query<Option<String>>,
        #[oai(name = "type")] event_type: Query<Option<String>>,
        stream_id: Query<Option<Uuid>>,
        since: Query<Option<DateTime<Utc>>>,
        until: Query<Option<DateTime<Utc>>>,
    ) -> Result<ExportResponse, ApiError> {
        let actor = auth.require(&[Scope::Auditor])?;
        // Held by the stream: the export runs until its last page is sent or the client
        // goes away.
        let running = self.state.heavy.start(actor.tenant_id)?;
        let mut filter = filter(
            actor.tenant_id,
            after.0.as_deref(),
            event_type.0,
            stream_id.0,
            since.0,
            until.0,
        )?;
        let pool = self.state.pool.clone();
        // Fix the end now so an export of a busy log finishes.
        filter.below_tx =
            Some(log::read::visible_horizon(&pool.get().await.map_err(StoreError::from)?).await?);
        let lines = stream::try_unfold(Some(filter), move |state| {
            let pool = pool.clone();
            let _running = &running;
            async move {
                let Some(mut filter) = state else {
                    return Ok(None);
                };
                let client = pool.get().await.map_err(io_error)?;
                let page = log::read::page(&client, &filter, EXPORT_PAGE)
                    .await
                    .map_err(io_error)?;
                let full = page.items.len() as i64 == EXPORT_PAGE;
                let mut chunk = Vec::new();
                for event in page.items {
                    // The same serialisation as the paging endpoint, byte for byte.
                    let line = EventBody::from(event).to_json();
                    serde_json::to_writer(&mut chunk, &line).map_err(std::io::Error::other)?;
                    chunk.push(b'\n');
                }
                let next = match page.next_cursor {
                    Some(cursor) if full => {
                        filter.after = Some(cursor);
                        Some(filter)
                    }
                    _ => None,
                };
                Ok::<_, std::io::Error>(Some((chunk, next)))
            }
        });
        Ok(ExportResponse::Ok(Binary(Body::from_bytes_stream(lines))))
    }

    /// Recompute every hash chain of the tenant's log and report the first break.
    #[oai(
        path = "/api/v1/events/verify",
        method = "get",
        operation_id = "verifyEvents"
    )]
    async fn verify(&self, auth: ApiKeyAuth) -> Result<Json<VerificationBody>, ApiError> {
        let actor = auth.require(&[Scope::Auditor])?;
        let _running = self.state.heavy.start(actor.tenant_id)?;
        let v = log::verify::verify(&self.state.pool, Some(actor.tenant_id)).await?;
        Ok(Json(VerificationBody {
            ok: v.ok,
            events_checked: v.events_checked,
            streams_checked: v.streams_checked,
            first_break: v.first_break.map(|b| BreakBody {
                position: b.position,
                event_id: b.event_id,
                stream_id: b.stream_id,
                stream_version: b.stream_version,
                reason: b.reason,
            }),
        }))
    }
}

fn filter(
    tenant_id: TenantId,
    after: Option<&str>,
    event_type: Option<String>,
    stream_id: Option<Uuid>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> Result<EventFilter, ApiError> {
    let after = paging::cursor(after, |c| c.parse::<Cursor>().ok())?;
    Ok(EventFilter {
        tenant_id: Some(tenant_id),
        after,
        event_type: event_type.filter(|t| !t.is_empty()),
        stream_id,
        since: paging::time("since", since)?,
        until: paging::time("until", until)?,
        below_tx: None,
    })
}

fn io_error(err: impl Into<StoreError>) -> std::io::Error {
    let err: StoreError = err.into();
    tracing::error!(error = %err, "event export interrupted");
    std::io::Error::other(err.to_string())
}

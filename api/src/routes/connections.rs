//! `/api/v1/tenant/connections` (seed 003): provider credentials, stored encrypted and
//! never returned, not even in part.

use chrono::{DateTime, Utc};
use poem::http::StatusCode;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Deserialize;
use switchyard_actions::connections::{self, ConnectionError, ConnectionInput, ConnectionUpdate};
use switchyard_engine::api_key::Scope;
use switchyard_engine::connection::{self as store, Connection};
use switchyard_engine::sealed::SealedRow;
use uuid::Uuid;

use super::limits::{FlowBody, LimitsBody};
use super::{paging, ApiTags};
use crate::auth::ApiKeyAuth;
use crate::json_body::JsonBody;
use crate::problem::{ApiError, Problem};
use crate::schema::{Closed, Documented, Healths, JsonObject, Providers};
use crate::state::AppState;

pub struct ConnectionsApi {
    pub state: AppState,
}

#[derive(Object, Deserialize)]
struct CreateConnection {
    /// `twilio`, `sendgrid`, `generic_rest` or `webhook`.
    provider: Closed<Providers>,
    #[oai(validator(min_length = 1, max_length = 200))]
    connection_name: String,
    /// The provider's credential object, e.g. `{"api_key": "..."}` for SendGrid.
    credentials: Documented<JsonObject>,
    limits: Option<LimitsBody>,
}

#[derive(Object, Deserialize)]
struct UpdateConnection {
    #[oai(validator(min_length = 1, max_length = 200))]
    connection_name: Option<String>,
    /// A complete replacement credential object in the provider's shape.
    credentials: Option<Documented<JsonObject>>,
    /// New limits, or `null` to remove them.
    #[serde(default)]
    limits: MaybeUndefined<LimitsBody>,
}

/// A connection's metadata; its credentials are never part of a response.
#[derive(Object)]
pub struct ConnectionBody {
    id: Uuid,
    provider: Closed<Providers>,
    #[oai(validator(min_length = 1, max_length = 200))]
    connection_name: String,
    /// Where requests go, without paths, queries or credentials.
    endpoint_preview: String,
    /// `unknown`, `healthy` or `failing`, from recent requests.
    health: Closed<Healths>,
    last_event_at: Option<DateTime<Utc>>,
    /// Paused by hand: its actions wait, in order, until it is resumed.
    paused: bool,
    #[oai(flatten)]
    flow: FlowBody,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Connection> for ConnectionBody {
    fn from(c: Connection) -> Self {
        ConnectionBody {
            id: c.id,
            provider: c.provider.into(),
            connection_name: c.connection_name,
            endpoint_preview: c.endpoint_preview,
            health: c.health.as_str().into(),
            last_event_at: c.last_event_at,
            paused: c.paused_at.is_some(),
            flow: c.flow.into(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Object)]
struct ConnectionList {
    items: Vec<ConnectionBody>,
    next_cursor: Option<String>,
}

#[derive(ApiResponse)]
enum CreateResponse {
    #[oai(status = 201)]
    Created(Json<ConnectionBody>),
}

#[derive(ApiResponse)]
enum DeleteResponse {
    /// The connection and its credentials are gone.
    #[oai(status = 204)]
    Deleted,
}

/// Maps a connection error to its problem.
pub fn connection_error(err: ConnectionError) -> ApiError {
    let detail = err.to_string();
    match err {
        ConnectionError::Invalid { field, message } => ApiError::invalid(&field, message),
        ConnectionError::NotFound(id) => ApiError::not_found("connection", id),
        ConnectionError::InUse(_) => Problem::new(
            StatusCode::CONFLICT,
            "connection-in-use",
            "Connection in use",
            format!("{detail}; publish versions that no longer use it first"),
        )
        .into(),
        ConnectionError::Unreadable(_) => Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "credentials-unreadable",
            "Credentials cannot be used",
            format!(
                "{detail}; store the credentials again, or configure the key they were sealed with"
            ),
        )
        .into(),
        ConnectionError::Store(err) => err.into(),
    }
}

impl ConnectionsApi {
    async fn set_paused(
        &self,
        auth: ApiKeyAuth,
        id: Uuid,
        paused: bool,
    ) -> Result<Json<ConnectionBody>, ApiError> {
        let actor = auth.require(&[Scope::Designer])?;
        let connection = store::set_paused(&self.state.pool, &actor, id, paused)
            .await?
            .ok_or_else(|| ApiError::not_found("connection", id))?;
        if !paused {
            // Its actions are due again now, not at the next poll.
            self.state.committed();
        }
        Ok(Json(connection.into()))
    }
}

#[OpenApi(tag = "ApiTags::Connections")]
impl ConnectionsApi {
    /// Store a provider connection; the credentials are encrypted and never shown again.
    #[oai(
        path = "/api/v1/tenant/connections",
        method = "post",
        operation_id = "createConnection"
    )]
    async fn create(
        &self,
        auth: ApiKeyAuth,
        body: JsonBody<CreateConnection>,
    ) -> Result<CreateResponse, ApiError> {
        let actor = auth.require(&[Scope::Designer])?;
        let input = ConnectionInput {
            provider: body.0.provider.into(),
            connection_name: body.0.connection_name,
            credentials: body.0.credentials.0,
            limits: LimitsBody::parse_given(body.0.limits.as_ref())?,
        };
        let created = connections::create(&self.state.pool, &self.state.sealer(), &actor, input)
            .await
            .map_err(connection_error)?;
        Ok(CreateResponse::Created(Json(created.into())))
    }

    /// The tenant's connections (metadata only).
    #[oai(
        path = "/api/v1/tenant/connections",
        method = "get",
        operation_id = "listConnections"
    )]
    async fn list(
        &self,
        auth: ApiKeyAuth,
        cursor: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))] limit: Query<Option<i64>>,
    ) -> Result<Json<ConnectionList>, ApiError> {
        let actor = auth.require(&[Scope::Designer])?;
        let limit = paging::limit(limit.0, 50, 500)?;
        let after = paging::cursor(cursor.0.as_deref(), |c| Uuid::parse_str(c).ok())?;
        let items = Connection::list(&self.state.pool, actor.tenant_id, after, limit).await?;
        let next_cursor = paging::next_cursor(&items, limit, |c| c.id.to_string());
        Ok(Json(ConnectionList {
            items: items.into_iter().map(Into::into).collect(),
            next_cursor,
        }))
    }

    /// One connection (metadata only).
    #[oai(
        path = "/api/v1/tenant/connections/:id",
        method = "get",
        operation_id = "getConnection"
    )]
    async fn get(
        &self,
        auth: ApiKeyAuth,
        id: Path<Uuid>,
    ) -> Result<Json<ConnectionBody>, ApiError> {
        let actor = auth.require(&[Scope::Designer])?;
        Connection::get(&self.state.pool, actor.tenant_id, id.0)
            .await?
            .map(|c| Json(c.into()))
            .ok_or_else(|| ApiError::not_found("connection", id.0))
    }

    /// Rename a connection or replace its credentials.
    #[oai(
        path = "/api/v1/tenant/connections/:id",
        method = "patch",
        operation_id = "updateConnection"
    )]
    async fn update(
        &self,
        auth: ApiKeyAuth,
        id: Path<Uuid>,
        body: JsonBody<UpdateConnection>,
    ) -> Result<Json<ConnectionBody>, ApiError> {
        let actor = auth.require(&[Scope::Designer])?;
        let change = ConnectionUpdate {
            limits: LimitsBody::parse_change(&body.0.limits)?,
            connection_name: body.0.connection_name,
            credentials: body.0.credentials.map(|c| c.0),
        };
        let updated =
            connections::update(&self.state.pool, &self.state.sealer(), &actor, id.0, change)
                .await
                .map_err(connection_error)?;
        Ok(Json(updated.into()))
    }

    /// Pause a connection: its actions wait, in order, until it is resumed. Requests
    /// already in flight finish.
    #[oai(
        path = "/api/v1/tenant/connections/:id/pause",
        method = "post",
        operation_id = "pauseConnection"
    )]
    async fn pause(
        &self,
        auth: ApiKeyAuth,
        id: Path<Uuid>,
    ) -> Result<Json<ConnectionBody>, ApiError> {
        self.set_paused(auth, id.0, true).await
    }

    /// Resume a paused connection: its waiting actions go out in order.
    #[oai(
        path = "/api/v1/tenant/connections/:id/resume",
        method = "post",
        operation_id = "resumeConnection"
    )]
    async fn resume(
        &self,
        auth: ApiKeyAuth,
        id: Path<Uuid>,
    ) -> Result<Json<ConnectionBody>, ApiError> {
        self.set_paused(auth, id.0, false).await
    }

    /// Delete a connection; 409 while the newest version of a workflow uses it.
    #[oai(
        path = "/api/v1/tenant/connections/:id",
        method = "delete",
        operation_id = "deleteConnection"
    )]
    async fn delete(&self, auth: ApiKeyAuth, id: Path<Uuid>) -> Result<DeleteResponse, ApiError> {
        let actor = auth.require(&[Scope::Designer])?;
        connections::delete(&self.state.pool, &actor, id.0)
            .await
            .map_err(connection_error)?;
        Ok(DeleteResponse::Deleted)
    }
}

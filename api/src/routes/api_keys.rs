//! `POST/GET /api/v1/api-keys`, `DELETE /api/v1/api-keys/{id}` (scope `full`).

use chrono::{DateTime, Utc};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use switchyard_engine::api_key::{self, ApiKeyRecord, Scope};
use switchyard_engine::ApiKeyId;
use uuid::Uuid;

use super::{paging, ApiTags};
use crate::auth::ApiKeyAuth;
use crate::json_body::JsonBody;
use crate::problem::ApiError;
use crate::schema::{Closed, Scopes};
use crate::state::AppState;

pub struct ApiKeysApi {
    pub state: AppState,
}

#[derive(Object, serde::Deserialize)]
struct CreateKey {
    /// A label to tell keys apart.
    #[oai(validator(min_length = 1, max_length = 100))]
    name: String,
    /// Any of `full`, `designer`, `service`, `auditor`.
    #[oai(validator(min_items = 1))]
    scopes: Vec<Closed<Scopes>>,
}

#[derive(Object)]
struct KeyBody {
    id: Uuid,
    name: String,
    /// The first characters of the key.
    prefix: String,
    scopes: Vec<Closed<Scopes>>,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

#[derive(Object)]
struct CreatedKey {
    #[oai(flatten)]
    record: KeyBody,
    /// The key itself. It is shown only in this response.
    key: String,
}

#[derive(Object)]
struct KeyList {
    items: Vec<KeyBody>,
    next_cursor: Option<String>,
}

#[derive(ApiResponse)]
enum CreateResponse {
    #[oai(status = 201)]
    Created(Json<CreatedKey>),
}

#[derive(ApiResponse)]
enum DeleteResponse {
    /// The key is revoked.
    #[oai(status = 204)]
    Revoked,
}

impl From<ApiKeyRecord> for KeyBody {
    fn from(r: ApiKeyRecord) -> Self {
        KeyBody {
            id: r.id.0,
            name: r.name,
            prefix: r.prefix,
            scopes: r.scopes.iter().map(|s| s.as_str().into()).collect(),
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        }
    }
}

#[OpenApi(tag = "ApiTags::ApiKeys")]
impl ApiKeysApi {
    /// Create a key for the caller's tenant. The key is in this response only.
    #[oai(
        path = "/api/v1/api-keys",
        method = "post",
        operation_id = "createApiKey"
    )]
    async fn create(
        &self,
        auth: ApiKeyAuth,
        body: JsonBody<CreateKey>,
    ) -> Result<CreateResponse, ApiError> {
        let actor = auth.require(&[])?;
        let name = body.0.name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(ApiError::invalid(
                "name",
                "give the key a name of 1 to 100 characters",
            ));
        }
        if body.0.scopes.is_empty() {
            return Err(ApiError::invalid(
                "scopes",
                "list at least one scope: full, designer, service or auditor",
            ));
        }
        let mut scopes = Vec::new();
        for (i, s) in body.0.scopes.iter().enumerate() {
            let scope = Scope::parse(s).ok_or_else(|| {
                ApiError::invalid(
                    &format!("scopes[{i}]"),
                    format!("unknown scope '{s}' (use full, designer, service or auditor)"),
                )
            })?;
            scopes.push(scope);
        }
        let (record, secret) = api_key::create(&self.state.pool, &actor, name, &scopes)
            .await
            .map_err(|err| match err {
                api_key::CreateKeyError::TooMany => {
                    ApiError::quota("Active API keys per tenant", err.to_string())
                }
                api_key::CreateKeyError::Store(err) => err.into(),
            })?;
        Ok(CreateResponse::Created(Json(CreatedKey {
            record: record.into(),
            key: secret.expose().to_string(),
        })))
    }

    /// List the tenant's keys (never the keys themselves).
    #[oai(
        path = "/api/v1/api-keys",
        method = "get",
        operation_id = "listApiKeys"
    )]
    async fn list(
        &self,
        auth: ApiKeyAuth,
        cursor: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))] limit: Query<Option<i64>>,
    ) -> Result<Json<KeyList>, ApiError> {
        let actor = auth.require(&[])?;
        let limit = paging::limit(limit.0, 50, 500)?;
        let after = paging::cursor(cursor.0.as_deref(), |c| {
            Uuid::parse_str(c).ok().map(ApiKeyId)
        })?;
        let records = api_key::list(&self.state.pool, actor.tenant_id, after, limit).await?;
        let next_cursor = paging::next_cursor(&records, limit, |r| r.id.to_string());
        Ok(Json(KeyList {
            items: records.into_iter().map(Into::into).collect(),
            next_cursor,
        }))
    }

    /// Revoke a key; requests with it answer 401 from now on.
    #[oai(
        path = "/api/v1/api-keys/:id",
        method = "delete",
        operation_id = "revokeApiKey"
    )]
    async fn revoke(&self, auth: ApiKeyAuth, id: Path<Uuid>) -> Result<DeleteResponse, ApiError> {
        let actor = auth.require(&[])?;
        if api_key::revoke(&self.state.pool, &actor, ApiKeyId(id.0)).await? {
            Ok(DeleteResponse::Revoked)
        } else {
            Err(ApiError::not_found("active API key", id.0))
        }
    }
}

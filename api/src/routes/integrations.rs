//! The integration catalog and the Webhook / Zapier connector (seed 000). Connector
//! connections are ordinary connections (provider `webhook`): the same rows WEBHOOK actions
//! use. Responses never carry the webhook URL or signing secret, only a preview that keeps
//! the host. These routes take a `full` key.

use chrono::{DateTime, Utc};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Deserialize;
use serde_json::Value;
use switchyard_actions::connections::{self, ConnectionInput};
use switchyard_actions::connector_test::{self, TestOutcome};
use switchyard_actions::providers::Provider;
use switchyard_engine::api_key::Scope;
use switchyard_engine::connection::{self as store, Connection};
use uuid::Uuid;

use super::connections::connection_error;
use super::limits::{FlowBody, LimitsBody};
use super::ApiTags;
use crate::auth::ApiKeyAuth;
use crate::json_body::JsonBody;
use crate::problem::ApiError;
use crate::schema::{Closed, Healths, Providers, Scopes};
use crate::state::AppState;

pub struct IntegrationsApi {
    pub state: AppState,
}

/// What Switchyard may do with a connector connection.
const CONNECTOR_SCOPES: &[&str] = &["send_events"];

#[derive(Object)]
struct CatalogEntry {
    provider: Closed<Providers>,
    name: String,
    description: String,
    installed: bool,
    /// How many connections of this provider the tenant has.
    connections: i64,
}

#[derive(Object)]
struct Catalog {
    items: Vec<CatalogEntry>,
}

/// A connector connection as the dashboard shows it.
#[derive(Object)]
struct ConnectorConnection {
    id: Uuid,
    provider: Closed<Providers>,
    name: String,
    /// `installed` (a deleted connection no longer exists).
    state: String,
    scopes: Vec<Closed<Scopes>>,
    /// `unknown`, `healthy` or `failing`, from recent deliveries and test events.
    health: Closed<Healths>,
    /// Scheme and host of the webhook URL; never its path, query or secret.
    endpoint_preview: String,
    last_event_at: Option<DateTime<Utc>>,
    /// After the signing secret was replaced: until when the old one also signs
    /// (`webhook-signature` carries both).
    previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Paused by hand: its deliveries wait until it is resumed.
    paused: bool,
    #[oai(flatten)]
    flow: FlowBody,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Connection> for ConnectorConnection {
    fn from(c: Connection) -> Self {
        ConnectorConnection {
            id: c.id,
            provider: c.provider.into(),
            name: c.connection_name,
            state: "installed".into(),
            scopes: CONNECTOR_SCOPES.iter().map(|s| Closed::from(*s)).collect(),
            health: c.health.as_str().into(),
            endpoint_preview: c.endpoint_preview,
            last_event_at: c.last_event_at,
            previous_secret_expires_at: c.previous_secret_until.filter(|at| *at > Utc::now()),
            paused: c.paused_at.is_some(),
            flow: c.flow.into(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// The webhook connector: installed or not, and its newest connection.
#[derive(Object)]
struct WebhookConnector {
    provider: Closed<Providers>,
    installed: bool,
    connection: Option<ConnectorConnection>,
}

#[derive(Object, Deserialize)]
struct ConnectWebhook {
    #[oai(validator(min_length = 1, max_length = 200))]
    name: String,
    webhook_url: String,
    signing_secret: Option<String>,
    limits: Option<LimitsBody>,
}

#[derive(Object, Deserialize)]
struct UpdateConnector {
    #[oai(validator(min_length = 1, max_length = 200))]
    name: Option<String>,
    webhook_url: Option<String>,
    /// A new secret, or `null` to stop signing.
    #[serde(default)]
    signing_secret: MaybeUndefined<String>,
    /// New limits, or `null` to remove them.
    #[serde(default)]
    limits: MaybeUndefined<LimitsBody>,
}

#[derive(Object)]
struct TestResult {
    delivered: bool,
    status_code: Option<u16>,
    duration_ms: i32,
    error: Option<String>,
}

impl From<TestOutcome> for TestResult {
    fn from(t: TestOutcome) -> Self {
        TestResult {
            delivered: t.delivered,
            status_code: t.status_code,
            duration_ms: t.duration_ms,
            error: t.error,
        }
    }
}

#[derive(ApiResponse)]
enum ConnectResponse {
    #[oai(status = 201)]
    Created(Json<ConnectorConnection>),
}

#[derive(ApiResponse)]
enum DisconnectResponse {
    /// The connection and its credentials are gone.
    #[oai(status = 204)]
    Disconnected,
}

#[OpenApi(tag = "ApiTags::Integrations")]
impl IntegrationsApi {
    /// Every provider, and whether the tenant has a connection to it.
    #[oai(
        path = "/api/integrations",
        method = "get",
        operation_id = "listIntegrations"
    )]
    async fn catalog(&self, auth: ApiKeyAuth) -> Result<Json<Catalog>, ApiError> {
        let actor = auth.require(&[Scope::Full])?;
        let counts = store::count_by_provider(&self.state.pool, actor.tenant_id).await?;
        let items = Provider::ALL
            .iter()
            .map(|p| {
                let (name, description) = p.describe();
                let connections = counts.get(p.as_str()).copied().unwrap_or(0);
                CatalogEntry {
                    provider: p.as_str().into(),
                    name: name.into(),
                    description: description.into(),
                    installed: connections > 0,
                    connections,
                }
            })
            .collect();
        Ok(Json(Catalog { items }))
    }

    /// The webhook connector and its newest connection.
    #[oai(
        path = "/api/integrations/webhook",
        method = "get",
        operation_id = "listWebhookConnections"
    )]
    async fn webhook(&self, auth: ApiKeyAuth) -> Result<Json<WebhookConnector>, ApiError> {
        let actor = auth.require(&[Scope::Full])?;
        let newest = store::newest_of(&self.state.pool, actor.tenant_id, "webhook").await?;
        Ok(Json(WebhookConnector {
            provider: "webhook".into(),
            installed: newest.is_some(),
            connection: newest.map(Into::into),
        }))
    }

    /// Connect the webhook connector; the URL and secret are encrypted and not shown again.
    #[oai(
        path = "/api/integrations/webhook",
        method = "post",
        operation_id = "createWebhookConnection"
    )]
    async fn connect(
        &self,
        auth: ApiKeyAuth,
        body: JsonBody<ConnectWebhook>,
    ) -> Result<ConnectResponse, ApiError> {
        let actor = auth.require(&[Scope::Full])?;
        let limits = LimitsBody::parse_given(body.0.limits.as_ref())?;
        let mut credentials = serde_json::Map::new();
        credentials.insert("webhook_url".into(), Value::String(body.0.webhook_url));
        if let Some(secret) = body.0.signing_secret {
            credentials.insert("signing_secret".into(), Value::String(secret));
        }
        let created = connections::create(
            &self.state.pool,
            &self.state.sealer(),
            &actor,
            ConnectionInput {
                provider: "webhook".into(),
                connection_name: body.0.name,
                credentials: Value::Object(credentials),
                limits,
            },
        )
        .await
        .map_err(|err| connection_error(err.renamed_for_connector()))?;
        Ok(ConnectResponse::Created(Json(created.into())))
    }

    /// Update a connection's name, URL or signing secret.
    #[oai(
        path = "/api/integrations/connections/:id",
        method = "patch",
        operation_id = "updateIntegrationConnection"
    )]
    async fn update(
        &self,
        auth: ApiKeyAuth,
        id: Path<Uuid>,
        body: JsonBody<UpdateConnector>,
    ) -> Result<Json<ConnectorConnection>, ApiError> {
        let actor = auth.require(&[Scope::Full])?;
        let body = body.0;
        let limits = LimitsBody::parse_change(&body.limits)?;
        let mut fields = Vec::new();
        if let Some(url) = body.webhook_url {
            fields.push(("webhook_url", Some(Value::String(url))));
        }
        match body.signing_secret {
            MaybeUndefined::Value(secret) => {
                fields.push(("signing_secret", Some(Value::String(secret))))
            }
            MaybeUndefined::Null => fields.push(("signing_secret", None)),
            MaybeUndefined::Undefined => {}
        }
        let updated = connections::patch_credentials(
            &self.state.pool,
            &self.state.sealer(),
            &actor,
            id.0,
            body.name,
            fields,
            limits,
        )
        .await
        .map_err(|err| connection_error(err.renamed_for_connector()))?;
        Ok(Json(updated.into()))
    }

    /// Disconnect: delete the connection (409 while a workflow's newest version uses it).
    #[oai(
        path = "/api/integrations/connections/:id",
        method = "delete",
        operation_id = "deleteIntegrationConnection"
    )]
    async fn disconnect(
        &self,
        auth: ApiKeyAuth,
        id: Path<Uuid>,
    ) -> Result<DisconnectResponse, ApiError> {
        let actor = auth.require(&[Scope::Full])?;
        connections::delete(&self.state.pool, &actor, id.0)
            .await
            .map_err(connection_error)?;
        Ok(DisconnectResponse::Disconnected)
    }

    /// Send the seed's `integration.test` event and report what happened.
    #[oai(
        path = "/api/integrations/connections/:id/test",
        method = "post",
        operation_id = "testConnection"
    )]
    async fn test(&self, auth: ApiKeyAuth, id: Path<Uuid>) -> Result<Json<TestResult>, ApiError> {
        let actor = auth.require(&[Scope::Full])?;
        let outcome = connector_test::send(
            &self.state.pool,
            &self.state.keyring,
            &self.state.sender,
            &self.state.endpoints,
            &actor,
            id.0,
        )
        .await
        .map_err(connection_error)?;
        Ok(Json(outcome.into()))
    }
}

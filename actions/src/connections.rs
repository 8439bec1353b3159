//! Creating and changing connections: check the credential shape for the provider, seal
//! the credentials with the vault, store metadata and ciphertext.

use serde_json::Value;
use switchyard_engine::connection::{
    self, Connection, ConnectionChanges, NewConnection, Removal, Sealed,
};
use switchyard_engine::flow::Limits;
use switchyard_engine::sealed::SealedRow;
use switchyard_engine::{Actor, Pool, StoreError};
use thiserror::Error;
use uuid::Uuid;

use crate::egress::EgressPolicy;
use crate::providers::{check_credentials, endpoint_preview, Provider, ProviderEndpoints};
use crate::rotation::{self, Previous, PREVIOUS_SIGNING_SECRET};
use crate::vault::Keyring;

/// What a designer sends.
#[derive(Debug)]
pub struct ConnectionInput {
    pub provider: String,
    pub connection_name: String,
    pub credentials: Value,
    /// How often and how many at once the connection is called.
    pub limits: Limits,
}

/// Why a connection was not stored, changed or deleted.
#[derive(Debug, Error)]
pub enum ConnectionError {
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("connection {0} not found")]
    NotFound(Uuid),
    #[error("the connection is used by the newest version of: {}", .0.join(", "))]
    InUse(Vec<String>),
    /// The stored credentials cannot be opened or used (e.g. the key that sealed them is
    /// not configured).
    #[error("{0}")]
    Unreadable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &str, message: impl Into<String>) -> ConnectionError {
    ConnectionError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

fn check_name(name: &str) -> Result<String, ConnectionError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(invalid(
            "connection_name",
            "give the connection a name of 1 to 200 characters",
        ));
    }
    Ok(name.to_string())
}

fn parse_provider(name: &str) -> Result<Provider, ConnectionError> {
    Provider::parse(name).ok_or_else(|| {
        let known: Vec<&str> = Provider::ALL.iter().map(|p| p.as_str()).collect();
        invalid(
            "provider",
            format!("unknown provider '{name}' (known: {})", known.join(", ")),
        )
    })
}

/// Seals `credentials` for connection `id` and previews its endpoint.
/// What checking and sealing credentials takes: the key, the provider endpoints (for the
/// preview) and the egress policy (literal addresses are refused at creation).
#[derive(Clone, Copy)]
pub struct Sealer<'a> {
    pub keyring: &'a Keyring,
    pub endpoints: &'a ProviderEndpoints,
    pub policy: &'a EgressPolicy,
    /// How long a replaced signing secret keeps signing beside the new one.
    pub secret_overlap: std::time::Duration,
}

fn seal(
    sealer: &Sealer<'_>,
    actor: &Actor,
    id: Uuid,
    provider: Provider,
    credentials: &Value,
    previous: Option<&Previous>,
) -> Result<(Sealed, String), ConnectionError> {
    let mut checked =
        check_credentials(provider, credentials).map_err(|p| ConnectionError::Invalid {
            field: p.field,
            message: p.message,
        })?;
    // Literal addresses are refused now; host names are checked whenever they resolve.
    for field in ["base_url", "webhook_url"] {
        let url = checked.get(field).and_then(Value::as_str);
        if let Some(url) = url.and_then(|u| url::Url::parse(u).ok()) {
            sealer
                .policy
                .check_url(&url)
                .map_err(|blocked| invalid(&format!("credentials.{field}"), blocked.to_string()))?;
        }
    }
    let preview = endpoint_preview(provider, &checked, sealer.endpoints);
    if let Some(previous) = previous {
        let kept = serde_json::to_value(previous).expect("a secret and a time serialise");
        checked.insert(PREVIOUS_SIGNING_SECRET.into(), kept);
    }
    let plaintext = serde_json::to_vec(&checked).expect("a JSON object serialises");
    let (ciphertext, key_id) = sealer.keyring.encrypt(actor.tenant_id.0, id, &plaintext);
    Ok((Sealed { ciphertext, key_id }, preview))
}

/// Validates and stores a new connection.
pub async fn create(
    pool: &Pool,
    sealer: &Sealer<'_>,
    actor: &Actor,
    input: ConnectionInput,
) -> Result<Connection, ConnectionError> {
    let provider = parse_provider(&input.provider)?;
    let connection_name = check_name(&input.connection_name)?;
    let id = Uuid::now_v7();
    let (sealed, endpoint_preview) = seal(sealer, actor, id, provider, &input.credentials, None)?;
    let new = NewConnection {
        id,
        provider: provider.as_str().into(),
        connection_name,
        sealed,
        endpoint_preview,
        limits: input.limits,
    };
    Ok(connection::insert(pool, actor, new).await?)
}

/// What to change; `None` keeps the current value.
#[derive(Debug, Default)]
pub struct ConnectionUpdate {
    pub connection_name: Option<String>,
    /// A complete replacement credential object in the provider's shape.
    pub credentials: Option<Value>,
    /// New limits; `Some(Limits::default())` removes them.
    pub limits: Option<Limits>,
}

/// Renames a connection, replaces its credentials (whole, in the provider's shape) and/or
/// changes its limits.
pub async fn update(
    pool: &Pool,
    sealer: &Sealer<'_>,
    actor: &Actor,
    id: Uuid,
    update: ConnectionUpdate,
) -> Result<Connection, ConnectionError> {
    let ConnectionUpdate {
        connection_name,
        credentials,
        limits,
    } = update;
    let current = Connection::get(pool, actor.tenant_id, id)
        .await?
        .ok_or(ConnectionError::NotFound(id))?;
    let mut changes = ConnectionChanges {
        limits,
        ..Default::default()
    };
    if let Some(name) = connection_name {
        changes.connection_name = Some(check_name(&name)?);
    }
    if let Some(credentials) = credentials {
        let provider = parse_provider(&current.provider)?;
        // A new signing secret: the old one keeps signing for the overlap. Credentials
        // that no longer open (their key is gone) are replaced without one: replacing them
        // is how they are repaired.
        let old = match stored_credentials(pool, sealer, actor, id).await {
            Ok(old) => old,
            Err(ConnectionError::Unreadable(_)) => serde_json::Map::new(),
            Err(err) => return Err(err),
        };
        let secret = |c: &serde_json::Map<String, Value>| {
            c.get("signing_secret")
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let kept = old
            .get(PREVIOUS_SIGNING_SECRET)
            .and_then(|v| serde_json::from_value::<Previous>(v.clone()).ok());
        let new_secret = credentials.as_object().and_then(secret);
        let previous = rotation::after_change(
            secret(&old).as_deref(),
            new_secret.as_deref(),
            kept,
            sealer.secret_overlap,
        );
        changes.previous_secret_until = previous.as_ref().map(|p| p.until);
        changes.sealed = Some(seal(
            sealer,
            actor,
            id,
            provider,
            &credentials,
            previous.as_ref(),
        )?);
    }
    connection::update(pool, actor, id, changes)
        .await?
        .ok_or(ConnectionError::NotFound(id))
}

/// Deletes a connection no current workflow version uses.
pub async fn delete(pool: &Pool, actor: &Actor, id: Uuid) -> Result<(), ConnectionError> {
    match connection::delete(pool, actor, id).await? {
        Removal::Removed => Ok(()),
        Removal::NotFound => Err(ConnectionError::NotFound(id)),
        Removal::InUse(workflows) => Err(ConnectionError::InUse(workflows)),
    }
}

/// Changes some credential fields of a connection, keeping the rest: `Some(None)` removes a
/// field. The result is checked against the provider's shape like a full replacement.
pub async fn patch_credentials(
    pool: &Pool,
    sealer: &Sealer<'_>,
    actor: &Actor,
    id: Uuid,
    connection_name: Option<String>,
    fields: Vec<(&'static str, Option<Value>)>,
    limits: Option<Limits>,
) -> Result<Connection, ConnectionError> {
    let mut change = ConnectionUpdate {
        connection_name,
        credentials: None,
        limits,
    };
    if fields.is_empty() {
        return update(pool, sealer, actor, id, change).await;
    }
    let mut credentials = stored_credentials(pool, sealer, actor, id).await?;
    // Derived again by the update from the old and new secrets.
    credentials.remove(PREVIOUS_SIGNING_SECRET);
    for (field, value) in fields {
        match value {
            Some(value) => credentials.insert(field.to_string(), value),
            None => credentials.remove(field),
        };
    }
    change.credentials = Some(Value::Object(credentials));
    update(pool, sealer, actor, id, change).await
}

/// The connection's credentials as stored (with a replaced secret still signing).
async fn stored_credentials(
    pool: &Pool,
    sealer: &Sealer<'_>,
    actor: &Actor,
    id: Uuid,
) -> Result<serde_json::Map<String, Value>, ConnectionError> {
    let client = pool.get().await.map_err(StoreError::from)?;
    let (_, sealed) = Connection::sealed(&client, actor.tenant_id, id)
        .await?
        .ok_or(ConnectionError::NotFound(id))?;
    drop(client);
    open_credentials(sealer.keyring, actor, id, &sealed)
}

/// Opens a connection's sealed credentials as a JSON object.
pub fn open_credentials(
    keyring: &Keyring,
    actor: &Actor,
    id: Uuid,
    sealed: &Sealed,
) -> Result<serde_json::Map<String, Value>, ConnectionError> {
    let plaintext = keyring
        .decrypt(actor.tenant_id.0, id, &sealed.ciphertext, &sealed.key_id)
        .map_err(|err| ConnectionError::Unreadable(err.to_string()))?;
    serde_json::from_slice(plaintext.expose()).map_err(|_| {
        ConnectionError::Unreadable("the stored credentials are not a JSON object".into())
    })
}

impl ConnectionError {
    /// The same error with the connector's field names (seed 000: `name`, `webhook_url`,
    /// `signing_secret`) instead of the connections API's.
    pub fn renamed_for_connector(self) -> Self {
        match self {
            ConnectionError::Invalid { field, message } => ConnectionError::Invalid {
                field: match field.as_str() {
                    "connection_name" => "name".into(),
                    other => other.strip_prefix("credentials.").unwrap_or(other).into(),
                },
                message,
            },
            other => other,
        }
    }
}

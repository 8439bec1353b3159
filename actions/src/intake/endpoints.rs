//! Creating and changing intake endpoints: check the scheme and the routes (against the
//! tenant's published workflows), seal the secret, store.

use serde_json::Value;
use switchyard_engine::definition::{Problem, WorkflowDefinition};
use switchyard_engine::intake::route::{self, Route, WorkflowShape};
use switchyard_engine::intake::{self as stored, Endpoint, EndpointChanges, NewEndpoint};
use switchyard_engine::sealed::Sealed;
use switchyard_engine::{workflow, Actor, Pool, StoreError, TenantId};
use thiserror::Error;
use uuid::Uuid;

use super::config;
use crate::vault::Keyring;

/// Why an endpoint was not stored.
#[derive(Debug, Error)]
pub enum EndpointError {
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The routes' problems, each with its path.
    #[error("the routes have {} problem(s)", .0.len())]
    Routes(Vec<Problem>),
    #[error("a tenant holds at most {} intake endpoints", stored::MAX_PER_TENANT)]
    LimitReached,
    #[error("intake endpoint {0} not found")]
    NotFound(Uuid),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new endpoint, as asked for.
pub struct EndpointInput {
    pub name: String,
    pub verify: Value,
    pub routes: Value,
}

/// A stored endpoint, and its secret when it was made here (shown this once).
pub struct Saved {
    pub endpoint: Endpoint,
    pub generated_secret: Option<String>,
}

/// Checks and stores a new endpoint.
pub async fn create(
    pool: &Pool,
    keyring: &Keyring,
    actor: &Actor,
    input: EndpointInput,
) -> Result<Saved, EndpointError> {
    let name = check_name(&input.name)?;
    let id = Uuid::new_v4();
    let (scheme, settings, sealed, generated_secret) = seal(keyring, actor, id, &input.verify)?;
    check_routes(pool, actor.tenant_id, &input.routes).await?;
    let new = NewEndpoint {
        id,
        name,
        scheme,
        settings,
        sealed,
        routes: input.routes,
    };
    let endpoint = stored::insert(pool, actor, new)
        .await?
        .ok_or(EndpointError::LimitReached)?;
    Ok(Saved {
        endpoint,
        generated_secret,
    })
}

/// Changes what is given of the tenant's endpoint `id`.
pub async fn update(
    pool: &Pool,
    keyring: &Keyring,
    actor: &Actor,
    id: Uuid,
    name: Option<String>,
    verify: Option<Value>,
    routes: Option<Value>,
) -> Result<Saved, EndpointError> {
    let name = name.as_deref().map(check_name).transpose()?;
    let mut generated_secret = None;
    let verify = match verify {
        None => None,
        Some(verify) => {
            let (scheme, settings, sealed, made) = seal(keyring, actor, id, &verify)?;
            generated_secret = made;
            Some((scheme, settings, sealed))
        }
    };
    if let Some(routes) = &routes {
        check_routes(pool, actor.tenant_id, routes).await?;
    }
    let changes = EndpointChanges {
        name,
        verify,
        routes,
    };
    let endpoint = stored::update(pool, actor, id, changes)
        .await?
        .ok_or(EndpointError::NotFound(id))?;
    Ok(Saved {
        endpoint,
        generated_secret,
    })
}

fn check_name(name: &str) -> Result<String, EndpointError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(EndpointError::Invalid {
            field: "name".into(),
            message: "a name of 1 to 100 characters".into(),
        });
    }
    Ok(name.to_string())
}

/// The scheme's name, its settings, the sealed secret, and the secret when made here.
fn seal(
    keyring: &Keyring,
    actor: &Actor,
    id: Uuid,
    verify: &Value,
) -> Result<(String, Value, Sealed, Option<String>), EndpointError> {
    let checked = config::check(verify).map_err(|p| EndpointError::Invalid {
        field: p.field,
        message: p.message,
    })?;
    let (ciphertext, key_id) = keyring.encrypt(actor.tenant_id.0, id, checked.secret.as_bytes());
    let generated = checked.generated.then_some(checked.secret);
    Ok((
        checked.name.to_string(),
        checked.settings,
        Sealed { ciphertext, key_id },
        generated,
    ))
}

/// Checks `routes` on their own, then against the newest version of each workflow they
/// name.
pub async fn check_routes(
    pool: &Pool,
    tenant_id: TenantId,
    routes: &Value,
) -> Result<Vec<Route>, EndpointError> {
    let parsed = route::parse(routes).map_err(EndpointError::Routes)?;
    let mut shapes = std::collections::HashMap::new();
    for name in parsed.iter().filter_map(Route::workflow) {
        if shapes.contains_key(name) {
            continue;
        }
        let shape = workflow::get(pool, tenant_id, name, None)
            .await?
            .and_then(|w| serde_json::from_value::<WorkflowDefinition>(w.definition).ok())
            .map(|d| WorkflowShape {
                transitions: d.transitions.iter().map(|t| t.name.clone()).collect(),
                states: d.states.iter().map(|s| s.name.clone()).collect(),
            });
        shapes.insert(name.to_string(), shape);
    }
    let problems = route::check_against(&parsed, |name| shapes.get(name)?.as_ref());
    if problems.is_empty() {
        Ok(parsed)
    } else {
        Err(EndpointError::Routes(problems))
    }
}

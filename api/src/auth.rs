//! `Authorization: Bearer <api key>`: the key names the tenant and its scopes.

use poem::http::StatusCode;
use poem::Request;
use poem_openapi::auth::Bearer;
use poem_openapi::SecurityScheme;
use switchyard_engine::api_key::{self, Principal, Scope};
use switchyard_engine::Actor;

use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// An authenticated request: who sent it and its request id.
#[derive(Debug, SecurityScheme)]
#[oai(ty = "bearer", checker = "check_key")]
pub struct ApiKeyAuth(pub Caller);

/// The principal behind a request, with the ids its events will carry.
#[derive(Clone, Debug)]
pub struct Caller {
    pub principal: Principal,
    pub request_id: String,
}

async fn check_key(req: &Request, bearer: Bearer) -> poem::Result<Caller> {
    let state = req
        .data::<AppState>()
        .expect("the app is built with its state");
    let client = req.remote_addr().as_socket_addr().map(|a| a.ip());
    state.throttle.check_client(client)?;
    let principal = api_key::authenticate(&state.pool, bearer.token.trim())
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| {
            state.throttle.auth_failed(client);
            ApiError::from(Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Unauthorized",
                "the API key is unknown or revoked",
            ))
        })?;
    state.throttle.tenant_request(principal.tenant_id)?;
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    Ok(Caller {
        principal,
        request_id,
    })
}

impl ApiKeyAuth {
    /// The caller as an engine actor, if the key has `full` or one of `allowed`.
    pub fn require(&self, allowed: &[Scope]) -> Result<Actor, ApiError> {
        self.require_keyed(allowed, None)
    }

    /// As [`Self::require`], recording the request's idempotency key in event metadata.
    pub fn require_keyed(
        &self,
        allowed: &[Scope],
        idempotency_key: Option<&str>,
    ) -> Result<Actor, ApiError> {
        let caller = &self.0;
        if !caller.principal.may(allowed) {
            let needed: Vec<&str> = std::iter::once("full")
                .chain(allowed.iter().map(|s| s.as_str()))
                .collect();
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Forbidden",
                format!(
                    "this key lacks the scope for this route; it needs one of: {}",
                    needed.join(", ")
                ),
            )
            .into());
        }
        Ok(Actor {
            tenant_id: caller.principal.tenant_id,
            key_id: Some(caller.principal.key_id),
            request_id: caller.request_id.clone(),
            idempotency_key: idempotency_key.map(str::to_string),
        })
    }
}

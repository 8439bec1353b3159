//! Who is calling: `Authorization: Bearer <api key>` (the key names the tenant and its
//! scopes), or a signed-in console session (the person's role gives the scope). As seed
//! 000 says, every API route takes either. A session can be replayed by a browser on
//! another site's behalf, so a session request that changes anything must come from this
//! origin (`Sec-Fetch-Site: same-origin`, or an `Origin` equal to `Host`).

use poem::http::{header, Method, StatusCode};
use poem::Request;
use poem_openapi::auth::{ApiKey, Bearer};
use poem_openapi::SecurityScheme;
use switchyard_engine::api_key::{self, Principal, Scope};
use switchyard_engine::user::session;
use switchyard_engine::Actor;

use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// The cookie that carries a console session's token.
pub const SESSION_COOKIE: &str = "switchyard_session";

/// An authenticated request: who sent it and its request id.
#[derive(Debug, SecurityScheme)]
pub enum ApiKeyAuth {
    /// A console session (tried first; without its cookie the key is tried).
    Session(SessionCookie),
    /// An API key.
    Key(BearerKey),
}

/// `Authorization: Bearer <api key>`.
#[derive(Debug, SecurityScheme)]
#[oai(ty = "bearer", checker = "check_key")]
pub struct BearerKey(pub Caller);

/// The console's session cookie.
#[derive(Debug, SecurityScheme)]
#[oai(
    ty = "api_key",
    key_in = "cookie",
    key_name = "switchyard_session",
    checker = "check_session"
)]
pub struct SessionCookie(pub Caller);

/// The principal behind a request, with the ids its events will carry.
#[derive(Clone, Debug)]
pub struct Caller {
    pub principal: Principal,
    pub request_id: String,
    /// A session request that would change something without proof that it comes from
    /// this origin: refused by [`ApiKeyAuth::require`].
    pub cross_site: bool,
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
            unauthorized("the API key is unknown or revoked")
        })?;
    // Every credential a request presents must hold: a key sent with a dead or forged
    // session cookie is refused rather than letting the cookie pass unnoticed.
    if let Some(token) = session_token(req) {
        let live = session::resume(&state.pool, &token)
            .await
            .map_err(ApiError::from)?;
        if live.is_none() {
            return Err(unauthorized("the request also carries a session cookie that is not valid; sign in again or drop the cookie").into());
        }
    }
    state.throttle.tenant_request(principal.tenant_id)?;
    Ok(Caller {
        principal,
        request_id: request_id(req),
        cross_site: false,
    })
}

fn unauthorized(detail: &str) -> ApiError {
    ApiError::from(Problem::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "Unauthorized",
        detail,
    ))
}

async fn check_session(req: &Request, cookie: ApiKey) -> poem::Result<Caller> {
    // A request with an API key is the key's to decide (it also checks the cookie).
    if req
        .headers()
        .contains_key(poem::http::header::AUTHORIZATION)
    {
        return Err(unauthorized("the API key decides this request").into());
    }
    let state = req
        .data::<AppState>()
        .expect("the app is built with its state");
    let signed_in = session::resume(&state.pool, &cookie.key)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| unauthorized("the session has ended; sign in again"))?;
    state.throttle.tenant_request(signed_in.tenant_id)?;
    Ok(Caller {
        principal: Principal {
            tenant_id: signed_in.tenant_id,
            key_id: None,
            user_id: Some(signed_in.user_id),
            scopes: vec![signed_in.role.scope()],
        },
        request_id: request_id(req),
        cross_site: !is_safe(req.method()) && !same_origin(req),
    })
}

/// The session token the browser sent in the `Cookie` header, if any.
/// Any value counts, even an empty or garbled one: a cookie that was sent must hold.
pub fn session_token(req: &Request) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .flat_map(|v| {
            v.split(';')
                .filter_map(|pair| pair.split_once('='))
                .find(|(name, _)| name.trim() == SESSION_COOKIE)
                .map(|(_, value)| value.trim().trim_matches('"').to_string())
        })
        .next()
}

/// Methods that change nothing.
pub fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether the browser says the request comes from this origin: `Sec-Fetch-Site:
/// same-origin`, or, from browsers that do not send it, an `Origin` naming this host.
pub fn same_origin(req: &Request) -> bool {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return site == "same-origin";
    }
    match (header("origin"), header("host")) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host)),
        _ => false,
    }
}

fn request_id(req: &Request) -> String {
    req.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

impl ApiKeyAuth {
    /// Who is calling.
    pub fn caller(&self) -> &Caller {
        match self {
            ApiKeyAuth::Session(SessionCookie(caller)) | ApiKeyAuth::Key(BearerKey(caller)) => {
                caller
            }
        }
    }

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
        let caller = self.caller();
        if caller.cross_site {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "cross-site-request",
                "Cross-site request refused",
                "a request made with a console session must come from the console's own origin",
            )
            .into());
        }
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
            key_id: caller.principal.key_id,
            user_id: caller.principal.user_id,
            request_id: caller.request_id.clone(),
            idempotency_key: idempotency_key.map(str::to_string),
            timer_id: None,
            intake: None,
        })
    }
}

//! A visit to a console page: the signed-in person, what their role allows, and the answers
//! every page shares (sign-in redirect, not found, not allowed, database down).

use poem::http::StatusCode;
use poem::{IntoResponse, Request, Response};
use serde_json::{json, Value};
use switchyard_engine::api_key::Scope;
use switchyard_engine::user::session::{self, SignedIn};
use switchyard_engine::{StoreError, TenantId};

use super::render::render;
use super::sections::Section;
use super::see_other;
use crate::auth::session_token;
use crate::state::AppState;

/// The signed-in person on a page.
pub struct Visit {
    pub user: SignedIn,
    /// The address of the navigation link this page belongs to.
    active: &'static str,
}

/// A page that cannot be shown: the response that says why.
pub struct Refusal(Box<Response>);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        *self.0
    }
}

// Handlers answer `Result<Response, Refusal>`; poem carries the refusal as an error whose
// response is the refusal's page.
impl From<Refusal> for poem::Error {
    fn from(refusal: Refusal) -> Self {
        poem::Error::from_response(*refusal.0)
    }
}

impl From<StoreError> for Refusal {
    fn from(err: StoreError) -> Self {
        tracing::warn!(error = %err, "a console page could not read the database");
        Refusal(Box::new(render(
            StatusCode::SERVICE_UNAVAILABLE,
            "Unavailable",
            "message",
            json!({"heading": "Unavailable", "text": "The database cannot be reached right now; try again shortly."}),
            None,
            "",
        )))
    }
}

/// What a console handler answers.
pub type Page = Result<Response, Refusal>;

impl Visit {
    /// The person signed in on `req`, allowed onto a page of `section` (any role, when it
    /// names no scope). Signed out, the answer leads to sign-in and back.
    pub async fn start(
        req: &Request,
        state: &AppState,
        section: &'static Section,
    ) -> Result<Visit, Refusal> {
        let (active, allowed) = (section.href, section.allowed);
        let back = || {
            let next = req
                .original_uri()
                .path_and_query()
                .map_or("/admin", |p| p.as_str());
            let encoded: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
            Refusal(Box::new(see_other(&format!(
                "/admin/sign-in?next={encoded}"
            ))))
        };
        let Some(token) = session_token(req) else {
            return Err(back());
        };
        let Some(user) = session::resume(&state.pool, &token).await? else {
            return Err(back());
        };
        let visit = Visit { user, active };
        if !allowed.is_empty() && !visit.may(allowed) {
            return Err(visit.refuse(
                StatusCode::FORBIDDEN,
                "Not for your role",
                &format!(
                    "Your role ({}) cannot open this page. Ask an admin of your tenant if you need it.",
                    visit.user.role.as_str()
                ),
            ));
        }
        Ok(visit)
    }

    pub fn tenant(&self) -> TenantId {
        self.user.tenant_id
    }

    /// Whether the person's role may do what a key with any of `allowed` may.
    pub fn may(&self, allowed: &[Scope]) -> bool {
        super::sections::role_may(self.user.role, allowed)
    }

    /// Renders `template` with `data` as this visit's page.
    pub fn page(&self, title: &str, template: &str, data: Value) -> Page {
        Ok(render(
            StatusCode::OK,
            title,
            template,
            data,
            Some(&self.user),
            self.active,
        ))
    }

    /// A page saying why something cannot be shown.
    pub fn refuse(&self, status: StatusCode, heading: &str, text: &str) -> Refusal {
        Refusal(Box::new(render(
            status,
            heading,
            "message",
            json!({"heading": heading, "text": text}),
            Some(&self.user),
            self.active,
        )))
    }

    /// 404: nothing of this tenant lives at the address (another tenant's object included).
    pub fn not_found(&self, what: &str) -> Refusal {
        self.refuse(
            StatusCode::NOT_FOUND,
            "Not found",
            &format!("There is no {what} at this address in your tenant."),
        )
    }
}

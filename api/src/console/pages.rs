//! Rendering pages (handlebars with HTML escaping on: every value is text), and the
//! pages behind a session. Signed out, any console page leads to sign-in and back.

use std::sync::OnceLock;

use handlebars::Handlebars;
use poem::http::{header, StatusCode};
use poem::web::Data;
use poem::{handler, Request, Response};
use serde_json::{json, Value};
use switchyard_engine::user::session::{self, SignedIn};

use super::see_other;
use crate::auth::session_token;
use crate::state::AppState;

fn engine() -> &'static Handlebars<'static> {
    static ENGINE: OnceLock<Handlebars<'static>> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(false);
        for (name, source) in [
            ("layout", include_str!("pages/layout.hbs")),
            ("sign_in", include_str!("pages/sign_in.hbs")),
            ("account", include_str!("pages/account.hbs")),
            ("not_found", include_str!("pages/not_found.hbs")),
        ] {
            hb.register_template_string(name, source)
                .expect("the console's templates compile");
        }
        hb
    })
}

/// Renders the page `template` with `data` inside the layout.
pub fn render(
    status: StatusCode,
    title: &str,
    template: &str,
    data: Value,
    user: Option<&SignedIn>,
) -> Response {
    let user = user.map(|u| {
        json!({"email": u.email, "role": u.role.as_str(), "tenant_id": u.tenant_id.to_string()})
    });
    let mut data = data;
    data["user"] = user.clone().unwrap_or(Value::Null);
    let body = engine().render(template, &data).unwrap_or_default();
    let html = engine()
        .render(
            "layout",
            &json!({"title": title, "body": body, "user": user}),
        )
        .unwrap_or_default();
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(html)
}

/// The signed-in person, or where to send a signed-out one.
pub async fn signed_in(req: &Request, state: &AppState) -> Result<SignedIn, Response> {
    let back = || {
        let next = req.original_uri().path();
        let encoded: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
        see_other(&format!("/admin/sign-in?next={encoded}"))
    };
    let Some(token) = session_token(req) else {
        return Err(back());
    };
    match session::resume(&state.pool, &token).await {
        Ok(Some(user)) => Ok(user),
        Ok(None) => Err(back()),
        Err(err) => {
            tracing::warn!(error = %err, "could not read a console session");
            Err(Response::builder()
                .status(StatusCode::SERVICE_UNAVAILABLE)
                .body("the database cannot be reached right now; try again shortly"))
        }
    }
}

/// Every console page behind a session: `/admin` shows who is signed in; addresses with no
/// page are a plain 404, after sign-in like the rest.
#[handler]
pub async fn page(req: &Request, Data(state): Data<&AppState>) -> Response {
    let user = match signed_in(req, state).await {
        Ok(user) => user,
        Err(redirect) => return redirect,
    };
    match req.original_uri().path().trim_end_matches('/') {
        "/admin" => render(
            StatusCode::OK,
            "Your account",
            "account",
            json!({}),
            Some(&user),
        ),
        _ => render(
            StatusCode::NOT_FOUND,
            "Not found",
            "not_found",
            json!({}),
            Some(&user),
        ),
    }
}

/// The console's stylesheet, embedded in the binary.
#[handler]
pub fn stylesheet() -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "text/css; charset=utf-8")
        .header(header::CACHE_CONTROL, "public, max-age=3600")
        .body(include_str!("assets/console.css"))
}

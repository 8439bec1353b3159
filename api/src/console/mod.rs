//! The console, under `/admin`: server-rendered pages (handlebars with HTML escaping), one
//! embedded stylesheet and one embedded script, so the single binary serves it with
//! nothing to build and nothing fetched at run time.
//!
//! Pages only read, straight from the engine and scoped to the session's tenant. Every
//! change is made by the page's script calling the HTTP API with the session cookie, so a
//! change from the console and one from a client are the same request, checked the same
//! way (scopes, validation, same-origin for cookie-authenticated writes).
//!
//! - [`sign_in`]: the sign-in page, signing in and out.
//! - [`visit`]: the signed-in person on a page; [`render`]: templates and the layout.
//! - One file per page: [`integrations`], [`workflows`] (with [`diagram`]), [`jobs`],
//!   [`subscriptions`], [`intake`], [`audit`], [`users`].
//!
//! Every console response carries a Content-Security-Policy without inline script and
//! `frame-ancestors 'none'`.

mod account;
mod assets;
mod audit;
mod diagram;
mod filters;
mod intake;
mod integrations;
mod jobs;
mod render;
mod sections;
mod sign_in;
mod subscriptions;
mod users;
mod visit;
mod workflows;

use poem::http::{header, StatusCode};
use poem::web::Data;
use poem::{get, handler, post, Endpoint, EndpointExt, IntoResponse, Request, Response, Route};

use crate::state::AppState;
use visit::{Page, Visit};

/// The console's routes, to be nested at `/admin`.
pub fn routes() -> impl Endpoint {
    Route::new()
        .at("/", get(account::show))
        .at("/sign-in", get(sign_in::show).post(sign_in::submit))
        .at("/sign-out", post(sign_in::sign_out))
        .at("/assets/:name", get(assets::serve))
        .at("/integrations", get(integrations::show))
        .at("/workflows", get(workflows::list))
        .at("/workflows/:name", get(workflows::show))
        .at("/jobs", get(jobs::list))
        .at("/jobs/:id", get(jobs::show))
        .at("/jobs/:id/timeline", get(jobs::timeline))
        .at("/subscriptions", get(subscriptions::list))
        .at("/subscriptions/:id", get(subscriptions::show))
        .at("/intake", get(intake::list))
        .at("/intake/:id", get(intake::show))
        .at("/audit", get(audit::show))
        .at("/users", get(users::show))
        .at("/*rest", get(missing))
        .around(|ep, req| async move {
            let response = ep.call(req).await.map(IntoResponse::into_response);
            let mut response = response.unwrap_or_else(|err| err.into_response());
            secure(&mut response);
            Ok(response)
        })
}

/// Addresses with no page are a plain 404, after sign-in like the rest. (`/admin` itself
/// arrives here: nested routes see it as the empty path.)
#[handler]
async fn missing(req: &Request, Data(state): Data<&AppState>) -> Page {
    if req.original_uri().path() == "/admin" {
        return account::landing(req, state).await;
    }
    let visit = Visit::start(req, state, &sections::NONE).await?;
    Err(visit.refuse(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no console page at this address.",
    ))
}

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn secure(response: &mut Response) {
    let headers = response.headers_mut();
    for (name, value) in [
        ("content-security-policy", CSP),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
    ] {
        headers.insert(name, value.parse().expect("static header values parse"));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, "no-store".parse().expect("static"));
    }
}

/// A `303 See Other` to `location`.
fn see_other(location: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, location)
        .finish()
}

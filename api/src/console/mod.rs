//! The console, under `/admin`: server-rendered pages (handlebars with HTML escaping, one
//! embedded stylesheet, no script), so the single binary serves it with nothing to build
//! and nothing fetched at run time.
//!
//! - [`sign_in`]: the sign-in page, signing in and out.
//! - [`pages`]: rendering, and the pages behind a session.
//!
//! Every console response carries a Content-Security-Policy without inline script and
//! `frame-ancestors 'none'`.

mod pages;
mod sign_in;

use poem::http::header;
use poem::{get, post, Endpoint, EndpointExt, IntoResponse, Response, Route};

/// The console's routes, to be nested at `/admin`.
pub fn routes() -> impl Endpoint {
    Route::new()
        .at("/sign-in", get(sign_in::show).post(sign_in::submit))
        .at("/sign-out", post(sign_in::sign_out))
        .at("/assets/console.css", get(pages::stylesheet))
        .at("/*rest", get(pages::page))
        .around(|ep, req| async move {
            let response = ep.call(req).await.map(IntoResponse::into_response);
            let mut response = response.unwrap_or_else(|err| err.into_response());
            secure(&mut response);
            Ok(response)
        })
}

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

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
        .status(poem::http::StatusCode::SEE_OTHER)
        .header(header::LOCATION, location)
        .finish()
}

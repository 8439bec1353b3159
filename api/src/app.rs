//! The whole HTTP application: routes, docs, and the middleware every request passes.

use std::sync::Arc;

use poem::middleware::{CatchPanic, Tracing};
use poem::{Endpoint, EndpointExt, IntoResponse, Route};

use crate::allow::AllowHeader;
use crate::body_limit::BodyLimit;
use crate::console;
use crate::metrics::http::HttpMetrics;
use crate::newline::TrailingNewline;
use crate::openapi;
use crate::problem;
use crate::request_rule::RequestRule;
use crate::routes;
use crate::state::AppState;

/// Builds the application: `/openapi.json`, `/docs`, the console under `/admin` (where `/`
/// leads), and the API.
pub fn build(state: AppState) -> impl Endpoint<Output = poem::Response> {
    // Whatever serves the app (serve, the demo, the bench) records its metrics.
    crate::metrics::handle();
    let api = routes::api(state.clone());
    let document = openapi::document(&api.spec());
    let docs = api.swagger_ui();
    let json = document.json;
    let routes = Arc::new(document.routes);
    let spec = poem::endpoint::make_sync(move |_| {
        poem::Response::builder()
            .content_type("application/json")
            .body(json.clone())
    });
    Route::new()
        .at("/openapi.json", spec)
        .nest("/docs", docs)
        .nest("/admin", console::routes())
        .nest("/", api)
        .around(|api, req| async move {
            // `/` leads to the console (the API's routes all live under `/api`).
            if req.uri().path() == "/" && req.method() == poem::http::Method::GET {
                return Ok(poem::web::Redirect::see_other("/admin").into_response());
            }
            api.call(req).await.map(IntoResponse::into_response)
        })
        .with(BodyLimit)
        .with(RequestRule)
        .with(CatchPanic::new())
        .data(state)
        .with(Tracing)
        .catch_all_error(problem::from_poem_error)
        .with(AllowHeader(routes.clone()))
        .map_to_response()
        .with(TrailingNewline)
        .with(HttpMetrics(routes))
}

/// The OpenAPI document as served, for snapshotting and for clients.
pub fn openapi_json(state: AppState) -> String {
    openapi::document(&routes::api(state).spec()).json
}

//! The console's stylesheet, script and icon, compiled into the binary.

use poem::http::{header, StatusCode};
use poem::web::Path;
use poem::{handler, Response};

/// Each asset: name, content type, content.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("assets/console.css"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/console.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("assets/favicon.svg"),
    ),
];

#[handler]
pub fn serve(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, body)) => Response::builder()
            .header(header::CONTENT_TYPE, *content_type)
            .header(header::CACHE_CONTROL, "no-cache")
            .body(*body),
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body("no such asset"),
    }
}

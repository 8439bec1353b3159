//! The hostile-input suite: what a hostile tenant, designer or client could send, one
//! file per class. Each test also checks that the service still answers afterwards.
//!
//! - [`evaluation`]: templates and guards that recurse, loop, grow or take long.
//! - [`stored`]: deep data, undecodable rows and poison items in the queues.
//! - [`egress`]: address forms around the guard, proxy variables, echoed credentials.
//! - [`requests`]: malformed requests, bounds, timeouts and rate limits.
//! - [`export`]: an export that fails part way.
//! - [`properties`]: generated guards and templates stay within their budgets.

mod egress;
mod evaluation;
mod export;
mod properties;
mod requests;
mod stored;

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::TestApp;

/// A JSON text nested `depth` objects deep.
pub fn nested_text(depth: usize) -> String {
    format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))
}

/// The service still answers: readiness, and a read of the tenant's log.
pub async fn still_serving(app: &TestApp) {
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(
        ready.status(),
        StatusCode::OK,
        "the service stopped being ready"
    );
    let (status, body) = app.get("/api/v1/events?limit=5", &app.key).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// The `field` a problem names, or its first error's path.
pub fn named_field(problem: &Value) -> String {
    problem["field"]
        .as_str()
        .or_else(|| problem["errors"][0]["path"].as_str())
        .unwrap_or_default()
        .to_string()
}

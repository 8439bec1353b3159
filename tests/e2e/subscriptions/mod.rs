//! Seed 002: event subscriptions, signed deliveries, retries, failing and cleared health,
//! 410 disabling, manual redelivery, the rate limit and the subscription limit.

mod deliveries;
mod health_events;
mod management;
mod recovery;
mod rotation;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{eventually, TestApp};

pub const SECRET: &str = "optional-hmac-secret";

pub async fn subscribe(app: &TestApp, url: &str, event_types: Value) -> String {
    let (status, body) = app
        .post(
            "/api/hooks/webhooks",
            &app.key,
            json!({"name": "My Connection Monitor", "url": url, "eventTypes": event_types, "secret": SECRET}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_string()
}

/// The subscription's deliveries once `done` holds for them.
pub async fn deliveries_when(
    app: &TestApp,
    id: &str,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    eventually(what, Duration::from_secs(30), || async {
        let (_, page) = app
            .get(&format!("/api/hooks/webhooks/{id}/deliveries"), &app.key)
            .await;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        done(&items).then_some(items)
    })
    .await
}

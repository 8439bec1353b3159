//! Managing subscriptions: the limit per tenant, the seed's update and delete bodies, and
//! which targets are accepted.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use super::{deliveries_when, subscribe, SECRET};
use crate::support::http::test_worker;
use crate::support::receiver::Receiver;
use crate::support::{eventually, TestApp};

#[tokio::test]
async fn a_tenant_may_have_ten_subscriptions() {
    let app = TestApp::spawn().await;
    for _ in 0..10 {
        subscribe(&app, "https://example.com/hook", json!(["*"])).await;
    }
    let (status, problem) = app
        .post(
            "/api/hooks/webhooks",
            &app.key,
            json!({"name": "eleventh", "url": "https://example.com/hook", "eventTypes": ["job.*"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["type"], "/problems/subscription-limit");
    let (other, other_key) = app.other_tenant("globex").await;
    let _ = other;
    let (status, _) = app
        .post(
            "/api/hooks/webhooks",
            &other_key,
            json!({"name": "theirs", "url": "https://example.com/hook", "eventTypes": ["job.*"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "the limit is per tenant");
}

#[tokio::test]
async fn the_seeds_update_and_delete_requests_work() {
    let receiver = Receiver::ok().await;
    let app = TestApp::spawn().await;
    let id = subscribe(&app, &receiver.url("/hook"), json!(["job.created"])).await;
    // The seed's update body, with a Switchyard event type.
    let (status, updated) = app
        .patch(
            &format!("/api/hooks/webhooks/{id}"),
            &app.key,
            json!({"name": "Updated Name", "eventTypes": ["job.transitioned"], "enabled": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"], "Updated Name");
    assert_eq!(updated["eventTypes"], json!(["job.transitioned"]));
    assert_eq!(updated["enabled"], false);
    assert_eq!(updated["hasSecret"], true, "the secret is kept");
    let (status, problem) = app
        .patch(
            &format!("/api/hooks/webhooks/{id}"),
            &app.key,
            json!({"eventTypes": []}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "eventTypes");
    let (_, cleared) = app
        .patch(
            &format!("/api/hooks/webhooks/{id}"),
            &app.key,
            json!({"secret": null}),
        )
        .await;
    assert_eq!(cleared["hasSecret"], false);

    assert_eq!(
        app.delete(&format!("/api/hooks/webhooks/{id}"), &app.key)
            .await,
        StatusCode::NO_CONTENT
    );
    let (status, _) = app
        .get(&format!("/api/hooks/webhooks/{id}"), &app.key)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The log is read gap-safe, so the newest events appear once nothing older is in flight.
    let (events, kinds) = eventually(
        "the subscription's events",
        Duration::from_secs(10),
        || async {
            let events = app.all_events(1000).await;
            let kinds: Vec<String> = events
                .iter()
                .filter(|e| e["stream_id"] == id.as_str())
                .map(|e| e["type"].as_str().unwrap().to_string())
                .collect();
            (kinds.len() == 4).then_some((events, kinds))
        },
    )
    .await;
    assert_eq!(
        kinds,
        [
            "subscription.created",
            "subscription.updated",
            "subscription.updated",
            "subscription.deleted"
        ]
    );
    assert!(
        !events.iter().any(|e| e.to_string().contains(SECRET)),
        "no secret in the log"
    );
}

#[tokio::test]
async fn targets_pass_the_egress_guard_and_https_can_be_required() {
    let receiver = Receiver::ok().await;
    let mut worker = test_worker(Default::default(), false);
    worker.deliveries.require_https = true;
    let app = TestApp::spawn_with(worker).await;
    let (status, problem) = app
        .post(
            "/api/hooks/webhooks",
            &app.key,
            json!({"name": "plain", "url": "http://example.com/hook", "eventTypes": ["*"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "url");
    assert!(problem["detail"].as_str().unwrap().contains("https"));
    let (status, problem) = app
        .post(
            "/api/hooks/webhooks",
            &app.key,
            json!({"name": "metadata", "url": "https://169.254.169.254/latest", "eventTypes": ["*"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        problem["detail"].as_str().unwrap().contains("not allowed"),
        "{problem}"
    );

    // A name that resolves to a private address is stopped when the delivery is sent:
    // nothing leaves, nothing is metered, and the log says why.
    let url = format!(
        "https://localhost:{}/hook",
        receiver.url("").rsplit(':').next().unwrap()
    );
    let id = subscribe(&app, &url, json!(["job.created"])).await;
    app.publish_fixture("field_service_job").await;
    app.create_job("field_service_job").await;
    let items = deliveries_when(&app, &id, "a refused delivery", |d| {
        d.len() == 1 && d[0]["status"] == "failed"
    })
    .await;
    assert_eq!(items[0]["attempts"], 1, "a refused target is not retried");
    assert_eq!(items[0]["attemptLog"][0]["outcome"], "not_sent");
    assert!(items[0]["lastError"]
        .as_str()
        .unwrap()
        .contains("not allowed"));
    assert!(receiver.requests().is_empty());
    let (_, ledger) = app.get("/api/v1/ledger", &app.key).await;
    assert!(ledger["items"].as_array().unwrap().is_empty());
}

//! Health events: a connection's health changes are events in the log, delivered under
//! Switchyard's names and under seed 002's `app:*` names with the seed's payload fields;
//! a subscription's own health changes are `subscription.failing` / `.recovered`.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::subscribe;
use crate::support::receiver::{Captured, Receiver, Reply};
use crate::support::{eventually, TestApp};

/// The events of `type` the receiver got so far, by path.
fn received(receiver: &Receiver, path: &str, event_type: &str) -> Vec<Value> {
    receiver
        .requests()
        .iter()
        .filter(|r| r.path == path)
        .map(Captured::json)
        .filter(|b| b["event"]["type"] == event_type)
        .collect()
}

async fn wait_received(receiver: &Receiver, path: &str, event_type: &str) -> Value {
    eventually(event_type, Duration::from_secs(30), || async {
        received(receiver, path, event_type).pop()
    })
    .await
}

#[tokio::test]
async fn connection_health_changes_arrive_under_the_seeds_names_and_ours() {
    // The provider's endpoint answers 500 until told otherwise.
    let answer = Arc::new(AtomicU16::new(500));
    let scripted = answer.clone();
    let provider = Receiver::start(move |_, _| {
        Reply::status(scripted.load(Ordering::SeqCst)).body("{\"error\": \"phone offline\"}")
    })
    .await;
    let monitor = Receiver::ok().await;
    let app = TestApp::spawn().await;
    subscribe(
        &app,
        &monitor.url("/seed"),
        json!(["app:health_warning", "app:health_cleared"]),
    )
    .await;
    subscribe(&app, &monitor.url("/ours"), json!(["connection.*"])).await;
    let connection = app.rest_connection(&provider.url("")).await;
    app.publish_actions(
        "watched",
        json!([{"name": "notify", "action_type": "WEBHOOK", "retry": {"max_attempts": 1},
                "payload_template": {"connection_id": connection, "path": "/x"}}]),
    )
    .await;

    // A failing request: the connection goes from untried to failing.
    app.run("watched", "go", json!({})).await;
    let warning = wait_received(&monitor, "/seed", "app:health_warning").await;
    let event = &warning["event"];
    assert_eq!(event["source"], "generic_rest", "{warning}");
    let payload = &event["payload"];
    assert_eq!(payload["appType"], "generic_rest");
    assert_eq!(payload["status"], "degraded");
    assert_eq!(payload["healthStatus"], "warning");
    assert!(
        payload["warningMessage"].as_str().unwrap().contains("500"),
        "{payload}"
    );
    assert!(payload["recommendation"].is_string());
    let ours = wait_received(&monitor, "/ours", "connection.failing").await;
    assert_eq!(
        ours["event"]["id"], event["id"],
        "the same event, two names"
    );
    assert_eq!(ours["event"]["source"], "connection");

    // The next request succeeds: cleared, naming the warning it clears.
    answer.store(200, Ordering::SeqCst);
    app.run("watched", "go", json!({})).await;
    let cleared = wait_received(&monitor, "/seed", "app:health_cleared").await;
    let payload = &cleared["event"]["payload"];
    assert_eq!(payload["healthStatus"], "healthy");
    assert_eq!(payload["status"], "connected");
    assert_eq!(
        payload["previousWarning"],
        warning["event"]["payload"]["warningMessage"]
    );
    wait_received(&monitor, "/ours", "connection.recovered").await;

    // In the log, under Switchyard's names only, once each.
    let failing = app.all_events(1000).await;
    let count = |t: &str| failing.iter().filter(|e| e["type"] == t).count();
    assert_eq!(count("connection.failing"), 1);
    assert_eq!(count("connection.recovered"), 1);
    // The seed subscription got nothing it did not ask for.
    for req in monitor.requests().iter().filter(|r| r.path == "/seed") {
        let t = req.json()["event"]["type"].as_str().unwrap().to_string();
        assert!(
            t == "app:health_warning" || t == "app:health_cleared",
            "{t}"
        );
    }
}

#[tokio::test]
async fn connected_disconnected_and_a_test_event_under_the_seeds_names() {
    let monitor = Receiver::ok().await;
    let hook = Receiver::ok().await;
    let app = TestApp::spawn().await;
    subscribe(&app, &monitor.url("/seed"), json!(["app:*"])).await;
    let (status, connector) = app
        .post(
            "/api/integrations/webhook",
            &app.key,
            json!({"name": "Zap", "webhook_url": hook.url("/catch"), "signing_secret": "whsec_test_secret_1"}),
        )
        .await;
    assert!(status.is_success(), "{connector}");
    let id = connector["id"].as_str().unwrap().to_string();
    let connected = wait_received(&monitor, "/seed", "app:connected").await;
    assert_eq!(connected["event"]["payload"]["status"], "connected");
    assert_eq!(connected["event"]["payload"]["appType"], "webhook");

    let (status, tested) = app
        .post(
            &format!("/api/integrations/connections/{id}/test"),
            &app.key,
            json!({}),
        )
        .await;
    assert!(status.is_success(), "{tested}");
    let check = wait_received(&monitor, "/seed", "app:health_check").await;
    assert_eq!(check["event"]["payload"]["healthStatus"], "healthy");

    let status = app
        .delete(&format!("/api/integrations/connections/{id}"), &app.key)
        .await;
    assert!(status.is_success());
    let gone = wait_received(&monitor, "/seed", "app:disconnected").await;
    assert_eq!(gone["event"]["payload"]["status"], "disconnected");
    assert_eq!(gone["event"]["payload"]["reason"], "user_initiated");
}

#[tokio::test]
async fn a_subscription_that_fails_and_recovers_tells_the_pager() {
    let answer = Arc::new(AtomicU16::new(503));
    let scripted = answer.clone();
    let flaky = Receiver::start(move |_, _| Reply::status(scripted.load(Ordering::SeqCst))).await;
    let pager = Receiver::ok().await;
    let app = TestApp::spawn().await;
    let watched = subscribe(&app, &flaky.url("/hook"), json!(["job.created"])).await;
    subscribe(&app, &pager.url("/page"), json!(["subscription.*"])).await;
    app.publish_fixture("field_service_job").await;

    app.create_job("field_service_job").await;
    let failing = wait_received(&pager, "/page", "subscription.failing").await;
    let payload = &failing["event"]["payload"];
    assert_eq!(payload["id"], watched.as_str());
    assert_eq!(payload["health"], "failing");
    assert_eq!(payload["status_code"], 503);
    assert!(!payload["delivery_id"].is_null());

    answer.store(200, Ordering::SeqCst);
    app.create_job("field_service_job").await;
    let recovered = wait_received(&pager, "/page", "subscription.recovered").await;
    assert_eq!(recovered["event"]["payload"]["id"], watched.as_str());
    assert_eq!(recovered["event"]["payload"]["health"], "healthy");
    assert_eq!(received(&pager, "/page", "subscription.failing").len(), 1);
}

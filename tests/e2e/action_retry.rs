//! Retrying a failed action by hand: one more attempt, then what its failure skipped, in
//! order; an event says who asked; only a failed run can be retried.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;

use crate::support::receiver::{Receiver, Reply};
use crate::support::TestApp;

#[tokio::test]
async fn a_failed_action_is_retried_and_what_it_skipped_runs_after_it_in_order() {
    // The CRM is down until the test says it is back.
    let down = Arc::new(AtomicBool::new(true));
    let flag = down.clone();
    let receiver = Receiver::start(move |_, _| {
        if flag.load(Ordering::SeqCst) {
            Reply::status(500)
        } else {
            Reply::status(200)
        }
    })
    .await;
    let app = TestApp::spawn().await;
    let conn = app.rest_connection(&receiver.url("")).await;
    let call = |name: &str| {
        json!({"name": name, "action_type": "WEBHOOK", "retry": {"max_attempts": 1},
               "payload_template": {"connection_id": conn, "path": format!("/{name}"), "body": {}}})
    };
    app.publish_actions("billing", json!([call("invoice"), call("thank")]))
        .await;
    let job = app.run("billing", "go", json!({})).await;
    let runs = app.settled_actions(&job).await;
    assert_eq!(
        (runs[0]["status"].as_str(), runs[1]["status"].as_str()),
        (Some("failed"), Some("skipped"))
    );
    let failed = runs[0]["id"].as_str().unwrap();

    // Only a failed run: a skipped one is refused, and so is an unknown one.
    let skipped = runs[1]["id"].as_str().unwrap();
    let (status, problem) = app
        .post(
            &format!("/api/v1/jobs/{job}/actions/{skipped}/retry"),
            &app.key,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["type"], "/problems/action-not-failed");
    let unknown = uuid::Uuid::new_v4();
    let (status, _) = app
        .post(
            &format!("/api/v1/jobs/{job}/actions/{unknown}/retry"),
            &app.key,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let designer = app.key_with(&["designer"]).await;
    let (status, _) = app
        .post(
            &format!("/api/v1/jobs/{job}/actions/{failed}/retry"),
            &designer,
            json!({}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "retrying takes the service scope"
    );

    down.store(false, Ordering::SeqCst);
    let (status, retried) = app
        .post(
            &format!("/api/v1/jobs/{job}/actions/{failed}/retry"),
            &app.key,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{retried}");
    assert_eq!(retried["resumed"], json!([skipped]));
    let runs = app.settled_actions(&job).await;
    assert_eq!(
        (runs[0]["status"].as_str(), runs[1]["status"].as_str()),
        (Some("succeeded"), Some("succeeded")),
        "{runs:?}"
    );
    let paths: Vec<String> = receiver.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        ["/invoice", "/invoice", "/thank"],
        "in order, once more each"
    );

    let retried_events = app.job_events(&job, "action.retried").await;
    assert_eq!(retried_events.len(), 1);
    let event = &retried_events[0];
    assert_eq!(event["data"]["name"], "invoice");
    assert_eq!(event["data"]["resumed"], json!([skipped]));
    assert!(event["metadata"]["actor_key_id"].is_string(), "{event}");

    // Succeeded now: nothing to retry.
    let (status, _) = app
        .post(
            &format!("/api/v1/jobs/{job}/actions/{failed}/retry"),
            &app.key,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, verified) = app.get("/api/v1/events/verify", &app.key).await;
    assert_eq!(verified["ok"], true, "{verified}");
}

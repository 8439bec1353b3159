//! Delayed actions: an action with `"delay"` is queued at commit and sent no sooner than its
//! delay, still in its job's order; publishing refuses a delay it cannot keep.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn a_delayed_action_waits_its_delay_and_keeps_its_jobs_order() {
    let app = TestApp::spawn().await;
    let receiver = crate::support::receiver::Receiver::ok().await;
    let connection = app.rest_connection(&receiver.url("")).await;
    app.publish_actions(
        "later",
        json!([
            {"name": "reminder", "action_type": "WEBHOOK", "delay": "2s",
             "payload_template": {"connection_id": connection, "path": "/reminder"}},
            {"name": "after_it", "action_type": "WEBHOOK",
             "payload_template": {"connection_id": connection, "path": "/after"}}
        ]),
    )
    .await;
    let before = std::time::Instant::now();
    let job = app.run("later", "go", json!({})).await;
    let runs = app.settled_actions(&job).await;
    assert!(runs.iter().all(|r| r["status"] == "succeeded"), "{runs:?}");
    let got = receiver.requests();
    let paths: Vec<&str> = got.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/reminder", "/after"], "in the job's order");
    // Not a speed claim: a delayed action can never leave before its delay.
    assert!(got[0].at.duration_since(before) >= Duration::from_secs(2));

    let mut bad = json!({"name": "bad", "initial": "a", "states": [{"name": "a"}, {"name": "b"}],
        "transitions": [{"name": "go", "from": ["a"], "to": "b", "actions": [
            {"name": "x", "action_type": "WEBHOOK", "delay": "9d",
             "payload_template": {"connection_id": connection}}]}]});
    let (status, problem) = app.post("/api/v1/workflows", &app.key, bad.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        problem
            .to_string()
            .contains("transitions[0].actions[0].delay"),
        "{problem}"
    );
    bad["transitions"][0]["actions"][0]["delay"] = json!(5);
    let (status, _) = app.post("/api/v1/workflows", &app.key, bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

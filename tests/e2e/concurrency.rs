//! Concurrent requests racing for the same job version.

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn given_twenty_racers_on_one_version_then_exactly_one_wins_and_the_log_has_one_event() {
    let app = TestApp::spawn().await;
    app.publish_fixture("field_service_job").await;
    let job = app.create_job("field_service_job").await;
    let id = job["id"].as_str().unwrap().to_string();

    let racers = (0..20).map(|i| {
        let body = json!({"transition": "schedule", "data": {"technician": format!("tech-{i}")}, "expected_version": 0});
        let app = &app;
        let id = id.clone();
        async move { app.transition(&id, body).await }
    });
    let outcomes = join_all(racers).await;
    let wins = outcomes
        .iter()
        .filter(|(s, _)| *s == StatusCode::OK)
        .count();
    let conflicts = outcomes
        .iter()
        .filter(|(s, _)| *s == StatusCode::CONFLICT)
        .count();
    assert_eq!((wins, conflicts), (1, 19), "{outcomes:?}");

    let (_, events) = app
        .get(&format!("/api/v1/jobs/{id}/events"), &app.key)
        .await;
    let transitioned: Vec<_> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "job.transitioned")
        .collect();
    assert_eq!(transitioned.len(), 1);
    assert_eq!(transitioned[0]["data"]["job_version"], 1);
    let (_, verify) = app.get("/api/v1/events/verify", &app.key).await;
    assert_eq!(verify["ok"], true, "{verify}");
}

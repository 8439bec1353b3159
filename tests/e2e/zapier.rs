//! Seed 004: the Zapier polling trigger answers newest first, with stable ids, and honours
//! `since`.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{eventually, TestApp};

#[tokio::test]
async fn the_poll_returns_newest_first_with_stable_ids_and_honours_since() {
    let app = TestApp::spawn().await;
    app.publish_fixture("field_service_job").await;
    let mut jobs = Vec::new();
    for _ in 0..3 {
        jobs.push(app.create_job("field_service_job").await["id"].clone());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let service = app.key_with(&["service"]).await;
    let poll = |query: &str| {
        let (app, service) = (&app, &service);
        let path = format!("/api/webhooks/zapier/poll{query}");
        async move {
            let (status, body) = app.get(&path, service).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body.as_array().expect("a bare array").clone()
        }
    };
    // Readers see an event once every transaction older than it has ended, anywhere in
    // the cluster (the gap-safe horizon): other tests' transactions can hold it back a
    // moment.
    let first = eventually("the three events", Duration::from_secs(10), || async {
        let events = poll("?event_type=job.created").await;
        (events.len() == 3).then_some(events)
    })
    .await;
    let streams: Vec<&Value> = first.iter().map(|e| &e["streamId"]).collect();
    assert_eq!(
        streams,
        jobs.iter().rev().collect::<Vec<_>>(),
        "newest first"
    );
    assert!(first
        .iter()
        .all(|e| e["type"] == "job.created" && e["id"].is_string()));
    let again = poll("?event_type=job.created").await;
    assert_eq!(first, again, "the same events keep the same ids");

    // Only events after `since`; the oldest job's event drops out.
    let since = first[1]["timestamp"].as_str().unwrap().to_string();
    let newer = poll(&format!("?event_type=job.*&since={since}")).await;
    let ids: Vec<&Value> = newer.iter().map(|e| &e["id"]).collect();
    assert!(ids.contains(&&first[0]["id"]));
    assert!(!ids.contains(&&first[2]["id"]));

    // Without a type: every subscribable event, but never tenant or key events.
    let all = poll("").await;
    assert!(all.iter().any(|e| e["type"] == "workflow.published"));
    assert!(all
        .iter()
        .all(|e| !e["type"].as_str().unwrap().starts_with("api_key")));

    let (status, problem) = app
        .get(
            "/api/webhooks/zapier/poll?event_type=lead.created",
            &service,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "event_type");
    let (status, problem) = app
        .get("/api/webhooks/zapier/poll?since=yesterday", &service)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "since");
}

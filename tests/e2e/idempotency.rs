//! `Idempotency-Key` on job creation and transitions.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::TestApp;

async fn event_count(app: &TestApp) -> i64 {
    let client = app.pool.get().await.unwrap();
    client
        .query_one("SELECT count(*) FROM event_log", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn given_a_replayed_transition_then_the_same_response_returns_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    app.publish_fixture("field_service_job").await;
    let job = app.create_job("field_service_job").await;
    let path = format!("/api/v1/jobs/{}/transitions", job["id"].as_str().unwrap());
    let body =
        json!({"transition": "schedule", "data": {"technician": "ana"}, "expected_version": 0});

    let (status, first) = app.post_keyed(&path, &app.key, "key-1", body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let events_after_first = event_count(&app).await;
    let (status, again) = app.post_keyed(&path, &app.key, "key-1", body.clone()).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a replay succeeds even though the version moved"
    );
    assert_eq!(again, first);
    assert_eq!(event_count(&app).await, events_after_first);

    let (status, problem) = app
        .post_keyed(&path, &app.key, "key-1", json!({"transition": "cancel"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["type"], "/problems/idempotency-key-reused");
    assert_eq!(problem["field"], "Idempotency-Key");
    assert_eq!(event_count(&app).await, events_after_first);
}

#[tokio::test]
async fn given_a_replayed_job_creation_or_a_known_external_id_then_one_job_exists() {
    let app = TestApp::spawn().await;
    app.publish_fixture("field_service_job").await;
    let body = json!({"workflow": "field_service_job", "context": {"customer": "Acme"}});
    let (s1, first) = app
        .post_keyed("/api/v1/jobs", &app.key, "create-1", body.clone())
        .await;
    let (s2, again) = app
        .post_keyed("/api/v1/jobs", &app.key, "create-1", body.clone())
        .await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(first, again);

    let ext = json!({"workflow": "field_service_job", "external_id": "order-77"});
    let (s1, a) = app.post("/api/v1/jobs", &app.key, ext.clone()).await;
    let (s2, b) = app.post("/api/v1/jobs", &app.key, ext).await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::OK));
    assert_eq!(a["id"], b["id"]);

    let (_, list) = app
        .get("/api/v1/jobs?workflow=field_service_job", &app.key)
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
}

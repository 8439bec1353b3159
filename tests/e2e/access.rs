//! Tenancy and scopes: another tenant's objects are 404, the wrong scope is 403.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn given_another_tenants_job_when_read_or_moved_then_it_does_not_exist() {
    let app = TestApp::spawn().await;
    app.publish_fixture("field_service_job").await;
    let job = app.create_job("field_service_job").await;
    let id = job["id"].as_str().unwrap();
    let (_, intruder) = app.other_tenant("intruder").await;

    for path in [
        format!("/api/v1/jobs/{id}"),
        format!("/api/v1/jobs/{id}/events"),
        format!("/api/v1/jobs/{id}/actions"),
        "/api/v1/workflows/field_service_job".to_string(),
    ] {
        let (status, problem) = app.get(&path, &intruder).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {problem}");
    }
    let (status, _) = app
        .post(
            &format!("/api/v1/jobs/{id}/transitions"),
            &intruder,
            json!({"transition": "cancel"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, events) = app.get("/api/v1/events", &intruder).await;
    assert!(
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["stream_id"] != id),
        "the intruder's log holds none of the other tenant's events"
    );
}

#[tokio::test]
async fn given_keys_with_narrow_scopes_then_each_route_checks_its_scope() {
    let app = TestApp::spawn().await;
    app.publish_fixture("field_service_job").await;
    let auditor = app.key_with(&["auditor"]).await;
    let service = app.key_with(&["service"]).await;
    let designer = app.key_with(&["designer"]).await;

    let (status, problem) = app
        .post(
            "/api/v1/jobs",
            &auditor,
            json!({"workflow": "field_service_job"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(problem["detail"].as_str().unwrap().contains("service"));
    let (status, _) = app.post("/api/v1/workflows", &service, json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.get("/api/v1/events", &designer).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .post(
            "/api/v1/api-keys",
            &designer,
            json!({"name": "x", "scopes": ["full"]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, _) = app
        .post(
            "/api/v1/jobs",
            &service,
            json!({"workflow": "field_service_job"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app.get("/api/v1/events", &auditor).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn given_no_unknown_or_revoked_key_then_401() {
    let app = TestApp::spawn().await;
    let resp = app.http.get(app.url("/api/v1/jobs")).send().await.unwrap();
    let (status, problem) = crate::support::http::read(resp).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");

    let (status, _) = app.get("/api/v1/jobs", "sy_not_a_real_key").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, created) = app
        .post(
            "/api/v1/api-keys",
            &app.key,
            json!({"name": "temp", "scopes": ["service"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let temp = created["key"].as_str().unwrap().to_string();
    let (status, _) = app.get("/api/v1/jobs", &temp).await;
    assert_eq!(status, StatusCode::OK);
    let resp = app
        .http
        .delete(app.url(&format!(
            "/api/v1/api-keys/{}",
            created["id"].as_str().unwrap()
        )))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (status, _) = app.get("/api/v1/jobs", &temp).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (_, keys) = app.get("/api/v1/api-keys", &app.key).await;
    let text = keys.to_string();
    assert!(
        !text.contains(&temp) && !text.contains(&app.key),
        "keys are never listed"
    );
}

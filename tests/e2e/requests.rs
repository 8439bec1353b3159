//! Malformed, oversized and misdirected requests, and the documents the server publishes.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::http::read;
use crate::support::TestApp;

#[tokio::test]
async fn given_malformed_json_then_400_problem() {
    let app = TestApp::spawn().await;
    let resp = app
        .http
        .post(app.url("/api/v1/jobs"))
        .bearer_auth(&app.key)
        .header("content-type", "application/json")
        .body("{\"workflow\": ")
        .send()
        .await
        .unwrap();
    let (status, problem) = read(resp).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"),
        "{problem}"
    );

    let (status, problem) = app
        .post(
            "/api/v1/jobs",
            &app.key,
            json!({"workflow": ["not", "a", "name"]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["field"], "workflow", "{problem}");

    let (status, problem) = app
        .post(
            "/api/v1/jobs",
            &app.key,
            json!({"workflow": "w", "workflow_version": "two"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["field"], "workflow_version", "{problem}");
}

#[tokio::test]
async fn given_a_body_over_256_kib_then_413_with_or_without_a_length() {
    let app = TestApp::spawn().await;
    let big = json!({"workflow": "x", "context": {"blob": "a".repeat(300 * 1024)}});
    let (status, _) = app.post("/api/v1/jobs", &app.key, big.clone()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    let bytes = serde_json::to_vec(&big).unwrap();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        bytes.chunks(16 * 1024).map(|c| Ok(c.to_vec())).collect();
    let resp = app
        .http
        .post(app.url("/api/v1/jobs"))
        .bearer_auth(&app.key)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    let (status, _) = read(resp).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn given_an_unknown_route_or_bad_fields_then_problems_name_what_is_wrong() {
    let app = TestApp::spawn().await;
    let (status, _) = app.get("/api/v1/nothing-here", &app.key).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    app.publish_fixture("field_service_job").await;
    let (status, problem) = app
        .post(
            "/api/v1/jobs",
            &app.key,
            json!({"workflow": "field_service_job", "context": [1]}),
        )
        .await;
    // The document says `context` is an object: anything else is a malformed body.
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["field"], "context");
    let (status, problem) = app
        .post("/api/v1/jobs", &app.key, json!({"workflow": "nope"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "workflow");
    let (status, problem) = app.get("/api/v1/events?limit=0", &app.key).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "limit");
    let (status, problem) = app.get("/api/v1/events?after=garbage", &app.key).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "cursor");
    // Every date and time parameter outside the years the API keeps is named.
    for (path, field) in [
        ("/api/v1/usage?from=%2B10000-01-01", "from"),
        ("/api/v1/usage?to=0000-12-31", "to"),
        ("/api/v1/events?since=0000-06-01T00:00:00Z", "since"),
        ("/api/v1/events?until=9999-12-31T23:00:00-05:00", "until"),
        ("/api/v1/events/export?since=0000-06-01T00:00:00Z", "since"),
        ("/api/webhooks/zapier/poll?since=-70000000000", "since"),
    ] {
        let (status, problem) = app.get(path, &app.key).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {problem}"
        );
        assert_eq!(problem["field"], field, "{path}");
    }
}

#[tokio::test]
async fn the_openapi_document_docs_and_probes_are_served() {
    let app = TestApp::spawn().await;
    let spec: serde_json::Value = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/jobs/{id}/transitions",
        "/api/v1/events/export",
        "/api/v1/workflows/validate",
        "/readyz",
    ] {
        assert!(spec["paths"].get(path).is_some(), "{path} is documented");
    }
    let docs = app.http.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    let (status, body) = app.get("/healthz", "").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let (status, body) = app.get("/readyz", "").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ready"))
    );
}

#[tokio::test]
async fn given_a_dry_run_then_payloads_render_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let connection = app
        .create_connection(
            "generic_rest",
            json!({"base_url": "https://api.example.com"}),
        )
        .await;
    app.publish(json!({
        "name": "dry", "initial": "a",
        "states": [{"name": "a"}, {"name": "b"}],
        "transitions": [{"name": "go", "from": ["a"], "to": "b", "actions": [
            {"name": "hook", "action_type": "WEBHOOK", "payload_template": {
                "connection_id": connection, "path": "/jobs/{{job.id}}",
                "body": {"state": "{{job.current_state}}", "n": "{{transition.data.n}}", "who": "{{tenant.name}}"}}},
            {"name": "broken", "action_type": "WEBHOOK", "payload_template": {
                "connection_id": connection, "body": {"x": "{{job.context.missing}}"}}}
        ]}]
    }))
    .await;
    let job = app.create_job("dry").await;
    let id = job["id"].as_str().unwrap();
    let count = |app: &TestApp| {
        let pool = app.pool.clone();
        async move {
            let c = pool.get().await.unwrap();
            let e: i64 = c
                .query_one("SELECT count(*) FROM event_log", &[])
                .await
                .unwrap()
                .get(0);
            let r: i64 = c
                .query_one("SELECT count(*) FROM action_runs", &[])
                .await
                .unwrap()
                .get(0);
            (e, r)
        }
    };
    let before = count(&app).await;
    let (status, out) = app
        .post(
            &format!("/api/v1/jobs/{id}/transitions?dry_run=true"),
            &app.key,
            json!({"transition": "go", "data": {"n": 7}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["dry_run"], true);
    assert_eq!(out["job"]["state"], "b");
    let hook = &out["actions"][0];
    assert_eq!(hook["path"], format!("/jobs/{id}"));
    assert_eq!(hook["body"], json!({"state": "b", "n": 7, "who": "acme"}));
    assert!(out["actions"][1]["error"]
        .as_str()
        .unwrap()
        .contains("job.context.missing"));
    assert_eq!(count(&app).await, before, "a dry run writes nothing");
    let (_, job) = app.get(&format!("/api/v1/jobs/{id}"), &app.key).await;
    assert_eq!(job["state"], "a");
}

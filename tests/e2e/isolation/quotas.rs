//! Quotas: what one tenant can create is bounded (API keys, users, open timers), each
//! over-quota answer a problem naming the quota, and another tenant is unaffected.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn a_tenant_holds_at_most_100_active_api_keys() {
    let app = TestApp::spawn().await;
    // The test tenant starts with one key.
    for n in 1..100 {
        let (status, body) = app
            .post(
                "/api/v1/api-keys",
                &app.key,
                json!({"name": format!("k{n}"), "scopes": ["auditor"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{n}: {body}");
        if n == 99 {
            // Revoking one frees a place below.
            let id = body["id"].as_str().unwrap().to_string();
            let (status, problem) = app
                .post(
                    "/api/v1/api-keys",
                    &app.key,
                    json!({"name": "one too many", "scopes": ["auditor"]}),
                )
                .await;
            assert_eq!(status, StatusCode::CONFLICT, "{problem}");
            assert_eq!(problem["type"], "/problems/quota-exceeded");
            assert_eq!(problem["title"], "Active API keys per tenant");
            let status = app
                .delete(&format!("/api/v1/api-keys/{id}"), &app.key)
                .await;
            assert!(status.is_success(), "{status}");
        }
    }
    let (status, body) = app
        .post(
            "/api/v1/api-keys",
            &app.key,
            json!({"name": "in the freed place", "scopes": ["auditor"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Another tenant's keys are counted apart.
    let other = app.neighbour("other").await;
    let (status, body) = other
        .post(
            "/api/v1/api-keys",
            &other.key,
            json!({"name": "mine", "scopes": ["auditor"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn a_tenant_holds_at_most_500_console_users() {
    let app = TestApp::spawn().await;
    // 499 accounts written directly (hashing 499 passwords would only slow the test).
    let client = app.pool.get().await.unwrap();
    client
        .execute(
            "INSERT INTO users (id, tenant_id, email, role, password_hash) \
             SELECT gen_random_uuid(), $1, 'user' || n || '@example.com', 'auditor', 'x' \
             FROM generate_series(1, 499) n",
            &[&app.tenant_id.0],
        )
        .await
        .unwrap();
    let create = |email: &str| json!({"email": email, "role": "auditor"});
    let (status, body) = app
        .post("/api/v1/users", &app.key, create("the500th@example.com"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, problem) = app
        .post("/api/v1/users", &app.key, create("the501st@example.com"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["type"], "/problems/quota-exceeded");
    assert_eq!(problem["title"], "Users per tenant");
    let other = app.neighbour("other").await;
    let (status, body) = other
        .post("/api/v1/users", &other.key, create("the501st@example.com"))
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "another tenant is not counted: {body}"
    );
}

#[tokio::test]
async fn a_tenant_holds_at_most_100000_open_timers() {
    let app = TestApp::spawn().await;
    app.publish_actions("timed", json!([])).await;
    let job = app.create_job("timed").await;
    let job_id = job["id"].as_str().unwrap().to_string();
    // 100,000 open timers on other jobs of the tenant, written directly.
    let client = app.pool.get().await.unwrap();
    client
        .execute(
            "INSERT INTO timers (id, tenant_id, job_id, kind, state, transition, data, job_version, \
                                 due_at, status, next_attempt_at) \
             SELECT gen_random_uuid(), tenant_id, id, kind, state, transition, data, job_version, \
                    now() + interval '1 day', 'pending', now() + interval '1 day' \
             FROM (SELECT j.tenant_id, j.id, 'scheduled' AS kind, j.state, 'go' AS transition, \
                          '{}'::jsonb AS data, j.stream_version AS job_version \
                   FROM jobs j WHERE j.id = $1) one, generate_series(1, 100000)",
            &[&uuid::Uuid::parse_str(&job_id).unwrap()],
        )
        .await
        .unwrap();
    // Not per job: the job's own quota is checked first, so schedule on a fresh job.
    let fresh = app.create_job("timed").await;
    let (status, problem) = app
        .transition(
            fresh["id"].as_str().unwrap(),
            json!({"transition": "go", "after": "1h"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["type"], "/problems/quota-exceeded");
    assert_eq!(problem["title"], "Open timers per tenant");
    let other = app.neighbour("other").await;
    other.publish_actions("timed", json!([])).await;
    let theirs = other.create_job("timed").await;
    let (status, body) = other
        .transition(
            theirs["id"].as_str().unwrap(),
            json!({"transition": "go", "after": "1h"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

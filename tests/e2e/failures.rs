//! Failure modes of actions: what is retried and when, what fails at once, what is never
//! sent; the transition is never rolled back.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use switchyard_actions::providers::ProviderEndpoints;

use crate::support::http::test_worker;
use crate::support::receiver::{Receiver, Reply};
use crate::support::TestApp;

/// A fast retry schedule: three attempts, 200 ms apart.
fn quick_retry() -> Value {
    json!({"max_attempts": 3, "schedule": ["0s", "200ms", "200ms"]})
}

fn one_action(connection: &str, path: &str, retry: Value, timeout_ms: u64) -> Value {
    json!([{"name": "call", "action_type": "WEBHOOK", "retry": retry, "timeout_ms": timeout_ms,
            "payload_template": {"connection_id": connection, "path": path, "body": {"job": "{{job.id}}"}}}])
}

async fn ledger_rows(app: &TestApp) -> Vec<Value> {
    let (_, ledger) = app.get("/api/v1/ledger", &app.key).await;
    ledger["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn given_a_500_then_the_transition_stands_and_the_action_retries_on_schedule_then_fails() {
    let receiver =
        Receiver::start(|_, _| Reply::status(500).body("{\"error\": \"upstream exploded\"}")).await;
    let app = TestApp::spawn().await;
    let conn = app.rest_connection(&receiver.url("")).await;
    app.publish_actions("flaky", one_action(&conn, "/boom", quick_retry(), 2000))
        .await;
    let job = app.run("flaky", "go", json!({})).await;

    let runs = app.settled_actions(&job).await;
    assert_eq!(runs[0]["status"], "failed");
    assert_eq!(runs[0]["attempts"], 3);
    assert_eq!(runs[0]["last_status_code"], 500);
    let (_, state) = app.get(&format!("/api/v1/jobs/{job}"), &app.key).await;
    assert_eq!(
        state["state"], "done",
        "a failed action never rolls the transition back"
    );

    let requests = receiver.wait_for(3).await;
    assert_eq!(requests.len(), 3);
    for pair in requests.windows(2) {
        assert!(
            pair[1].at - pair[0].at >= Duration::from_millis(150),
            "retries wait for the schedule"
        );
        assert_eq!(
            pair[0].header("idempotency-key"),
            pair[1].header("idempotency-key")
        );
    }
    let retried = app.job_events(&job, "action.retry_scheduled").await;
    assert_eq!(retried.len(), 2);
    assert!(retried[0]["data"]["next_attempt_at"].is_string());
    let failed = app.job_events(&job, "action.failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["data"]["status_code"], 500);
    assert!(failed[0]["data"]["response"]["excerpt"]
        .as_str()
        .unwrap()
        .contains("upstream exploded"));

    let rows = ledger_rows(&app).await;
    assert_eq!(rows.len(), 3, "one ledger row per request sent");
    assert!(rows
        .iter()
        .all(|r| r["kind"] == "WebhookEgress" && r["status_code"] == 500));
    let (_, usage) = app.get("/api/v1/usage", &app.key).await;
    assert_eq!(usage["items"][0]["requests"], 3);
    assert_eq!(usage["items"][0]["failed"], 3);
}

#[tokio::test]
async fn given_404_or_422_then_the_action_fails_without_retry() {
    let receiver = Receiver::start(|req, _| {
        if req.path == "/missing" {
            Reply::status(404)
        } else {
            Reply::status(422)
        }
    })
    .await;
    let app = TestApp::spawn().await;
    let conn = app.rest_connection(&receiver.url("")).await;
    for (name, path) in [("gone", "/missing"), ("refused", "/invalid")] {
        app.publish_actions(name, one_action(&conn, path, quick_retry(), 2000))
            .await;
        let job = app.run(name, "go", json!({})).await;
        let runs = app.settled_actions(&job).await;
        assert_eq!(
            (runs[0]["status"].as_str(), runs[0]["attempts"].as_i64()),
            (Some("failed"), Some(1)),
            "{path}"
        );
        assert!(app
            .job_events(&job, "action.retry_scheduled")
            .await
            .is_empty());
    }
    assert_eq!(receiver.requests().len(), 2);
}

#[tokio::test]
async fn given_a_closed_port_or_a_slow_target_then_network_errors_and_timeouts_retry() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let slow = Receiver::start(|_, _| Reply::status(200).after(Duration::from_secs(2))).await;
    let app = TestApp::spawn().await;
    let refused = app
        .rest_connection(&format!("http://127.0.0.1:{closed}"))
        .await;
    let sluggish = app.rest_connection(&slow.url("")).await;
    app.publish_actions("refused", one_action(&refused, "/x", quick_retry(), 2000))
        .await;
    app.publish_actions(
        "sluggish",
        one_action(
            &sluggish,
            "/x",
            json!({"max_attempts": 2, "schedule": ["0s", "100ms"]}),
            300,
        ),
    )
    .await;

    let job = app.run("refused", "go", json!({})).await;
    let runs = app.settled_actions(&job).await;
    assert_eq!(
        (runs[0]["status"].as_str(), runs[0]["attempts"].as_i64()),
        (Some("failed"), Some(3))
    );
    assert!(
        runs[0]["last_error"].as_str().unwrap().contains("connect"),
        "{}",
        runs[0]["last_error"]
    );

    let job = app.run("sluggish", "go", json!({})).await;
    let runs = app.settled_actions(&job).await;
    assert_eq!(
        (runs[0]["status"].as_str(), runs[0]["attempts"].as_i64()),
        (Some("failed"), Some(2))
    );
    assert!(runs[0]["last_error"].as_str().unwrap().contains("300 ms"));
    let outcomes: Vec<String> = ledger_rows(&app)
        .await
        .iter()
        .map(|r| r["outcome"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        outcomes,
        [
            "network_error",
            "network_error",
            "network_error",
            "timeout",
            "timeout"
        ]
    );
}

#[tokio::test]
async fn given_429_with_retry_after_then_the_next_attempt_waits_that_long() {
    let receiver = Receiver::start(|_, nth| {
        if nth == 1 {
            Reply::status(429).header("Retry-After", "1")
        } else {
            Reply::status(200)
        }
    })
    .await;
    let app = TestApp::spawn().await;
    let conn = app.rest_connection(&receiver.url("")).await;
    app.publish_actions("limited", one_action(&conn, "/x", quick_retry(), 2000))
        .await;
    let job = app.run("limited", "go", json!({})).await;
    let runs = app.settled_actions(&job).await;
    assert_eq!(
        (runs[0]["status"].as_str(), runs[0]["attempts"].as_i64()),
        (Some("succeeded"), Some(2))
    );
    let requests = receiver.requests();
    assert!(
        requests[1].at - requests[0].at >= Duration::from_millis(950),
        "Retry-After: 1 is honoured"
    );
}

#[tokio::test]
async fn given_a_missing_template_variable_then_it_fails_at_once_naming_it_and_nothing_is_sent() {
    let receiver = Receiver::ok().await;
    let app = TestApp::spawn().await;
    let conn = app.rest_connection(&receiver.url("")).await;
    app.publish_actions("typo", json!([{"name": "call", "action_type": "WEBHOOK", "retry": quick_retry(),
        "payload_template": {"connection_id": conn, "body": {"who": "{{transition.data.customer_nmae}}"}}}]))
    .await;
    let job = app.run("typo", "go", json!({"customer_name": "Ana"})).await;
    let runs = app.settled_actions(&job).await;
    assert_eq!(
        (runs[0]["status"].as_str(), runs[0]["attempts"].as_i64()),
        (Some("failed"), Some(1))
    );
    assert!(runs[0]["last_error"]
        .as_str()
        .unwrap()
        .contains("transition.data.customer_nmae"));
    assert!(receiver.requests().is_empty());
    assert!(
        ledger_rows(&app).await.is_empty(),
        "nothing sent, nothing metered"
    );
}

#[tokio::test]
async fn given_private_targets_are_not_allowed_then_no_request_leaves_and_nothing_is_metered() {
    let receiver = Receiver::ok().await;
    let app = TestApp::spawn_with(test_worker(ProviderEndpoints::default(), false)).await;
    // Literal addresses are refused when the connection is saved.
    for base in [
        format!("http://127.0.0.1:{}", receiver.addr.port()),
        "http://169.254.169.254".to_string(),
    ] {
        let (status, problem) = app
            .post(
                "/api/v1/tenant/connections",
                &app.key,
                json!({"provider": "generic_rest", "connection_name": "x", "credentials": {"base_url": base}}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["field"], "credentials.base_url");
    }
    // A host name is checked when it is resolved, at send time.
    let targets = [format!("http://localhost:{}", receiver.addr.port())];
    for (i, base) in targets.iter().enumerate() {
        let conn = app.rest_connection(base).await;
        let name = format!("blocked{i}");
        app.publish_actions(
            &name,
            one_action(&conn, "/latest/meta-data", quick_retry(), 2000),
        )
        .await;
        let job = app.run(&name, "go", json!({})).await;
        let runs = app.settled_actions(&job).await;
        assert_eq!(
            (runs[0]["status"].as_str(), runs[0]["attempts"].as_i64()),
            (Some("failed"), Some(1)),
            "{base}"
        );
        assert!(
            runs[0]["last_error"]
                .as_str()
                .unwrap()
                .contains("not allowed"),
            "{base}: {}",
            runs[0]["last_error"]
        );
    }
    assert!(receiver.requests().is_empty());
    assert!(ledger_rows(&app).await.is_empty());
}

#[tokio::test]
async fn given_a_final_failure_then_later_actions_are_skipped_unless_it_continues_on_failure() {
    let receiver = Receiver::start(|req, _| {
        if req.path == "/fail" {
            Reply::status(400)
        } else {
            Reply::status(200)
        }
    })
    .await;
    let app = TestApp::spawn().await;
    let conn = app.rest_connection(&receiver.url("")).await;
    let actions = |continue_on_failure: bool| {
        json!([
            {"name": "first", "action_type": "WEBHOOK", "continue_on_failure": continue_on_failure,
             "payload_template": {"connection_id": conn, "path": "/fail"}},
            {"name": "second", "action_type": "WEBHOOK", "payload_template": {"connection_id": conn, "path": "/ok"}}
        ])
    };
    app.publish_actions("strict", actions(false)).await;
    app.publish_actions("lenient", actions(true)).await;

    let job = app.run("strict", "go", json!({})).await;
    let statuses: Vec<String> = app
        .settled_actions(&job)
        .await
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses, ["failed", "skipped"]);
    assert_eq!(app.job_events(&job, "action.skipped").await.len(), 1);

    let job = app.run("lenient", "go", json!({})).await;
    let statuses: Vec<String> = app
        .settled_actions(&job)
        .await
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses, ["failed", "succeeded"]);
    let paths: Vec<String> = receiver.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/fail", "/fail", "/ok"]);
}

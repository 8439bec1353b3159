//! The circuit breaker: after consecutive failures a destination's circuit opens, its
//! items wait (unattempted) for the cooldown, then one probe decides; the health events
//! say when it opened and closed. Another tenant's actions are not held meanwhile.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use switchyard_actions::providers::ProviderEndpoints;
use switchyard_engine::flow::Breaker;

use crate::support::receiver::{Receiver, Reply};
use crate::support::worker::test_worker;
use crate::support::{eventually, TestApp};

const FAILURES: u32 = 3;

/// A receiver that answers 500 until `healthy` is set.
async fn flaky(healthy: Arc<AtomicBool>) -> Receiver {
    Receiver::start(move |_, _| {
        if healthy.load(Ordering::SeqCst) {
            Reply::status(200)
        } else {
            Reply::status(500)
        }
    })
    .await
}

async fn connection_events(app: &TestApp, conn: &str, event_type: &str) -> Vec<Value> {
    app.all_events(1000)
        .await
        .into_iter()
        .filter(|e| e["type"] == event_type && e["stream_id"] == conn)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consecutive_failures_open_the_circuit_and_one_probe_closes_it() {
    let healthy = Arc::new(AtomicBool::new(false));
    let receiver = flaky(healthy.clone()).await;
    let fast = Receiver::ok().await;
    let mut worker = test_worker(ProviderEndpoints::default(), true);
    worker.breaker = Breaker {
        failures: FAILURES,
        cooldown: Duration::from_secs(3),
    };
    let app = TestApp::spawn_with(worker).await;
    let conn = app.rest_connection(&receiver.url("")).await;
    // One attempt each: every failing job is one failure of the connection.
    app.publish_actions(
        "flaky",
        json!([{"name": "call", "action_type": "WEBHOOK", "retry": {"max_attempts": 1},
                "payload_template": {"connection_id": conn, "path": "/x", "body": {}}}]),
    )
    .await;
    for _ in 0..FAILURES {
        let job = app.run("flaky", "go", json!({})).await;
        let runs = app.settled_actions(&job).await;
        assert_eq!(runs[0]["status"], "failed", "{runs:?}");
    }
    let opened = eventually("the circuit to open", Duration::from_secs(10), || async {
        let events = connection_events(&app, &conn, "connection.failing").await;
        events.into_iter().find(|e| e["data"]["circuit"] == "open")
    })
    .await;
    assert_eq!(opened["data"]["consecutive_failures"], FAILURES);
    let (_, shown) = app
        .get(&format!("/api/v1/tenant/connections/{conn}"), &app.key)
        .await;
    assert_eq!(shown["held_reason"], "circuit", "{shown}");
    assert_eq!(shown["health"], "failing");

    // While open, new actions wait without being attempted.
    healthy.store(true, Ordering::SeqCst);
    let mut waiting = Vec::new();
    for _ in 0..3 {
        waiting.push(app.run("flaky", "go", json!({})).await);
    }
    // Another tenant's actions are not held by A's open circuit.
    let b = app.neighbour("quiet").await;
    let other = b.rest_connection(&fast.url("")).await;
    b.publish_actions(
        "quiet",
        json!([{"name": "call", "action_type": "WEBHOOK",
                "payload_template": {"connection_id": other, "path": "/y", "body": {}}}]),
    )
    .await;
    let quiet = b.run("quiet", "go", json!({})).await;
    assert_eq!(b.settled_actions(&quiet).await[0]["status"], "succeeded");
    assert_eq!(
        receiver.requests().len(),
        FAILURES as usize,
        "nothing goes to an open circuit"
    );
    let (_, runs) = app
        .get(&format!("/api/v1/jobs/{}/actions", waiting[0]), &app.key)
        .await;
    assert_eq!(runs["items"][0]["attempts"], 0, "{runs}");

    // After the cooldown one probe succeeds, the circuit closes, the rest follow.
    for job in &waiting {
        let runs = app.settled_actions(job).await;
        assert_eq!(runs[0]["status"], "succeeded", "{runs:?}");
        assert_eq!(runs[0]["attempts"], 1, "{runs:?}");
    }
    let recovered = connection_events(&app, &conn, "connection.recovered").await;
    assert_eq!(recovered.len(), 1, "closed once: {recovered:?}");
    assert_eq!(recovered[0]["data"]["circuit"], "closed");
    let failing = connection_events(&app, &conn, "connection.failing").await;
    assert!(
        failing
            .iter()
            .filter(|e| e["data"]["circuit"] == "open")
            .count()
            == 1,
        "opened once: {failing:?}"
    );
    let (_, shown) = app
        .get(&format!("/api/v1/tenant/connections/{conn}"), &app.key)
        .await;
    assert_eq!(shown["health"], "healthy");
    assert!(shown["held_reason"].is_null(), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_endpoint_that_keeps_failing_opens_its_circuit_too() {
    let healthy = Arc::new(AtomicBool::new(false));
    let receiver = flaky(healthy.clone()).await;
    let mut worker = test_worker(ProviderEndpoints::default(), true);
    worker.breaker = Breaker {
        failures: FAILURES,
        cooldown: Duration::from_secs(2),
    };
    let app = TestApp::spawn_with(worker).await;
    let (status, hook) = app
        .post(
            "/api/hooks/webhooks",
            &app.key,
            json!({"name": "flaky", "url": receiver.url("/hook"), "eventTypes": ["job.created"]}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{hook}");
    let id = hook["id"].as_str().unwrap().to_string();
    app.publish_actions("plain", json!([])).await;
    app.create_job("plain").await;
    let opened = eventually(
        "the subscription's circuit to open",
        Duration::from_secs(15),
        || async {
            let events = app.all_events(1000).await;
            events
                .into_iter()
                .find(|e| e["type"] == "subscription.failing" && e["data"]["circuit"] == "open")
        },
    )
    .await;
    assert_eq!(opened["stream_id"], id.as_str());
    let sent = receiver.requests().len();
    assert_eq!(
        sent, FAILURES as usize,
        "the circuit opened at the third failure"
    );
    let (_, shown) = app
        .get(&format!("/api/hooks/webhooks/{id}"), &app.key)
        .await;
    assert_eq!(shown["heldReason"], "circuit", "{shown}");
    healthy.store(true, Ordering::SeqCst);
    eventually("the circuit to close", Duration::from_secs(15), || async {
        let events = app.all_events(1000).await;
        events
            .into_iter()
            .find(|e| e["type"] == "subscription.recovered" && e["data"]["circuit"] == "closed")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_refuses_connections_opens_the_circuit() {
    // A port nobody listens on: every request is a network error.
    let closed = crate::embedded::free_port();
    let mut worker = test_worker(ProviderEndpoints::default(), true);
    worker.breaker = Breaker {
        failures: FAILURES,
        cooldown: Duration::from_secs(60),
    };
    let app = TestApp::spawn_with(worker).await;
    let conn = app
        .rest_connection(&format!("http://127.0.0.1:{closed}"))
        .await;
    app.publish_actions(
        "refused",
        json!([{"name": "call", "action_type": "WEBHOOK", "retry": {"max_attempts": 1},
                "payload_template": {"connection_id": conn, "path": "/x", "body": {}}}]),
    )
    .await;
    for _ in 0..FAILURES {
        let job = app.run("refused", "go", json!({})).await;
        let runs = app.settled_actions(&job).await;
        assert_eq!(runs[0]["status"], "failed", "{runs:?}");
    }
    eventually("the circuit to open", Duration::from_secs(10), || async {
        let events = connection_events(&app, &conn, "connection.failing").await;
        events.into_iter().find(|e| e["data"]["circuit"] == "open")
    })
    .await;
    let held = app.run("refused", "go", json!({})).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, runs) = app
        .get(&format!("/api/v1/jobs/{held}/actions"), &app.key)
        .await;
    assert_eq!(runs["items"][0]["status"], "pending", "{runs}");
    assert_eq!(
        runs["items"][0]["attempts"], 0,
        "not attempted while open: {runs}"
    );
}

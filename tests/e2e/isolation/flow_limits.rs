//! Flow control per destination: a connection's `rate` and `concurrency`, a `Retry-After`
//! that holds the whole connection, and pausing by hand. Waiting is never an attempt, a
//! job's actions keep their order, and another tenant's actions flow meanwhile.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use switchyard_engine::flow::{self, Admission, Breaker, Destination, Limits};

use crate::support::receiver::{Captured, Receiver, Reply};
use crate::support::TestApp;

/// A connection to `base_url` with `limits`; returns its id.
async fn limited_connection(app: &TestApp, base_url: &str, limits: Value) -> String {
    let (status, body) = app
        .post(
            "/api/v1/tenant/connections",
            &app.key,
            json!({"provider": "generic_rest", "connection_name": "limited",
                   "credentials": {"base_url": base_url}, "limits": limits}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for (name, value) in limits.as_object().unwrap() {
        assert_eq!(
            &body["limits"][name], value,
            "the limits are shown as given"
        );
    }
    body["id"].as_str().unwrap().to_string()
}

/// One action per transition to `conn`, the job's id in the path.
fn one_call(conn: &str) -> Value {
    json!([{"name": "call", "action_type": "WEBHOOK",
            "payload_template": {"connection_id": conn, "path": "/{{job.id}}", "body": {}}}])
}

/// The least time between request `i` and request `i + n`.
fn least_gap(requests: &[Captured], n: usize) -> Duration {
    requests
        .windows(n + 1)
        .map(|w| w[n].at.duration_since(w[0].at))
        .min()
        .unwrap_or(Duration::MAX)
}

async fn assert_each_attempted_once(app: &TestApp, jobs: &[String]) {
    for job in jobs {
        let runs = app.settled_actions(job).await;
        for run in &runs {
            assert_eq!(run["status"], "succeeded", "{runs:?}");
            assert_eq!(
                run["attempts"], 1,
                "waiting for a limit is not an attempt: {run}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_paces_a_connection_and_another_tenant_is_not_held_back() {
    let paced = Receiver::ok().await;
    let fast = Receiver::ok().await;
    let a = TestApp::spawn().await;
    let conn = limited_connection(&a, &paced.url(""), json!({"rate": "2/s"})).await;
    a.publish_actions("paced", one_call(&conn)).await;
    let mut jobs = Vec::new();
    for _ in 0..8 {
        jobs.push(a.run("paced", "go", json!({})).await);
    }
    // Tenant B's actions go out while A's wait for their window.
    let b = a.neighbour("quiet").await;
    let other = b.rest_connection(&fast.url("")).await;
    b.publish_actions("quiet", one_call(&other)).await;
    let mut quiet = Vec::new();
    for _ in 0..3 {
        quiet.push(b.run("quiet", "go", json!({})).await);
    }
    assert_each_attempted_once(&b, &quiet).await;
    assert!(
        paced.requests().len() < 8,
        "B finished before A's paced backlog did"
    );
    let (_, shown) = a
        .get(&format!("/api/v1/tenant/connections/{conn}"), &a.key)
        .await;
    assert_eq!(shown["limits"]["rate"], "2/s");

    let requests = paced.wait_for(8).await;
    // Two per second: any three requests span (nearly, allowing for the trip) a second.
    let gap = least_gap(&requests, 2);
    assert!(
        gap >= Duration::from_millis(800),
        "three requests within {gap:?}"
    );
    assert_each_attempted_once(&a, &jobs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrency_limit_keeps_that_many_requests_in_flight() {
    let slow = Receiver::start(|_, _| Reply::status(200).after(Duration::from_millis(600))).await;
    let app = TestApp::spawn().await;
    let conn = limited_connection(&app, &slow.url(""), json!({"concurrency": 2})).await;
    app.publish_actions("narrow", one_call(&conn)).await;
    let mut jobs = Vec::new();
    for _ in 0..6 {
        jobs.push(app.run("narrow", "go", json!({})).await);
    }
    assert_each_attempted_once(&app, &jobs).await;
    let requests = slow.requests();
    assert_eq!(requests.len(), 6);
    // Two at once: the third starts only once the first has answered.
    let gap = least_gap(&requests, 2);
    assert!(
        gap >= Duration::from_millis(500),
        "three in flight within {gap:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admissions_that_wait_for_the_row_lock_count_what_was_taken_meanwhile() {
    // Workers in many processes ask at once. Here every ask starts while something else
    // holds the connection's row, so each waits for the lock and must then count the
    // slots and sends the asks before it took while it waited.
    let app = TestApp::spawn().await;
    let concurrency = Limits {
        rate: None,
        concurrency: Some(2),
    };
    let went = racing_asks(&app, json!({"concurrency": 2}), concurrency).await;
    assert_eq!(
        went, 2,
        "{went} of 6 asks took a slot under a concurrency of 2"
    );
    let rate = Limits::parse(Some("2/m"), None).unwrap();
    let went = racing_asks(&app, json!({"rate": "2/m"}), rate).await;
    assert_eq!(went, 2, "{went} of 6 asks were sent under a rate of 2/m");
}

/// Starts six admissions to a new connection with `limits` while its row is locked, then
/// releases it; returns how many were let through.
async fn racing_asks(app: &TestApp, shown: Value, limits: Limits) -> usize {
    let conn = limited_connection(app, "http://127.0.0.1:9/", shown).await;
    let id: uuid::Uuid = conn.parse().unwrap();
    let dest = Destination::Connection(id);
    let mut holder = app.pool.get().await.unwrap();
    let hold = holder.transaction().await.unwrap();
    hold.execute("SELECT 1 FROM connections WHERE id = $1 FOR UPDATE", &[&id])
        .await
        .unwrap();
    let asks: Vec<_> = (0..6)
        .map(|_| {
            let pool = app.pool.clone();
            tokio::spawn(async move {
                let lease = Duration::from_secs(60);
                let item = uuid::Uuid::new_v4();
                flow::admit(&pool, dest, item, limits, Breaker::default(), lease)
                    .await
                    .unwrap()
            })
        })
        .collect();
    // Let every ask reach the lock before it is released.
    tokio::time::sleep(Duration::from_millis(300)).await;
    hold.commit().await.unwrap();
    let mut went = 0;
    for ask in asks {
        if matches!(ask.await.unwrap(), Admission::Go { .. }) {
            went += 1;
        }
    }
    went
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_holds_the_whole_connection_and_the_held_actions_are_not_attempts() {
    // The first request is told to come back in two seconds; everything after succeeds.
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let receiver = Receiver::start(move |_, _| {
        if counter.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::status(429).header("Retry-After", "2")
        } else {
            Reply::status(200)
        }
    })
    .await;
    let app = TestApp::spawn().await;
    let conn = limited_connection(&app, &receiver.url(""), json!({"rate": "100/s"})).await;
    app.publish_actions("throttled", one_call(&conn)).await;
    let first_job = app.run("throttled", "go", json!({})).await;
    receiver.wait_for(1).await;
    let (_, shown) = app
        .get(&format!("/api/v1/tenant/connections/{conn}"), &app.key)
        .await;
    assert_eq!(shown["held_reason"], "retry-after", "{shown}");
    assert!(shown["held_until"].is_string(), "{shown}");
    // Later jobs' actions wait for the connection, not only the one that was told.
    let mut later = Vec::new();
    for _ in 0..3 {
        later.push(app.run("throttled", "go", json!({})).await);
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(receiver.requests().len(), 1, "nothing goes out while held");

    let requests = receiver.wait_for(5).await;
    let held_for = requests[1].at.duration_since(requests[0].at);
    assert!(
        held_for >= Duration::from_millis(1800),
        "held only {held_for:?}"
    );
    assert_each_attempted_once(&app, &later).await;
    let runs = app.settled_actions(&first_job).await;
    assert_eq!(
        runs[0]["attempts"], 2,
        "the told request was an attempt: {runs:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_connection_keeps_its_actions_in_order_until_resumed() {
    let receiver = Receiver::ok().await;
    let app = TestApp::spawn().await;
    let conn = app.rest_connection(&receiver.url("")).await;
    let steps: Vec<Value> = ["first", "second", "third"]
        .iter()
        .map(|name| json!({"name": name, "action_type": "WEBHOOK",
                            "payload_template": {"connection_id": conn, "path": format!("/{name}"), "body": {}}}))
        .collect();
    app.publish_actions("ordered", Value::Array(steps)).await;
    let (status, paused) = app
        .post(
            &format!("/api/v1/tenant/connections/{conn}/pause"),
            &app.key,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{paused}");
    assert_eq!(paused["paused"], true);
    let job = app.run("ordered", "go", json!({})).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        receiver.requests().is_empty(),
        "a paused connection sends nothing"
    );
    let (_, runs) = app
        .get(&format!("/api/v1/jobs/{job}/actions"), &app.key)
        .await;
    assert_eq!(runs["items"][0]["status"], "pending", "{runs}");
    assert_eq!(runs["items"][0]["attempts"], 0, "{runs}");

    // Another tenant cannot resume it, nor learn that it exists.
    let other = app.neighbour("other").await;
    let (status, _) = other
        .post(
            &format!("/api/v1/tenant/connections/{conn}/resume"),
            &other.key,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, resumed) = app
        .post(
            &format!("/api/v1/tenant/connections/{conn}/resume"),
            &app.key,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{resumed}");
    assert_eq!(resumed["paused"], false);
    let runs = app.settled_actions(&job).await;
    assert!(
        runs.iter()
            .all(|r| r["status"] == "succeeded" && r["attempts"] == 1),
        "{runs:?}"
    );
    let paths: Vec<String> = receiver.requests().iter().map(|c| c.path.clone()).collect();
    assert_eq!(paths, ["/first", "/second", "/third"]);
    // The change is in the connection's stream, by whom it was made.
    let events = app.all_events(1000).await;
    let changes: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "connection.updated" && e["stream_id"] == conn.as_str())
        .collect();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[0]["data"]["paused"], true);
    assert_eq!(changes[1]["data"]["paused"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_are_checked_named_and_can_be_changed_or_removed() {
    let app = TestApp::spawn().await;
    let create = |limits: Value| {
        json!({"provider": "generic_rest", "connection_name": "x",
               "credentials": {"base_url": "https://api.example.com"}, "limits": limits})
    };
    for (limits, field) in [
        (json!({"rate": "fast"}), "limits.rate"),
        (json!({"rate": "10/d"}), "limits.rate"),
        (json!({"rate": "5000/s"}), "limits.rate"),
        (json!({"concurrency": 0}), "limits.concurrency"),
        (json!({"concurrency": 100000}), "limits.concurrency"),
    ] {
        let (status, problem) = app
            .post(
                "/api/v1/tenant/connections",
                &app.key,
                create(limits.clone()),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{limits}: {problem}"
        );
        assert_eq!(problem["field"], field, "{problem}");
    }
    let (_, listed) = app.get("/api/v1/tenant/connections", &app.key).await;
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        0,
        "nothing half-written"
    );

    let (status, made) = app
        .post(
            "/api/v1/tenant/connections",
            &app.key,
            create(json!({"rate": "10/m", "concurrency": 3})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let path = format!(
        "/api/v1/tenant/connections/{}",
        made["id"].as_str().unwrap()
    );
    let (status, changed) = app
        .patch(&path, &app.key, json!({"limits": {"rate": "5/s"}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        changed["limits"],
        json!({"rate": "5/s", "concurrency": null})
    );
    let (_, kept) = app
        .patch(&path, &app.key, json!({"connection_name": "renamed"}))
        .await;
    assert_eq!(kept["limits"]["rate"], "5/s", "left out keeps them");
    let (_, removed) = app.patch(&path, &app.key, json!({"limits": null})).await;
    assert_eq!(
        removed["limits"],
        json!({"rate": null, "concurrency": null})
    );

    // The connector and subscriptions take the same object.
    let (status, connector) = app
        .post(
            "/api/integrations/webhook",
            &app.key,
            json!({"name": "zap", "webhook_url": "https://hooks.example.com/catch/1",
                   "limits": {"rate": "30/m"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{connector}");
    assert_eq!(connector["limits"]["rate"], "30/m");
    let (status, problem) = app
        .post(
            "/api/hooks/webhooks",
            &app.key,
            json!({"name": "s", "url": "https://example.com/hook", "eventTypes": ["job.*"],
                   "limits": {"concurrency": -1}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["field"], "limits.concurrency");
    let (status, hook) = app
        .post(
            "/api/hooks/webhooks",
            &app.key,
            json!({"name": "s", "url": "https://example.com/hook", "eventTypes": ["job.*"],
                   "limits": {"rate": "1/s", "concurrency": 1}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    assert_eq!(hook["limits"], json!({"rate": "1/s", "concurrency": 1}));
}

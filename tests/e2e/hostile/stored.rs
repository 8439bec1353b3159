//! Data that could poison what is stored: deep or NUL-laden JSON is refused at the edge,
//! and a row that cannot be decoded anyway (written before the rule, or by hand) is
//! reported by every reader and fails only its own item in the worker.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{nested_text, still_serving};
use crate::subscriptions::{deliveries_when, subscribe};
use crate::support::receiver::{Receiver, Reply};
use crate::support::{eventually, TestApp};

async fn post_raw(app: &TestApp, path: &str, body: String) -> (StatusCode, Value) {
    let resp = app
        .http
        .post(app.url(path))
        .bearer_auth(&app.key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    crate::support::http::read(resp).await
}

#[tokio::test]
async fn deep_or_nul_laden_json_is_refused_at_the_edge_naming_the_field() {
    let app = TestApp::spawn().await;
    app.publish_actions("plain", json!([])).await;
    let job = app.create_job("plain").await;
    let id = job["id"].as_str().unwrap();
    let route = format!("/api/v1/jobs/{id}/transitions");
    for depth in [32, 60, 120] {
        let body = format!(
            "{{\"transition\": \"go\", \"data\": {}}}",
            nested_text(depth)
        );
        let (status, problem) = post_raw(&app, &route, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "depth {depth}: {problem}");
        assert!(
            problem["field"].as_str().unwrap().starts_with("data.a.a"),
            "{problem}"
        );
    }
    // Deeper than the JSON reader goes: refused whole, saying why.
    for depth in [127, 400, 40_000] {
        let body = format!("{{\"data\": {}}}", nested_text(depth));
        let (status, problem) = post_raw(&app, &route, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("deeper than 32"),
            "{problem}"
        );
    }
    // Every body gets the same rule: job context, definitions, subscriptions.
    let body = format!(
        "{{\"workflow\": \"plain\", \"context\": {}}}",
        nested_text(40)
    );
    let (status, problem) = post_raw(&app, "/api/v1/jobs", body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert!(problem["field"].as_str().unwrap().starts_with("context.a"));
    let body = format!("{{\"name\": \"deep\", \"initial\": {}}}", nested_text(40));
    let (status, _) = post_raw(&app, "/api/v1/workflows", body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for (data, field) in [
        (json!({"note": "a\u{0}b"}), "data.note"),
        (json!({"k\u{0}": 1}), "data.k\\u0000"),
        (json!({"list": ["ok", "\u{0}"]}), "data.list[1]"),
    ] {
        let (status, problem) = app
            .transition(id, json!({"transition": "go", "data": data}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert_eq!(problem["field"], field);
    }
    let (status, problem) = app
        .post(
            "/api/v1/workflows",
            &app.key,
            json!({"name": "n\u{0}ul", "initial": "a", "states": [{"name": "a"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(problem["field"], "name");
    // Within the limit, deep data is stored and read back by every reader.
    let (status, out) = app
        .transition(id, json!({"transition": "go", "data": serde_json::from_str::<Value>(&nested_text(31)).unwrap()}))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let (status, verified) = app.get("/api/v1/events/verify", &app.key).await;
    assert_eq!(
        (status, verified["ok"].clone()),
        (StatusCode::OK, json!(true))
    );
    let export = app.get_response("/api/v1/events/export", &app.key).await;
    assert_eq!(export.status(), StatusCode::OK);
    assert!(export.text().await.unwrap().lines().count() >= 2);
    still_serving(&app).await;
}

/// Writes an event whose data is nested past what JSON readers accept, as a row written
/// before the input rule (or by hand) could be.
async fn insert_undecodable_event(app: &TestApp) -> uuid::Uuid {
    let client = app.pool.get().await.unwrap();
    let event_id = uuid::Uuid::new_v4();
    client
        .execute(
            &format!(
                "INSERT INTO event_log (event_id, tenant_id, stream_id, stream_version, type, data, \
                 metadata, recorded_at, prev_hash, hash) VALUES ($1, $2, $3, 1, 'job.transitioned', \
                 '{}'::jsonb, '{{}}', now(), '\\x00', '\\x00')",
                nested_text(140)
            ),
            &[&event_id, &app.tenant_id.0, &uuid::Uuid::new_v4()],
        )
        .await
        .unwrap();
    event_id
}

#[tokio::test]
async fn an_undecodable_row_is_reported_by_every_reader_and_fails_only_its_delivery() {
    let app = TestApp::spawn().await;
    let hook = Receiver::ok().await;
    let subscription = subscribe(&app, &hook.url("/events"), json!(["job.*"])).await;
    let poisoned = insert_undecodable_event(&app).await;
    // Readers: the event is there, marked, and the rest of the log reads on.
    // (Readers return an event once every transaction older than it has ended.)
    let marked = eventually(
        "the event to be listed",
        Duration::from_secs(10),
        || async {
            let events = app.all_events(100).await;
            events.into_iter().find(|e| e["id"] == json!(poisoned))
        },
    )
    .await;
    assert!(marked["data"]["$undecodable"]
        .as_str()
        .unwrap()
        .contains("cannot be decoded"));
    let (status, verified) = app.get("/api/v1/events/verify", &app.key).await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    assert_eq!(verified["ok"], false);
    assert_eq!(verified["first_break"]["event_id"], json!(poisoned));
    assert!(verified["first_break"]["reason"]
        .as_str()
        .unwrap()
        .contains("cannot be decoded"));
    let export = app.get_response("/api/v1/events/export", &app.key).await;
    assert_eq!(export.status(), StatusCode::OK);
    assert!(export.text().await.unwrap().contains("$undecodable"));
    let service = app.key_with(&["service"]).await;
    let (status, polled) = app.get("/api/webhooks/zapier/poll", &service).await;
    assert_eq!(status, StatusCode::OK, "{polled}");
    // The dispatcher and the worker: that one delivery fails with its reason, the next
    // event is delivered as usual.
    let failed = deliveries_when(
        &app,
        &subscription,
        "the poisoned delivery to fail",
        |items| {
            items
                .iter()
                .any(|d| d["eventId"] == json!(poisoned) && d["status"] == "failed")
        },
    )
    .await;
    let delivery = failed
        .iter()
        .find(|d| d["eventId"] == json!(poisoned))
        .unwrap();
    assert!(
        delivery["lastError"]
            .as_str()
            .unwrap()
            .contains("cannot be decoded"),
        "{delivery}"
    );
    app.publish_actions("after", json!([])).await;
    app.run("after", "go", json!({})).await;
    hook.wait_for(1).await;
    still_serving(&app).await;
}

#[tokio::test]
async fn one_tenants_poison_action_does_not_delay_another_tenants_actions() {
    let app = TestApp::spawn().await;
    // The first attempt of every action fails and retries in 2 s: the window in which the
    // stored run is poisoned, as a corrupted row would be.
    let hook = Receiver::start(|req, nth| {
        if req.path.starts_with("/a") && nth == 1 {
            Reply::status(500)
        } else {
            Reply::status(200)
        }
    })
    .await;
    let conn_a = app.rest_connection(&hook.url("/a")).await;
    app.publish_actions(
        "poisoned",
        json!([{"name": "call", "action_type": "WEBHOOK",
                "retry": {"max_attempts": 3, "schedule": ["0s", "2s"]},
                "payload_template": {"connection_id": conn_a, "body": {"job": "{{job.id}}"}}}]),
    )
    .await;
    let job_a = app.run("poisoned", "go", json!({})).await;
    eventually(
        "the first attempt to fail",
        Duration::from_secs(10),
        || async {
            let (_, runs) = app
                .get(&format!("/api/v1/jobs/{job_a}/actions"), &app.key)
                .await;
            (runs["items"][0]["attempts"] == 1 && runs["items"][0]["status"] == "pending")
                .then_some(())
        },
    )
    .await;
    let client = app.pool.get().await.unwrap();
    client
        .execute(
            &format!(
                "UPDATE action_runs SET context = '{}'::jsonb WHERE job_id = $1",
                nested_text(140)
            ),
            &[&uuid::Uuid::parse_str(&job_a).unwrap()],
        )
        .await
        .unwrap();

    // Another tenant's actions run while the poisoned one is claimed and failed.
    let (tenant_id, key) = app.other_tenant("bystander").await;
    let bystander = TestApp {
        base: app.base.clone(),
        http: app.http.clone(),
        pool: app.pool.clone(),
        tenant_id,
        key,
    };
    let conn_b = bystander.rest_connection(&hook.url("/b")).await;
    bystander
        .publish_actions(
            "healthy",
            json!([{"name": "call", "action_type": "WEBHOOK",
                    "payload_template": {"connection_id": conn_b, "body": {"job": "{{job.id}}"}}}]),
        )
        .await;
    let mut jobs = Vec::new();
    for _ in 0..5 {
        jobs.push(bystander.run("healthy", "go", json!({})).await);
    }
    for job in &jobs {
        let runs = bystander.settled_actions(job).await;
        assert_eq!(runs[0]["status"], "succeeded", "{runs:?}");
    }
    let runs = app.settled_actions(&job_a).await;
    assert_eq!(runs[0]["status"], "failed", "{runs:?}");
    let reason = runs[0]["last_error"].as_str().unwrap_or_default();
    assert!(reason.contains("cannot be decoded"), "{reason}");
    still_serving(&app).await;
}

#[tokio::test]
async fn a_worker_loop_that_ends_unasked_makes_readyz_answer_503() {
    let db = crate::support::cluster::fresh_database().await;
    let pool = switchyard_engine::store::connect(&db, 4).unwrap();
    let keyring = switchyard_actions::vault::Keyring::single(
        switchyard_actions::vault::EncryptionKey::generate().0,
    );
    let worker = crate::support::http::test_worker(Default::default(), true);
    let state = switchyard_api::state::AppState::new(pool, keyring, &worker).unwrap();
    let (bound, addr) = switchyard_api::server::bind("127.0.0.1:0").await.unwrap();
    tokio::spawn(switchyard_api::server::run(
        bound,
        state.clone(),
        std::future::pending(),
    ));
    let http = reqwest::Client::new();
    let ready = || async {
        http.get(format!("http://{addr}/readyz"))
            .send()
            .await
            .unwrap()
    };
    let (stop, handle) = switchyard_api::cli::serve::spawn_worker(&state, worker).unwrap();
    assert_eq!(ready().await.status(), StatusCode::OK);
    // The loop loses its stop signal without being told to stop: it ends, as a loop
    // killed by a bug would.
    drop(stop);
    handle.await.unwrap();
    let resp = ready().await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let (_, problem) = crate::support::http::read(resp).await;
    assert_eq!(problem["type"], "/problems/worker-stopped");
}

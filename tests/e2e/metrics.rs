//! `GET /metrics`: scraped before and after work, its counters move, its gauges are there,
//! and no label carries an id. The metrics recorder is one per process, shared by the
//! tests running beside this one, so counters are compared as "grew by at least".

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;
use switchyard_actions::vault::EncryptionKey;

use crate::embedded::{binary, free_port};
use crate::support::cluster::fresh_database;
use crate::support::eventually;
use crate::support::http::METRICS_TOKEN;
use crate::support::receiver::Receiver;
use crate::support::TestApp;

/// The scraped text.
async fn scrape(url: &str) -> String {
    let resp = reqwest::Client::new()
        .get(url)
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let kind = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("text/plain"), "{kind}");
    resp.text().await.unwrap()
}

/// The value of the sample `name{labels}` (labels as rendered, in any order), or 0.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, "}"));
            let wanted = labels
                .iter()
                .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
            (metric == name && wanted).then(|| value.parse::<f64>().ok())?
        })
        .sum()
}

/// No label value looks like a UUID.
fn assert_no_ids(text: &str) {
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let labels = line.split_once('{').map(|(_, l)| l).unwrap_or("");
        let hexish = labels
            .split('"')
            .any(|v| v.len() >= 32 && v.chars().filter(|c| c.is_ascii_hexdigit()).count() >= 32);
        assert!(!hexish, "a label carries an id: {line}");
    }
}

#[tokio::test]
async fn metrics_move_with_transitions_actions_deliveries_and_requests() {
    let app = TestApp::spawn().await;
    let metrics = app.url("/metrics");
    let receiver = Receiver::ok().await;
    let connection = app.rest_connection(&receiver.url("")).await;
    app.publish_actions(
        "metered",
        json!([{"name": "notify", "action_type": "WEBHOOK",
                "payload_template": {"connection_id": connection, "path": "/hook"}}]),
    )
    .await;
    let (status, _) = app
        .post(
            "/api/hooks/webhooks",
            &app.key,
            json!({"name": "watch", "url": receiver.url("/events"), "eventTypes": ["job.transitioned"]}),
        )
        .await;
    assert_eq!(status, 201);
    let before = scrape(&metrics).await;

    let job = app.run("metered", "go", json!({})).await;
    app.settled_actions(&job).await;
    // A refused transition: the job has moved on.
    let (status, _) = app
        .transition(&job, json!({"transition": "go", "expected_version": 1}))
        .await;
    assert_eq!(status, 409);
    eventually(
        "the delivery to arrive",
        Duration::from_secs(20),
        || async {
            receiver
                .requests()
                .iter()
                .any(|r| r.path.starts_with("/events"))
                .then_some(())
        },
    )
    .await;

    let after = eventually("the counters to move", Duration::from_secs(20), || {
        let metrics = metrics.clone();
        let before = before.clone();
        async move {
            let after = scrape(&metrics).await;
            let grew = |name: &str, labels: &[(&str, &str)]| {
                sample(&after, name, labels) > sample(&before, name, labels)
            };
            let moved = grew(
                "switchyard_transitions_total",
                &[("workflow", "metered"), ("outcome", "applied")],
            ) && grew(
                "switchyard_transitions_total",
                &[("workflow", "metered"), ("outcome", "not_allowed")],
            ) && grew(
                "switchyard_action_attempts_total",
                &[
                    ("provider", "generic_rest"),
                    ("outcome", "succeeded"),
                    ("status_class", "2xx"),
                ],
            ) && grew(
                "switchyard_action_attempt_duration_seconds_count",
                &[("provider", "generic_rest")],
            ) && grew(
                "switchyard_deliveries_total",
                &[("outcome", "succeeded"), ("status_class", "2xx")],
            ) && grew(
                "switchyard_http_requests_total",
                &[
                    ("route", "/api/v1/jobs/{id}/transitions"),
                    ("method", "POST"),
                    ("status", "409"),
                ],
            );
            moved.then_some(after)
        }
    })
    .await;
    assert!(
        sample(
            &after,
            "switchyard_http_request_duration_seconds_count",
            &[("route", "/api/v1/jobs/{id}/transitions")]
        ) > 0.0
    );
    for kind in ["action_runs", "deliveries", "timers"] {
        for gauge in [
            "switchyard_queue_due",
            "switchyard_queue_running",
            "switchyard_queue_oldest_due_age_seconds",
        ] {
            assert!(
                after.contains(&format!("{gauge}{{kind=\"{kind}\"}}")),
                "{gauge} for {kind}:\n{after}"
            );
        }
    }
    for gauge in [
        "switchyard_dispatcher_lag_events",
        "switchyard_db_pool_connections_in_use",
        "switchyard_db_pool_connections_idle",
        "switchyard_db_pool_waiting",
    ] {
        assert!(
            after.lines().any(|l| l.starts_with(gauge)),
            "{gauge}:\n{after}"
        );
    }
    assert!(after.contains("# TYPE switchyard_transitions_total counter"));
    assert!(after.contains("# TYPE switchyard_action_attempt_duration_seconds histogram"));
    // The buckets reach the largest timeout an action may have (120 s).
    assert!(
        after.lines().any(
            |l| l.starts_with("switchyard_action_attempt_duration_seconds_bucket")
                && l.contains("le=\"120\"")
        ),
        "{after}"
    );
    assert_no_ids(&after);
    // An unknown path is counted under one label, not under its own.
    let _ = reqwest::get(app.url(&format!("/nowhere/{job}")))
        .await
        .unwrap();
    let later = scrape(&metrics).await;
    assert!(
        !later.contains("/nowhere"),
        "an unmatched path became a label"
    );
    assert_no_ids(&later);
}

#[tokio::test]
async fn the_api_serves_metrics_only_to_the_metrics_token() {
    let app = TestApp::spawn().await;
    let url = app.url("/metrics");
    let http = reqwest::Client::new();
    for (key, why) in [
        (None, "no token"),
        (Some(app.key.as_str()), "a tenant's API key"),
        (Some("test-metrics-tokenX"), "a wrong token"),
    ] {
        let mut req = http.get(&url);
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401, "{why}");
        let body = resp.text().await.unwrap();
        assert!(!body.contains("switchyard_"), "{why}: {body}");
    }
    assert!(scrape(&url)
        .await
        .contains("switchyard_http_requests_total"));
}

#[tokio::test]
async fn a_worker_serves_its_metrics_on_its_own_listener() {
    let db_url = fresh_database().await;
    let (_, secret) = EncryptionKey::generate();
    let port = free_port();
    let mut worker = Command::new(binary())
        .args(["worker", "--metrics-listen", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", &db_url)
        .env("INTEGRATION_SECRET_ENCRYPTION_KEY", &secret)
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let text = eventually("the worker's metrics", Duration::from_secs(60), || async {
        let resp = reqwest::get(format!("{base}/metrics")).await.ok()?;
        (resp.status() == 200).then_some(resp.text().await.ok()?)
    })
    .await;
    assert!(
        text.contains("switchyard_queue_due{kind=\"action_runs\"}"),
        "{text}"
    );
    // A fresh process that has done nothing yet: every counter is there, at zero.
    for counter in [
        "switchyard_transitions_total",
        "switchyard_action_attempts_total",
        "switchyard_deliveries_total",
        "switchyard_timers_total",
        "switchyard_intake_requests_total",
    ] {
        assert!(
            text.contains(&format!("# TYPE {counter} counter")),
            "{text}"
        );
        assert_eq!(sample(&text, counter, &[]), 0.0, "{counter}");
        assert!(text.contains(&format!("{counter}{{")), "{counter}: {text}");
    }
    assert!(
        text.contains("# TYPE switchyard_http_requests_total counter"),
        "{text}"
    );
    let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    // SAFETY: sending a signal has no memory-safety preconditions.
    unsafe { libc::kill(worker.id() as i32, libc::SIGTERM) };
    let status = worker.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn serve_without_a_token_serves_metrics_on_its_metrics_listener_only() {
    let db_url = fresh_database().await;
    let (_, secret) = EncryptionKey::generate();
    let (api_port, metrics_port) = (free_port(), free_port());
    let mut server = Command::new(binary())
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{api_port}"),
            "--metrics-listen",
            &format!("127.0.0.1:{metrics_port}"),
        ])
        .env("DATABASE_URL", &db_url)
        .env("INTEGRATION_SECRET_ENCRYPTION_KEY", &secret)
        .env_remove("SWITCHYARD_METRICS_TOKEN")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let api = format!("http://127.0.0.1:{api_port}");
    crate::embedded::wait_ready(&reqwest::Client::new(), &api).await;
    let text = eventually("serve's metrics", Duration::from_secs(60), || async {
        let resp = reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics"))
            .await
            .ok()?;
        (resp.status() == 200).then_some(resp.text().await.ok()?)
    })
    .await;
    assert!(text.contains("switchyard_queue_due"), "{text}");
    let on_api = reqwest::get(format!("{api}/metrics")).await.unwrap();
    assert_eq!(
        on_api.status(),
        404,
        "not served on the API without a token"
    );
    // SAFETY: sending a signal has no memory-safety preconditions.
    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    let status = server.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

//! Recovery of a window of failed deliveries, and a backfill for a new subscription: both
//! bounded, idempotent and visible in the delivery log.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{deliveries_when, subscribe, SECRET};
use crate::support::receiver::{Receiver, Reply};
use crate::support::{eventually, TestApp};

fn at(time: chrono::DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[tokio::test]
async fn recover_requeues_the_windows_failed_deliveries_once() {
    let answer = Arc::new(AtomicU16::new(503));
    let scripted = answer.clone();
    let receiver =
        Receiver::start(move |_, _| Reply::status(scripted.load(Ordering::SeqCst))).await;
    let app = TestApp::spawn().await;
    let id = subscribe(&app, &receiver.url("/hook"), json!(["job.created"])).await;
    app.publish_fixture("field_service_job").await;
    let path = format!("/api/hooks/webhooks/{id}/recover");

    // One failed delivery before the window, two inside it.
    let started = Utc::now() - chrono::Duration::seconds(1);
    app.create_job("field_service_job").await;
    deliveries_when(&app, &id, "the first delivery to fail", |d| {
        d.len() == 1 && d[0]["status"] == "failed"
    })
    .await;
    let window = Utc::now();
    app.create_job("field_service_job").await;
    app.create_job("field_service_job").await;
    deliveries_when(&app, &id, "three failed deliveries", |d| {
        d.len() == 3 && d.iter().all(|d| d["status"] == "failed")
    })
    .await;

    answer.store(200, Ordering::SeqCst);
    let (status, body) = app
        .post(&path, &app.key, json!({"since": at(window)}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(
        (body["requeued"].as_u64(), body["remaining"].as_u64()),
        (Some(2), Some(0))
    );
    let items = deliveries_when(&app, &id, "the window's deliveries to succeed", |d| {
        d.iter().filter(|d| d["status"] == "succeeded").count() == 2
    })
    .await;
    for d in &items {
        if d["status"] == "succeeded" {
            assert_eq!(d["requeuedBy"], "recover", "{d}");
            assert!(!d["requeuedAt"].is_null());
        } else {
            assert_eq!(d["status"], "failed", "outside the window: {d}");
            assert!(d["requeuedBy"].is_null());
        }
    }
    // Again: nothing in the window is failed any more.
    let (_, again) = app
        .post(&path, &app.key, json!({"since": at(window)}))
        .await;
    assert_eq!(again["requeued"], 0, "{again}");

    // The earlier window, bounded by `until`.
    let (_, earlier) = app
        .post(
            &path,
            &app.key,
            json!({"since": at(started), "until": at(window)}),
        )
        .await;
    assert_eq!(earlier["requeued"], 1, "{earlier}");
    deliveries_when(&app, &id, "every delivery to succeed", |d| {
        d.len() == 3 && d.iter().all(|d| d["status"] == "succeeded")
    })
    .await;

    let (status, problem) = app
        .post(
            &path,
            &app.key,
            json!({"since": at(window), "until": at(started)}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "until");
    let unknown = format!("/api/hooks/webhooks/{}/recover", uuid::Uuid::new_v4());
    let (status, _) = app
        .post(&unknown, &app.key, json!({"since": at(window)}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_new_subscription_may_backfill_the_log() {
    let receiver = Receiver::ok().await;
    let app = TestApp::spawn().await;
    app.publish_fixture("field_service_job").await;
    let before = Utc::now() - chrono::Duration::seconds(1);
    let first = app.create_job("field_service_job").await;
    app.create_job("field_service_job").await;

    // Without a backfill, a subscription gets only what happens after it.
    let plain = subscribe(&app, &receiver.url("/plain"), json!(["job.created"])).await;

    let create = |path: &str, backfill: Value| {
        json!({"name": "catch-up", "url": receiver.url(path), "eventTypes": ["job.created"],
               "secret": SECRET, "backfill": backfill})
    };
    let (status, created) = app
        .post(
            "/api/hooks/webhooks",
            &app.key,
            create("/since", json!({"since": at(before)})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["backfilled"], 2);
    let id = created["id"].as_str().unwrap().to_string();
    let items = deliveries_when(&app, &id, "the backfill to arrive", |d| {
        d.len() == 2 && d.iter().all(|d| d["status"] == "succeeded")
    })
    .await;
    assert!(items.iter().all(|d| d["origin"] == "backfill"), "{items:?}");
    let arrived: Vec<Value> = receiver
        .requests()
        .iter()
        .filter(|r| r.path == "/since")
        .map(|r| r.json())
        .collect();
    assert_eq!(arrived.len(), 2);

    // From a cursor of the events API: only what came after it.
    // (The events API shows an event once the gap-safe horizon has passed it.)
    let path = format!(
        "/api/v1/events?stream_id={}&limit=1",
        first["id"].as_str().unwrap()
    );
    let cursor = eventually("the first event", Duration::from_secs(10), || async {
        let (_, page) = app.get(&path, &app.key).await;
        page["next_cursor"].as_str().map(str::to_string)
    })
    .await;
    let (status, created) = app
        .post(
            "/api/hooks/webhooks",
            &app.key,
            create("/after", json!({"after": cursor})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["backfilled"], 1, "{created}");

    for (backfill, field) in [
        (json!({"since": at(before), "after": "1.1"}), "backfill"),
        (json!({}), "backfill"),
        (json!({"after": "not-a-cursor"}), "backfill.after"),
    ] {
        let (status, problem) = app
            .post("/api/hooks/webhooks", &app.key, create("/bad", backfill))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["field"], field);
    }
    let (_, listed) = app
        .get(&format!("/api/hooks/webhooks/{plain}/deliveries"), &app.key)
        .await;
    assert_eq!(listed["items"], json!([]), "no backfill unless asked");
}

//! The event log: append-only in the database, tamper-evident, and read without gaps.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use switchyard_engine::log::{append, EventType, NewEvent, StreamLock};

use crate::support::{eventually, TestApp};

async fn page(app: &TestApp, after: &str) -> (Vec<Value>, Option<String>) {
    let (status, page) = app
        .get(&format!("/api/v1/events?limit=50&after={after}"), &app.key)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    (
        page["items"].as_array().unwrap().clone(),
        page["next_cursor"].as_str().map(str::to_string),
    )
}

#[tokio::test]
async fn the_database_refuses_to_update_delete_or_truncate_events() {
    let app = TestApp::spawn().await;
    let client = app.pool.get().await.unwrap();
    for sql in [
        "UPDATE event_log SET type = 'forged'",
        "DELETE FROM event_log",
        "TRUNCATE event_log",
    ] {
        let err = client.batch_execute(sql).await.expect_err(sql);
        let text = err
            .as_db_error()
            .map(|e| e.message().to_string())
            .unwrap_or_default();
        assert!(text.contains("append-only"), "{sql}: {text}");
    }
}

#[tokio::test]
async fn given_a_tampered_event_then_verify_reports_its_position() {
    let app = TestApp::spawn().await;
    app.publish_fixture("field_service_job").await;
    let job = app.create_job("field_service_job").await;
    let id = job["id"].as_str().unwrap();
    for body in [
        json!({"transition": "schedule", "data": {"technician": "ana"}}),
        json!({"transition": "start"}),
    ] {
        assert_eq!(app.transition(id, body).await.0, StatusCode::OK);
    }
    let (_, events) = app
        .get(&format!("/api/v1/jobs/{id}/events"), &app.key)
        .await;
    let target = events["items"][1]["position"].as_i64().unwrap();

    // A superuser can switch the trigger off; the chain still gives the edit away.
    let client = app.pool.get().await.unwrap();
    client
        .batch_execute(&format!(
            "ALTER TABLE event_log DISABLE TRIGGER event_log_append_only; \
             UPDATE event_log SET data = jsonb_set(data, '{{data,technician}}', '\"mallory\"') WHERE position = {target}; \
             ALTER TABLE event_log ENABLE TRIGGER event_log_append_only;"
        ))
        .await
        .unwrap();

    let (status, verify) = app.get("/api/v1/events/verify", &app.key).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(verify["ok"], false, "{verify}");
    assert_eq!(verify["first_break"]["position"], target);
    assert!(verify["first_break"]["reason"]
        .as_str()
        .unwrap()
        .contains("hash"));
}

#[tokio::test]
async fn given_a_slow_transaction_holding_an_earlier_position_then_a_cursor_reader_does_not_skip_it(
) {
    let app = TestApp::spawn().await;
    let start = eventually(
        "the tenant's first events",
        Duration::from_secs(20),
        || async {
            let (existing, start) = page(&app, "").await;
            (!existing.is_empty()).then_some(start).flatten()
        },
    )
    .await;

    // The slow writer takes its position first but commits last.
    let mut slow_client = app.pool.get().await.unwrap();
    let slow = slow_client.transaction().await.unwrap();
    let slow_event = append(
        &slow,
        NewEvent {
            tenant_id: app.tenant_id,
            stream_id: uuid::Uuid::new_v4(),
            event_type: EventType::UserCreated,
            data: json!({}),
            metadata: json!({}),
        },
        StreamLock::Take,
    )
    .await
    .unwrap();
    app.publish_fixture("field_service_job").await;

    let (seen, cursor) = page(&app, &start).await;
    assert!(
        seen.iter().all(|e| e["type"] != "workflow.published"),
        "the later event must wait while an earlier transaction is in flight: {seen:?}"
    );
    let cursor = cursor.unwrap_or(start);
    slow.commit().await.unwrap();

    let after_commit = eventually(
        "both events to become visible",
        Duration::from_secs(20),
        || {
            let app = &app;
            let cursor = cursor.clone();
            async move {
                let (items, _) = page(app, &cursor).await;
                (items.len() >= 2).then_some(items)
            }
        },
    )
    .await;
    let types: Vec<&str> = after_commit
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["user.created", "workflow.published"]);
    assert!(
        slow_event.position < after_commit[1]["position"].as_i64().unwrap(),
        "the slow event holds the earlier position: paging by position alone would have skipped it"
    );
}

#[tokio::test]
async fn export_streams_the_same_events_as_paging() {
    let app = TestApp::spawn().await;
    app.publish_fixture("field_service_job").await;
    for _ in 0..3 {
        let job = app.create_job("field_service_job").await;
        let id = job["id"].as_str().unwrap();
        app.transition(
            id,
            json!({"transition": "schedule", "data": {"technician": "ana"}}),
        )
        .await;
        app.transition(id, json!({"transition": "cancel"})).await;
    }
    let paged = eventually("all events to be visible", Duration::from_secs(20), || {
        let app = &app;
        async move {
            let items = app.all_events(2).await;
            (items.len() >= 12).then_some(items)
        }
    })
    .await;
    let resp = app.get_response("/api/v1/events/export", &app.key).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/x-ndjson"));
    let text = resp.text().await.unwrap();
    let exported: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(exported, paged);

    let (_, only) = app.get("/api/v1/events?type=job.created", &app.key).await;
    assert_eq!(only["items"].as_array().unwrap().len(), 3);
}

//! State timeouts: entering a state with a `timeout` schedules its transition, leaving the
//! state cancels it, and a due timer fires once, as the actor `timer`, through the same
//! expected-version check as any transition.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use switchyard_actions::vault::{EncryptionKey, Keyring};
use switchyard_engine::queue;
use switchyard_engine::timer::{self, ClaimedTimer, Fired};

use crate::support::cluster::fresh_database;
use crate::support::{eventually, TestApp};

/// `waiting --escalate--> escalated`, `waiting --start--> working`; `waiting` times out
/// into `escalate` after `after`.
fn workflow(after: &str) -> Value {
    json!({
        "name": "ticket", "initial": "waiting",
        "states": [
            {"name": "waiting", "timeout": {"after": after, "transition": "escalate"}},
            {"name": "working"},
            {"name": "escalated", "terminal": true}
        ],
        "transitions": [
            {"name": "escalate", "from": ["waiting"], "to": "escalated"},
            {"name": "start", "from": ["waiting"], "to": "working"}
        ]
    })
}

async fn job_state(app: &TestApp, id: &str) -> String {
    let (_, job) = app.get(&format!("/api/v1/jobs/{id}"), &app.key).await;
    job["state"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_state_timeout_fires_its_transition_as_the_timer() {
    let app = TestApp::spawn().await;
    app.publish(workflow("1s")).await;
    let job = app.create_job("ticket").await;
    let id = job["id"].as_str().unwrap();
    let scheduled = app.job_events(id, "timer.scheduled").await;
    assert_eq!(scheduled.len(), 1);
    assert_eq!(scheduled[0]["data"]["transition"], "escalate");

    eventually("the timer to fire", Duration::from_secs(30), || async {
        (job_state(&app, id).await == "escalated").then_some(())
    })
    .await;
    app.idle().await;
    let moved = app.job_events(id, "job.transitioned").await;
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0]["metadata"]["actor"], "timer");
    assert_eq!(
        moved[0]["metadata"]["timer_id"],
        scheduled[0]["data"]["timer_id"]
    );
    let fired = app.job_events(id, "timer.fired").await;
    assert_eq!(fired.len(), 1, "a timer fires once");
    assert_eq!(fired[0]["data"]["transition_event_id"], moved[0]["id"]);
    // It fired no sooner than due, and says how late by the clock that recorded it.
    let time = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    let due_at = time(&fired[0]["data"]["due_at"]);
    let recorded_at = time(&fired[0]["recorded_at"]);
    let late_ms = fired[0]["data"]["late_ms"].as_i64().unwrap();
    assert!(time(&moved[0]["recorded_at"]) >= due_at, "{fired:?}");
    assert!(
        late_ms <= (recorded_at - due_at).num_milliseconds(),
        "late by {late_ms} ms, recorded {recorded_at}, due {due_at}"
    );
    let (_, verify) = app.get("/api/v1/events/verify", &app.key).await;
    assert_eq!(verify["ok"], true, "{verify}");
}

#[tokio::test]
async fn leaving_the_state_cancels_its_timer() {
    let app = TestApp::spawn().await;
    app.publish(workflow("1h")).await;
    let id = app.create_job("ticket").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = app.transition(&id, json!({"transition": "start"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let cancelled = app.job_events(&id, "timer.cancelled").await;
    assert_eq!(cancelled.len(), 1);
    assert_eq!(
        cancelled[0]["data"]["reason"],
        "the job left state 'waiting'"
    );
    let client = app.pool.get().await.unwrap();
    let open: i64 = client
        .query_one(
            "SELECT count(*) FROM timers WHERE job_id = $1::text::uuid AND status <> 'cancelled'",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(open, 0);
}

#[tokio::test]
async fn a_timer_whose_job_moved_on_is_recorded_cancelled_not_applied() {
    // No worker here: the test fires the timer itself, after a manual transition won.
    let db_url = fresh_database().await;
    let app = TestApp::spawn_api_only(&db_url, Keyring::single(EncryptionKey::generate().0)).await;
    app.publish(workflow("1s")).await;
    let id = app.create_job("ticket").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let claimed = eventually("the timer to come due", Duration::from_secs(30), || async {
        let claimed = queue::claim::<ClaimedTimer>(&app.pool, app.tenant_id, 10)
            .await
            .ok()?;
        (!claimed.is_empty()).then_some(claimed)
    })
    .await;

    // The job moves on while the timer is claimed but not yet fired.
    let (status, body) = app.transition(&id, json!({"transition": "start"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let fired = timer::fire(&app.pool, &claimed[0]).await.unwrap();
    assert!(
        matches!(fired, Fired::Cancelled(ref reason) if reason.contains("moved on")),
        "{fired:?}"
    );
    assert_eq!(job_state(&app, &id).await, "working");
    let moves = app.job_events(&id, "job.transitioned").await;
    assert_eq!(moves.len(), 1, "only the manual transition applied");
    let cancelled = app.job_events(&id, "timer.cancelled").await;
    assert_eq!(cancelled.len(), 1);
    assert!(cancelled[0]["data"]["reason"]
        .as_str()
        .unwrap()
        .contains("moved on"));

    // Firing again (a worker that lost its lease) writes nothing more.
    assert_eq!(
        timer::fire(&app.pool, &claimed[0]).await.unwrap(),
        Fired::Stale
    );
}

#[tokio::test]
async fn timeouts_are_checked_at_publish() {
    let app = TestApp::spawn().await;
    let mut bad = workflow("1s");
    bad["states"][0]["timeout"] = json!({"after": "500ms", "transition": "start", "colour": 1});
    bad["states"][1]["timeout"] = json!({"after": "1h", "transition": "escalate"});
    bad["states"][2]["timeout"] = json!({"at": "{{job.context.due", "transition": "escalate"});
    let (status, body) = app.post("/api/v1/workflows", &app.key, bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let text = body.to_string();
    for expected in [
        "states[0].timeout.after",
        "must be at least 1s",
        "states[0].timeout.colour",
        "states[1].timeout.transition",
        "no transition named 'escalate' leaves state 'working'",
        "a terminal state cannot time out",
        "states[2].timeout.at",
    ] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
}

#[tokio::test]
async fn a_transition_scheduled_over_the_api_fires_once_and_can_be_cancelled() {
    let app = TestApp::spawn().await;
    app.publish(workflow("7d")).await;
    let id = app.create_job("ticket").await["id"]
        .as_str()
        .unwrap()
        .to_string();

    let (status, timer) = app
        .transition(
            &id,
            json!({"transition": "start", "after": "1s", "data": {"by": "timer"}}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{timer}");
    assert_eq!(timer["kind"], "scheduled");
    assert_eq!(timer["status"], "pending");
    let (_, job) = app.get(&format!("/api/v1/jobs/{id}"), &app.key).await;
    let listed: Vec<&Value> = job["timers"].as_array().unwrap().iter().collect();
    assert!(listed.iter().any(|t| t["id"] == timer["id"]), "{job}");

    eventually(
        "the scheduled transition",
        Duration::from_secs(30),
        || async { (job_state(&app, &id).await == "working").then_some(()) },
    )
    .await;
    app.idle().await;
    let (_, job) = app.get(&format!("/api/v1/jobs/{id}"), &app.key).await;
    assert_eq!(job["context"]["by"], "timer");
    let fired = app.job_events(&id, "timer.fired").await;
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0]["data"]["timer_id"], timer["id"]);

    // Another, an hour away, cancelled over the API.
    let (status, later) = app
        .transition(
            &id,
            json!({"transition": "start", "at": "2099-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{later}");
    // With an Idempotency-Key, a repeat answers with the timer it made, and makes no other.
    let path = format!("/api/v1/jobs/{id}/transitions");
    let body = json!({"transition": "start", "after": "1h"});
    let (status, later) = app
        .post_keyed(&path, &app.key, "later-1", body.clone())
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{later}");
    let (status, again) = app.post_keyed(&path, &app.key, "later-1", body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{again}");
    assert_eq!(again["id"], later["id"]);
    let (_, open) = app
        .get(&format!("/api/v1/jobs/{id}/timers"), &app.key)
        .await;
    assert_eq!(open["items"].as_array().unwrap().len(), 1, "{open}");
    let path = format!("/api/v1/jobs/{id}/timers/{}", later["id"].as_str().unwrap());
    assert_eq!(app.delete(&path, &app.key).await, StatusCode::NO_CONTENT);
    assert_eq!(app.delete(&path, &app.key).await, StatusCode::NOT_FOUND);
    let (_, open) = app
        .get(&format!("/api/v1/jobs/{id}/timers"), &app.key)
        .await;
    assert_eq!(open["items"], json!([]));
    let cancelled = app.job_events(&id, "timer.cancelled").await;
    assert_eq!(
        cancelled.last().unwrap()["data"]["reason"],
        "cancelled over the API"
    );
}

#[tokio::test]
async fn scheduling_refuses_what_it_cannot_keep() {
    let app = TestApp::spawn().await;
    app.publish(workflow("7d")).await;
    let id = app.create_job("ticket").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (body, field) in [
        (
            json!({"transition": "start", "after": "1s", "at": "2030-01-01T00:00:00Z"}),
            "at",
        ),
        (json!({"to": "working", "after": "1s"}), "transition"),
        (json!({"transition": "start", "after": "500ms"}), "after"),
        (json!({"transition": "start", "after": "8d"}), "after"),
        (json!({"transition": "nope", "after": "1s"}), "transition"),
    ] {
        let (status, problem) = app.transition(&id, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
        assert!(problem.to_string().contains(field), "{body}: {problem}");
    }
    let body = json!({"transition": "start", "after": "1s", "data": [1]});
    let (status, problem) = app.transition(&id, body).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "data is documented as an object"
    );
    assert_eq!(problem["field"], "data", "{problem}");
    let (_, open) = app
        .get(&format!("/api/v1/jobs/{id}/timers"), &app.key)
        .await;
    assert_eq!(
        open["items"].as_array().unwrap().len(),
        1,
        "only the state's own timeout"
    );
}

#[tokio::test]
async fn a_job_holds_at_most_100_open_timers_and_the_list_honours_limit() {
    let app = TestApp::spawn().await;
    app.publish(workflow("7d")).await;
    let id = app.create_job("ticket").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The state's own timeout is one of the hundred.
    for _ in 0..99 {
        let (status, body) = app
            .transition(&id, json!({"transition": "start", "after": "1h"}))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    let (status, problem) = app
        .transition(&id, json!({"transition": "start", "after": "1h"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(
        problem["type"].as_str().unwrap().rsplit('/').next(),
        Some("quota-exceeded")
    );
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("100 open timers"));

    let (_, page) = app
        .get(&format!("/api/v1/jobs/{id}/timers?limit=5"), &app.key)
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 5);
    let (_, all) = app
        .get(&format!("/api/v1/jobs/{id}/timers"), &app.key)
        .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 100);
    let (status, _) = app
        .get(&format!("/api/v1/jobs/{id}/timers?limit=0"), &app.key)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_dry_run_refuses_what_the_real_call_refuses_when_the_timeout_time_cannot_be_read() {
    let app = TestApp::spawn().await;
    app.publish(json!({
        "name": "offer", "initial": "open",
        "states": [
            {"name": "open"},
            {"name": "held", "timeout": {"at": "{{job.context.until}}", "transition": "lapse"}},
            {"name": "lapsed", "terminal": true}
        ],
        "transitions": [
            {"name": "hold", "from": ["open"], "to": "held"},
            {"name": "lapse", "from": ["held"], "to": "lapsed"}
        ]
    }))
    .await;
    let job = app.create_job("offer").await;
    let id = job["id"].as_str().unwrap();
    let path = format!("/api/v1/jobs/{id}/transitions");
    let bad = json!({"transition": "hold", "data": {"until": "soon"}});
    let (dry, dry_body) = app
        .post(&format!("{path}?dry_run=true"), &app.key, bad.clone())
        .await;
    let (real, real_body) = app.post(&path, &app.key, bad).await;
    assert_eq!(dry, StatusCode::UNPROCESSABLE_ENTITY, "{dry_body}");
    assert_eq!(real, StatusCode::UNPROCESSABLE_ENTITY, "{real_body}");
    assert_eq!(dry_body["detail"], real_body["detail"]);
    assert!(
        real_body["detail"]
            .as_str()
            .unwrap()
            .contains("not an RFC 3339 time"),
        "{real_body}"
    );

    let good = json!({"transition": "hold", "data": {"until": "2026-12-31T09:00:00Z"}});
    let (dry, dry_body) = app
        .post(&format!("{path}?dry_run=true"), &app.key, good.clone())
        .await;
    assert_eq!(dry, StatusCode::OK, "{dry_body}");
    assert_eq!(dry_body["job"]["state"], "held");
    let (real, _) = app.post(&path, &app.key, good).await;
    assert_eq!(real, StatusCode::OK);
    let scheduled = app.job_events(id, "timer.scheduled").await;
    assert_eq!(scheduled[0]["data"]["due_at"], "2026-12-31T09:00:00Z");
}

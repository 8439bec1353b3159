//! Moving jobs through the fixture workflow: the happy path and every refusal.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn given_the_fixture_when_a_job_goes_through_it_then_state_events_and_chain_agree() {
    let app = TestApp::spawn().await;
    app.publish_fixture("field_service_job").await;
    let job = app.create_job("field_service_job").await;
    let id = job["id"].as_str().unwrap();
    assert_eq!(job["state"], "created");
    assert_eq!(job["version"], 0);

    let steps = [
        (
            json!({"transition": "schedule", "data": {"technician": "ana"}}),
            "scheduled",
        ),
        (json!({"to": "in_progress"}), "in_progress"),
        (
            json!({"transition": "complete", "data": {"signed_by": "R. Customer"}, "expected_version": 2}),
            "completed",
        ),
    ];
    for (i, (body, state)) in steps.into_iter().enumerate() {
        let (status, out) = app.transition(id, body).await;
        assert_eq!(status, StatusCode::OK, "{out}");
        assert_eq!(out["job"]["state"], state);
        assert_eq!(out["job"]["version"], i as i64 + 1);
        assert_eq!(out["event"]["type"], "job.transitioned");
        assert_eq!(out["event"]["stream_version"], i as i64 + 2);
    }

    let (_, job) = app.get(&format!("/api/v1/jobs/{id}"), &app.key).await;
    assert_eq!(job["state"], "completed");
    assert_eq!(
        job["context"]["technician"], "ana",
        "transition data is merged into the context"
    );

    let (_, events) = app
        .get(&format!("/api/v1/jobs/{id}/events"), &app.key)
        .await;
    let types: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "job.created",
            "job.transitioned",
            "job.transitioned",
            "job.transitioned"
        ]
    );
    let items = events["items"].as_array().unwrap();
    for pair in items.windows(2) {
        assert_eq!(
            pair[1]["prev_hash"], pair[0]["hash"],
            "each event links to the one before"
        );
    }
    let guard = &items[1]["data"]["guard"];
    assert_eq!(guard["inputs"]["transition.data.technician"], "ana");
    assert_eq!(guard["passed"], true);

    let (status, verify) = app.get("/api/v1/events/verify", &app.key).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(verify["ok"], true, "{verify}");
}

#[tokio::test]
async fn given_a_created_job_when_a_later_transition_is_asked_then_409_names_the_allowed_ones() {
    let app = TestApp::spawn().await;
    app.publish_fixture("field_service_job").await;
    let job = app.create_job("field_service_job").await;
    let (status, problem) = app
        .transition(
            job["id"].as_str().unwrap(),
            json!({"transition": "complete"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["type"], "/problems/transition-not-allowed");
    assert_eq!(problem["current_state"], "created");
    let allowed: Vec<&str> = problem["allowed_transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(allowed, ["schedule", "cancel"]);
    assert!(problem["detail"].as_str().unwrap().contains("schedule"));

    let (status, problem) = app
        .transition(job["id"].as_str().unwrap(), json!({"to": "completed"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");

    let (status, problem) = app
        .transition(
            job["id"].as_str().unwrap(),
            json!({"transition": "teleport"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "transition");
}

#[tokio::test]
async fn given_no_technician_when_scheduling_then_the_guard_refuses_and_shows_what_it_saw() {
    let app = TestApp::spawn().await;
    app.publish_fixture("field_service_job").await;
    let job = app.create_job("field_service_job").await;
    let id = job["id"].as_str().unwrap();
    let (status, problem) = app
        .transition(
            id,
            json!({"transition": "schedule", "data": {"technician": ""}}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["type"], "/problems/guard-failed");
    assert_eq!(problem["values"]["transition.data.technician"], "");
    assert_eq!(
        problem["guard"],
        json!({"!!": [{"var": "transition.data.technician"}]})
    );
    let (_, job) = app.get(&format!("/api/v1/jobs/{id}"), &app.key).await;
    assert_eq!(job["version"], 0, "a refused transition writes nothing");
}

#[tokio::test]
async fn given_a_stale_expected_version_when_transitioning_then_409_reports_both_versions() {
    let app = TestApp::spawn().await;
    app.publish_fixture("field_service_job").await;
    let job = app.create_job("field_service_job").await;
    let id = job["id"].as_str().unwrap();
    let (status, _) = app
        .transition(
            id,
            json!({"transition": "schedule", "data": {"technician": "ana"}, "expected_version": 0}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, problem) = app
        .transition(id, json!({"transition": "start", "expected_version": 0}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["type"], "/problems/version-conflict");
    assert_eq!(problem["expected_version"], 0);
    assert_eq!(problem["actual_version"], 1);
    assert_eq!(problem["field"], "expected_version");
}

#[tokio::test]
async fn given_actions_when_a_transition_commits_then_their_outbox_rows_are_written_in_lane_order()
{
    let app = TestApp::spawn().await;
    let connection = app
        .create_connection(
            "generic_rest",
            json!({"base_url": "https://api.example.com"}),
        )
        .await;
    app.publish(json!({
        "name": "notify", "initial": "open",
        "states": [{"name": "open"}, {"name": "closed", "terminal": true}],
        "transitions": [{"name": "close", "from": ["open"], "to": "closed", "actions": [
            {"name": "first", "action_type": "WEBHOOK", "payload_template": {"connection_id": connection, "path": "/a", "body": {"job": "{{job.id}}"}}},
            {"name": "second", "action_type": "WEBHOOK", "payload_template": {"connection_id": connection, "path": "/b"}}
        ]}]
    }))
    .await;
    let job = app.create_job("notify").await;
    let id = job["id"].as_str().unwrap();
    let (status, out) = app.transition(id, json!({"transition": "close"})).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let statuses: Vec<&str> = out["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["pending", "waiting"]);

    let (_, runs) = app
        .get(&format!("/api/v1/jobs/{id}/actions"), &app.key)
        .await;
    let names: Vec<&str> = runs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["first", "second"]);

    let client = app.pool.get().await.unwrap();
    let row = client
        .query_one(
            "SELECT context FROM action_runs WHERE job_id = $1 AND ordinal = 0",
            &[&uuid::Uuid::parse_str(id).unwrap()],
        )
        .await
        .unwrap();
    let context: serde_json::Value = row.get(0);
    assert_eq!(
        context["job"]["current_state"], "closed",
        "the snapshot is the job after the transition"
    );
    assert_eq!(context["event"]["id"], out["event"]["id"]);
}

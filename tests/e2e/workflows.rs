//! Publishing and reading workflow definitions.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn given_an_invalid_definition_then_every_problem_is_reported_with_its_path() {
    let app = TestApp::spawn().await;
    let (status, problem) = app
        .post(
            "/api/v1/workflows",
            &app.key,
            json!({
                "name": "broken", "initial": "start",
                "states": [{"name": "start"}, {"name": "start"}, {"name": "end", "terminal": true}, {"name": "orphan"}],
                "transitions": [
                    {"name": "finish", "from": ["start"], "to": "ghost"},
                    {"name": "again", "from": ["end"], "to": "start", "guard": {"bogus_op": [1]}},
                    {"name": "fire", "from": ["start"], "to": "end", "actions": [
                        {"name": "a", "action_type": "SMOKE_SIGNAL", "payload_template": {"connection_id": "x", "body": {"t": "{{#each}}"}}}
                    ]}
                ]
            }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["type"], "/problems/invalid-workflow");
    let paths: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    for expected in [
        "$.states[1].name",
        "$.states[3]",
        "$.transitions[0].to",
        "$.transitions[1].from[0]",
        "$.transitions[1].guard",
        "$.transitions[2].actions[0].action_type",
        "$.transitions[2].actions[0].payload_template.connection_id",
        "$.transitions[2].actions[0].payload_template.body.t",
    ] {
        assert!(
            paths.contains(&expected),
            "{expected} missing from {paths:?}"
        );
    }
    let (_, list) = app.get("/api/v1/workflows", &app.key).await;
    assert!(
        list["items"].as_array().unwrap().is_empty(),
        "nothing was published"
    );

    let (status, validation) = app
        .post("/api/v1/workflows/validate", &app.key, json!({"name": "x"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(validation["valid"], false);
}

#[tokio::test]
async fn given_a_republished_name_then_versions_increase_and_jobs_keep_their_pinned_version() {
    let app = TestApp::spawn().await;
    let v1 = app.publish_fixture("purchase_approval").await;
    assert_eq!(v1["version"], 1);
    let job = app.create_job("purchase_approval").await;
    let mut doc = v1["definition"].clone();
    doc["description"] = json!("second edition");
    let v2 = app.publish(doc).await;
    assert_eq!(v2["version"], 2);

    let (_, latest) = app
        .get("/api/v1/workflows/purchase_approval", &app.key)
        .await;
    assert_eq!(latest["version"], 2);
    let (status, first) = app
        .get("/api/v1/workflows/purchase_approval/versions/1", &app.key)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        first["definition"]["description"],
        v1["definition"]["description"]
    );
    let (status, _) = app
        .get("/api/v1/workflows/purchase_approval/versions/9", &app.key)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, job) = app
        .get(
            &format!("/api/v1/jobs/{}", job["id"].as_str().unwrap()),
            &app.key,
        )
        .await;
    assert_eq!(job["workflow_version"], 1);
    let (_, list) = app.get("/api/v1/workflows", &app.key).await;
    assert_eq!(list["items"][0]["latest_version"], 2);
}

#[tokio::test]
async fn the_approval_fixture_loops_back_after_a_rejection() {
    let app = TestApp::spawn().await;
    app.publish_fixture("purchase_approval").await;
    let (status, job) = app
        .post(
            "/api/v1/jobs",
            &app.key,
            json!({"workflow": "purchase_approval", "context": {"amount": 5000}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = job["id"].as_str().unwrap();
    for (body, state) in [
        (json!({"transition": "submit"}), "submitted"),
        (json!({"transition": "reject"}), "rejected"),
        (json!({"transition": "revise"}), "draft"),
        (json!({"transition": "submit"}), "submitted"),
    ] {
        let (status, out) = app.transition(id, body).await;
        assert_eq!(status, StatusCode::OK, "{out}");
        assert_eq!(out["job"]["state"], state);
    }
    let (status, _) = app.transition(id, json!({"transition": "approve"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "5000 needs finance");
    let (status, out) = app
        .transition(
            id,
            json!({"transition": "approve", "data": {"approver_role": "finance"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(out["job"]["state"], "approved");
}

#[tokio::test]
async fn preview_renders_a_payload_without_sending_it() {
    let app = TestApp::spawn().await;
    let context = json!({"job": {"id": "j-1"}, "transition": {"data": {"amount": 42}}});
    let (status, preview) = app
        .post(
            "/api/v1/workflows/preview",
            &app.key,
            json!({"path": "/orders/{{job.id}}", "body": {"amount": "{{transition.data.amount}}"}, "context": context}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(
        preview,
        json!({"path": "/orders/j-1", "body": {"amount": 42}})
    );
    for (body, field) in [
        (json!({"path": "{{#each", "context": {}}), "path"),
        (
            json!({"body": {"a": {"b": "{{> partial}}"}}, "context": {}}),
            "$.body.a.b",
        ),
        (
            json!({"path": "{{job.missing}}", "context": context}),
            "context",
        ),
    ] {
        let (status, problem) = app.post("/api/v1/workflows/preview", &app.key, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["field"], field, "{problem}");
    }
    // The document says the context is an object: anything else is a malformed body.
    let body = json!({"path": "/x", "context": []});
    let (status, problem) = app.post("/api/v1/workflows/preview", &app.key, body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(problem["field"], "context", "{problem}");
}

#[tokio::test]
async fn publishing_warns_about_transition_data_no_guard_asks_for_and_publishes_anyway() {
    let app = TestApp::spawn().await;
    let conn = app.rest_connection("https://api.example.com").await;
    let doc = json!({
        "name": "approvals", "initial": "open",
        "states": [{"name": "open"}, {"name": "approved", "terminal": true}],
        "transitions": [{"name": "approve", "from": ["open"], "to": "approved",
            "guard": {"!!": [{"var": "transition.data.by"}]},
            "actions": [{"name": "notify", "action_type": "WEBHOOK",
                "payload_template": {"connection_id": conn, "path": "/approved",
                    "body": {"by": "{{transition.data.by}}", "approver": "{{transition.data.approver}}",
                             "note": "{{#if transition.data.note}}{{transition.data.note}}{{/if}}"}}}]}]
    });
    let (status, validated) = app
        .post("/api/v1/workflows/validate", &app.key, doc.clone())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(validated["valid"], true);
    let published = app.publish(doc).await;
    assert_eq!(published["version"], 1, "a warning does not refuse");
    for answer in [&validated, &published] {
        let warnings = answer["warnings"].as_array().unwrap();
        assert_eq!(
            warnings.len(),
            1,
            "only approver: by is asked for, note is tested: {answer}"
        );
        assert_eq!(
            warnings[0]["path"],
            "transitions[0].actions[0].payload_template.body"
        );
        assert!(warnings[0]["message"]
            .as_str()
            .unwrap()
            .contains("transition.data.approver"));
    }
}

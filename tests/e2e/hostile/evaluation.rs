//! Templates and guards written to recurse, loop, grow or stall: refused at publish where
//! that can be known, otherwise stopped by their budget with a named failure of that one
//! action or transition, never a crash.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{named_field, still_serving};
use crate::support::receiver::Receiver;
use crate::support::TestApp;

fn workflow(connection: &str, body: Value, guard: Value) -> Value {
    json!({
        "name": "hostile", "initial": "open",
        "states": [{"name": "open"}, {"name": "done", "terminal": true}],
        "transitions": [{"name": "go", "from": ["open"], "to": "done", "guard": guard,
            "actions": [{"name": "call", "action_type": "WEBHOOK", "retry": {"max_attempts": 1},
                "payload_template": {"connection_id": connection, "path": "/x", "body": body}}]}]
    })
}

#[tokio::test]
async fn recursive_oversized_or_deeply_nested_templates_are_refused_at_publish() {
    let app = TestApp::spawn().await;
    let hook = Receiver::ok().await;
    let conn = app.rest_connection(&hook.url("")).await;
    let vectors = [
        r#"{{#*inline "p"}}x{{> p}}{{/inline}}{{> p}}"#.to_string(),
        "{{> p}}".to_string(),
        "{{#> layout}}x{{/layout}}".to_string(),
        r#"{{#*inline "a"}}{{> b}}{{/inline}}{{#*inline "b"}}{{> a}}{{/inline}}{{> a}}"#
            .to_string(),
        "{{*decorator}}".to_string(),
        format!("{}x{}", "{{#if job.id}}".repeat(40), "{{/if}}".repeat(40)),
        format!(
            "{{{{lookup {}job{} \"id\"}}}}",
            "(lookup ".repeat(60),
            ")".repeat(60)
        ),
        // 20,000 expressions: compiling this takes seconds; it is refused by size first.
        "{{job.id}} ".repeat(20_000),
        "x".repeat(17 * 1024),
    ];
    for source in vectors {
        let doc = workflow(&conn, json!({"x": source}), Value::Null);
        for route in ["/api/v1/workflows", "/api/v1/workflows/validate"] {
            let (status, problem) = app.post(route, &app.key, doc.clone()).await;
            let field = if route.ends_with("validate") {
                assert_eq!(status, StatusCode::OK, "{problem}");
                assert_eq!(problem["valid"], false, "{problem}");
                problem["errors"][0]["path"].as_str().unwrap().to_string()
            } else {
                assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
                named_field(&problem)
            };
            assert_eq!(field, "$.transitions[0].actions[0].payload_template.body.x");
        }
    }
    still_serving(&app).await;
}

#[tokio::test]
async fn a_template_that_loops_or_grows_past_its_budget_fails_its_action_by_name() {
    // Which budget runs out first depends on the machine's load (a stalled thread meets
    // the time budget first); the engine's unit tests pin each budget with the clock
    // out of the way. Here: the action fails, unsent, naming a budget.
    let stopped =
        |text: &str, budget: &str| text.contains(budget) || text.contains("the time budget");
    let app = TestApp::spawn().await;
    let hook = Receiver::ok().await;
    let conn = app.rest_connection(&hook.url("")).await;
    let cases = [
        // Three nested loops over 200 items: 8 million iterations with nothing written.
        (
            "{{#each @root.transition.data.items}}{{#each @root.transition.data.items}}\
             {{#each @root.transition.data.items}}{{/each}}{{/each}}{{/each}}",
            "step budget",
        ),
        // 200 copies of 40 KiB: 8 MB of output.
        (
            "{{#each @root.transition.data.items}}{{@root.transition.data.big}}{{/each}}",
            "memory budget",
        ),
    ];
    for (n, (template, budget)) in cases.into_iter().enumerate() {
        let mut doc = workflow(&conn, json!({"x": template}), Value::Null);
        doc["name"] = json!(format!("loops{n}"));
        app.publish(doc).await;
        let job = app.create_job(&format!("loops{n}")).await;
        let id = job["id"].as_str().unwrap();
        let data = json!({"items": (0..200).collect::<Vec<_>>(), "big": "y".repeat(40 * 1024)});
        // A dry run names the budget without sending or writing anything.
        let (status, dry) = app
            .post(
                &format!("/api/v1/jobs/{id}/transitions?dry_run=true"),
                &app.key,
                json!({"transition": "go", "data": data}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{dry}");
        let error = dry["actions"][0]["error"].as_str().unwrap_or_default();
        assert!(stopped(error, budget), "{error}");
        // The real transition commits; its action fails with the reason, unsent.
        let (status, out) = app
            .transition(id, json!({"transition": "go", "data": data}))
            .await;
        assert_eq!(status, StatusCode::OK, "{out}");
        let runs = app.settled_actions(id).await;
        assert_eq!(runs[0]["status"], "failed", "{runs:?}");
        let last_error = runs[0]["last_error"].as_str().unwrap_or_default();
        assert!(stopped(last_error, budget), "{last_error}");
    }
    assert!(hook.requests().is_empty(), "nothing was sent");
    still_serving(&app).await;
}

#[tokio::test]
async fn a_guard_that_grows_or_loops_is_stopped_and_the_transition_refused_by_name() {
    let app = TestApp::spawn().await;
    let hook = Receiver::ok().await;
    let conn = app.rest_connection(&hook.url("")).await;
    let guards = [
        // The accumulator doubles: 2^40 bytes by the end.
        (
            json!({"reduce": [{"var": "transition.data.xs"},
                {"cat": [{"var": "accumulator"}, {"var": "accumulator"}]}, "xxxxxxxx"]}),
            "memory budget",
        ),
        (
            json!({"merge": [{"reduce": [{"var": "transition.data.xs"},
                {"merge": [{"var": "accumulator"}, {"var": "accumulator"}]}, [1]]}]}),
            "memory budget",
        ),
        // A heavy body over 20,000 items: a million steps.
        (
            json!({"some": [{"var": "transition.data.xs"},
                {"==": [{"+": vec![1; 60]}, -1]}]}),
            "step budget",
        ),
    ];
    for (n, (guard, budget)) in guards.into_iter().enumerate() {
        let mut doc = workflow(&conn, json!({}), guard);
        doc["name"] = json!(format!("guard{n}"));
        app.publish(doc).await;
        let job = app.create_job(&format!("guard{n}")).await;
        let id = job["id"].as_str().unwrap();
        let count = if budget == "step budget" { 20_000 } else { 40 };
        let xs: Vec<u32> = (0..count).collect();
        let (status, problem) = app
            .transition(id, json!({"transition": "go", "data": {"xs": xs}}))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        assert_eq!(problem["type"], "/problems/guard-error");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(budget), "{detail}");
        let (_, job) = app.get(&format!("/api/v1/jobs/{id}"), &app.key).await;
        assert_eq!(job["state"], "open", "the transition was not applied");
    }
    still_serving(&app).await;
}

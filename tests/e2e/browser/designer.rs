//! The workflow designer: a transition's side panel, adding a WEBHOOK action, the server's
//! validation errors next to the field, preview, and publishing version 2.

use serde_json::json;
use switchyard_engine::user::Role;

use super::{assert_console_errors_only, signed_in};

#[tokio::test]
async fn adding_a_webhook_action_in_the_designer_publishes_version_2() {
    let (app, browser) = signed_in(Role::Designer).await;
    let connection = app.rest_connection("https://api.example.com").await;
    app.publish(json!({
        "name": "orders", "initial": "new",
        "states": [{"name": "new"}, {"name": "paid"}, {"name": "shipped", "terminal": true}],
        "transitions": [
            {"name": "pay", "from": ["new"], "to": "paid"},
            {"name": "ship", "from": ["paid"], "to": "shipped"}
        ]
    }))
    .await;
    browser.goto("/admin/workflows/orders").await;
    let svg = browser.find("svg.diagram").await.text().await.unwrap();
    for state in ["new", "paid", "shipped"] {
        assert!(svg.contains(state), "the diagram names {state}: {svg}");
    }
    // Open the transition from its label in the diagram.
    browser
        .find("svg.diagram a[data-transition=pay]")
        .await
        .click()
        .await
        .unwrap();
    browser.wait_text("#panel", "Transition pay").await;
    browser.click("Add WEBHOOK action").await;
    browser.fill("Action name", "").await;
    browser
        .choose("Connection", "generic_rest test (generic_rest)")
        .await;
    browser.fill("Path", "/orders/{{job.id}}/paid").await;
    browser
        .fill(
            "Body template",
            r#"{"order": "{{job.id}}", "amount": "{{transition.data.amount}}"}"#,
        )
        .await;
    // The server's validation error lands next to the field at fault.
    browser.click("Publish").await;
    browser
        .wait_text("#publish-errors", "actions[0].name")
        .await;
    let error = browser
        .find(".field-error[data-for=a0-name]")
        .await
        .text()
        .await
        .unwrap();
    assert!(!error.is_empty(), "the empty name is named");
    browser.fill("Action name", "notify_billing").await;
    // Preview renders against the sample context without sending anything.
    let sample = browser.labelled("Sample context").await;
    sample.clear().await.unwrap();
    sample
        .send_keys(r#"{"job": {"id": "job-1"}, "transition": {"data": {"amount": 42}}}"#)
        .await
        .unwrap();
    browser.click("Preview payload").await;
    let preview = browser.wait_text("#panel .preview", "job-1").await;
    assert!(
        preview.contains("/orders/job-1/paid") && preview.contains("42"),
        "{preview}"
    );
    browser.screenshot("workflow").await;
    // Published, with a warning next to the body: nothing asks callers for the amount.
    browser.click("Publish").await;
    browser
        .wait_text(
            "#publish-errors",
            "Published as version 2, with 1 warning(s)",
        )
        .await;
    let warning = browser
        .find(".field-error[data-for=a0-body]")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        warning.starts_with("Warning: {{transition.data.amount}}"),
        "{warning}"
    );
    browser.click("Open version 2").await;
    browser.wait_text(".notice", "Published version 2").await;
    let (_, latest) = app.get("/api/v1/workflows/orders", &app.key).await;
    assert_eq!(latest["version"], 2);
    let actions = &latest["definition"]["transitions"][0]["actions"];
    assert_eq!(actions[0]["name"], "notify_billing", "{latest}");
    assert_eq!(actions[0]["payload_template"]["connection_id"], connection);
    assert_eq!(
        actions[0]["payload_template"]["path"],
        "/orders/{{job.id}}/paid"
    );
    assert_console_errors_only(&browser, "the designer", &["status of 422"]).await;
}

#[tokio::test]
async fn actions_are_reordered_and_removed_before_publishing() {
    let (app, browser) = signed_in(Role::Admin).await;
    let connection = app.rest_connection("https://api.example.com").await;
    let action = |name: &str| {
        json!({"name": name, "action_type": "WEBHOOK",
               "payload_template": {"connection_id": connection, "path": format!("/{name}")}})
    };
    app.publish(json!({
        "name": "flow", "initial": "a",
        "states": [{"name": "a"}, {"name": "b", "terminal": true}],
        "transitions": [{"name": "go", "from": ["a"], "to": "b",
                         "actions": [action("first"), action("second"), action("third")]}]
    }))
    .await;
    browser.goto("/admin/workflows/flow#transition-go").await;
    browser.wait_text("#panel", "Transition go").await;
    // Move "third" up once, then remove "first".
    let downs = browser.all("#panel fieldset.action").await;
    assert_eq!(downs.len(), 3);
    browser
        .find("#panel fieldset.action:nth-of-type(3) button:nth-child(1)")
        .await
        .click()
        .await
        .unwrap();
    browser
        .find("#panel fieldset.action:nth-of-type(1) .danger")
        .await
        .click()
        .await
        .unwrap();
    browser.click("Publish").await;
    browser.wait_text(".notice", "Published version 2").await;
    let (_, latest) = app.get("/api/v1/workflows/flow", &app.key).await;
    let names: Vec<_> = latest["definition"]["transitions"][0]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["third", "second"]);
}

//! The designer-facing forms: retrying a failed action, a new job and transitions given
//! by fields rather than JSON, and managing connections from their rows.

use serde_json::json;
use switchyard_engine::user::Role;

use super::{assert_console_errors_only, assert_no_console_errors, signed_in};
use crate::support::eventually;
use crate::support::receiver::{Receiver, Reply};

#[tokio::test]
async fn a_failed_action_is_retried_from_its_jobs_page() {
    let (app, browser) = signed_in(Role::Admin).await;
    let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = up.clone();
    let receiver = Receiver::start(move |_, _| {
        Reply::status(if flag.load(std::sync::atomic::Ordering::SeqCst) {
            200
        } else {
            500
        })
    })
    .await;
    let conn = app.rest_connection(&receiver.url("")).await;
    app.publish_actions(
        "billing",
        json!([{"name": "invoice", "action_type": "WEBHOOK", "retry": {"max_attempts": 1},
                "payload_template": {"connection_id": conn, "path": "/invoice", "body": {}}}]),
    )
    .await;
    let job = app.run("billing", "go", json!({})).await;
    app.settled_actions(&job).await;
    browser.goto(&format!("/admin/jobs/{job}")).await;
    let row = browser.wait_text("tr.run", "failed").await;
    assert!(row.contains("invoice"), "{row}");
    up.store(true, std::sync::atomic::Ordering::SeqCst);
    browser.click("Retry").await;
    // The page reloads itself after the retry is accepted; reloading it here first could
    // cancel the click's request, so wait for the action through the API.
    eventually(
        "the retried action to succeed",
        std::time::Duration::from_secs(15),
        || async {
            let (_, runs) = app
                .get(&format!("/api/v1/jobs/{job}/actions"), &app.key)
                .await;
            (runs["items"][0]["status"] == "succeeded").then_some(())
        },
    )
    .await;
    browser.client.refresh().await.unwrap();
    browser.wait_text("tr.run", "succeeded").await;
    let timeline = browser.wait_text("main", "invoice retried").await;
    assert!(timeline.contains("one more attempt"), "{timeline}");
    assert_no_console_errors(&browser, "retry").await;
}

#[tokio::test]
async fn a_job_is_created_and_moved_with_fields_not_json_and_a_refusal_is_worded_for_people() {
    let (app, browser) = signed_in(Role::Admin).await;
    app.publish_fixture("field_service_job").await;
    app.publish_fixture("purchase_approval").await;
    browser.goto("/admin/jobs").await;
    browser.click("New job").await;
    // The purchase workflow reads the context's amount, a number.
    // (The filter above has a Workflow field too: the form's is found by its id.)
    let workflow = browser.find("#new-workflow").await;
    workflow.select_by_label("purchase_approval").await.unwrap();
    browser.fill("amount", "250").await;
    let workflow = browser.find("#new-workflow").await;
    workflow.select_by_label("field_service_job").await.unwrap();
    let fields = browser.find("#new-context").await.text().await.unwrap();
    assert!(
        !fields.contains("amount"),
        "the fields follow the workflow: {fields}"
    );
    browser.fill("External id", "visit-17").await;
    browser.click("Create").await;
    browser.wait_path_prefix("/admin/jobs/").await;
    let header = browser.main_text().await;
    assert!(header.contains("visit-17"), "{header}");

    // Schedule without a technician: refused, in words.
    browser.click("schedule → scheduled").await;
    let refusal = browser.wait_text(".transition .form-error", "needs").await;
    assert!(refusal.contains("schedule needs a technician"), "{refusal}");
    browser.fill("technician", "Ana").await;
    browser.click("schedule → scheduled").await;
    browser.wait_text("main", "start → in_progress").await;
    let (_, jobs) = app
        .get("/api/v1/jobs?workflow=field_service_job", &app.key)
        .await;
    let job = &jobs["items"][0];
    assert_eq!(job["state"], "scheduled");
    assert_eq!(job["external_id"], "visit-17");
    assert_eq!(
        job["context"]["technician"], "Ana",
        "the field went in as data"
    );
    assert_console_errors_only(
        &browser,
        "new job",
        &["transitions - Failed to load resource: the server responded with a status of 409"],
    )
    .await;
}

#[tokio::test]
async fn a_connection_is_tested_edited_and_deleted_from_its_row() {
    let (app, browser) = signed_in(Role::Admin).await;
    let receiver = Receiver::ok().await;
    let rest = app.rest_connection(&receiver.url("/v1")).await;
    let hook = app
        .create_connection(
            "webhook",
            json!({"webhook_url": receiver.url("/hooks/catch/1"), "signing_secret": "s3cret"}),
        )
        .await;
    // A second webhook connection: the card shows the newest, and lists the other.
    app.create_connection(
        "webhook",
        json!({"webhook_url": receiver.url("/hooks/catch/0")}),
    )
    .await;
    browser.goto("/admin/integrations").await;
    // The card lists every webhook connection beside the newest.
    let card = browser.wait_text("#card-webhook", "Also connected").await;
    assert!(card.contains("webhook test"), "{card}");
    let row = |id: &str| format!("tr[data-connection=\"{id}\"]");

    // Test: the webhook connection's row sends the test event.
    let test = browser
        .find(&format!("{} button[aria-label^=\"Test\"]", row(&hook)))
        .await;
    test.click().await.unwrap();
    browser
        .wait_text(&format!("{} .result", row(&hook)), "status 200")
        .await;
    assert!(
        browser
            .all(&format!("{} button[aria-label^=\"Test\"]", row(&rest)))
            .await
            .is_empty(),
        "test events go to webhook connections"
    );

    // Edit: a new name and new credentials, typed.
    browser
        .find(&format!("{} summary", row(&rest)))
        .await
        .click()
        .await
        .unwrap();
    let name = browser.find(&format!("#edit-{rest}-name")).await;
    name.clear().await.unwrap();
    name.send_keys("CRM v2").await.unwrap();
    let base = browser.find(&format!("#edit-{rest}-base_url")).await;
    base.send_keys(&receiver.url("/v2")).await.unwrap();
    browser
        .find(&format!("{} details button[type=submit]", row(&rest)))
        .await
        .click()
        .await
        .unwrap();
    browser.wait_text(&row(&rest), "CRM v2").await;
    let (_, shown) = app
        .get(&format!("/api/v1/tenant/connections/{rest}"), &app.key)
        .await;
    assert!(
        shown["endpoint_preview"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1"),
        "{shown}"
    );
    assert_eq!(shown["connection_name"], "CRM v2");

    // Delete, after confirming.
    browser
        .find(&format!("{} button.danger", row(&rest)))
        .await
        .click()
        .await
        .unwrap();
    browser.accept_dialog().await;
    eventually(
        "the row gone",
        std::time::Duration::from_secs(10),
        || async { browser.all(&row(&rest)).await.is_empty().then_some(()) },
    )
    .await;
    let (status, _) = app
        .get(&format!("/api/v1/tenant/connections/{rest}"), &app.key)
        .await;
    assert_eq!(status, 404);
    assert_no_console_errors(&browser, "connection rows").await;
}

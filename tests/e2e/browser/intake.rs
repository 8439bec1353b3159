//! The Intake page: an endpoint created with the scheme picker, its made secret and
//! address shown once, routes previewed against a pasted sample, a signed request that no
//! route matched, the routes fixed, and the receipt replayed into a job.

use serde_json::json;
use switchyard_engine::user::Role;

use super::{assert_console_errors_only, signed_in};
use crate::intake::post_github;
use crate::support::eventually;

#[tokio::test]
async fn an_endpoint_is_made_previewed_fixed_and_its_receipt_replayed() {
    let (app, browser) = signed_in(Role::Admin).await;
    app.publish_fixture("purchase_approval").await;
    browser.goto("/admin/intake").await;
    browser.click("New endpoint").await;
    browser.fill("Name", "Purchase desk").await;
    browser.choose("Scheme", "github").await;
    // Routes that name no transition of the workflow: refused, naming the field.
    browser
        .fill(
            "Routes",
            r#"[{"job": {"external_id": "req-{{body.number}}", "workflow": "purchase_approval"}, "transition": "teleport"}]"#,
        )
        .await;
    browser.click("Create endpoint").await;
    let error = browser
        .wait_text(".field-error[data-for=\"routes\"]", "teleport")
        .await;
    assert!(error.contains("no transition named 'teleport'"), "{error}");
    browser.fill("Routes", "[]").await;
    browser.click("Create endpoint").await;
    let shown = browser.wait_text("#new-intake", "/in/").await;
    let secret = browser
        .find("#new-intake [data-field=secret]")
        .await
        .text()
        .await
        .unwrap();
    let url = browser
        .find("#new-intake [data-field=url]")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(secret.len(), 64, "a made secret is shown once: {shown}");
    assert!(url.starts_with(&app.url("/in/")), "{url}");

    // A request arrives before any route fits it.
    let opened = json!({"action": "opened", "number": 5, "amount": 90});
    let (_, first) = post_github(&app, &url, &secret, "gh-1", &opened).await;
    assert_eq!(first["outcome"], "unmatched");

    browser.click("Done").await;
    browser.wait_path("/admin/intake").await;
    assert!(
        !browser.main_text().await.contains(&secret),
        "the secret is not shown again"
    );
    browser.click("Purchase desk").await;
    browser.wait_path_prefix("/admin/intake/").await;
    let routes = json!([{"when": {"==": [{"var": "body.action"}, "opened"]},
        "job": {"external_id": "req-{{body.number}}", "workflow": "purchase_approval"},
        "create": {"workflow": "purchase_approval", "context": {"amount": "{{body.amount}}"}},
        "transition": "submit"}]);
    browser.fill("Routes", &routes.to_string()).await;
    browser.fill("Sample body", &opened.to_string()).await;
    browser.click("Preview").await;
    let preview = browser.wait_text("#preview", "matched").await;
    assert!(
        preview.contains("route 0: apply 'submit' to the job with external id 'req-5'"),
        "{preview}"
    );
    // Saving reloads the page: wait for the new one before using its buttons, so a
    // click cannot land on the page being replaced.
    browser.js("window.__before_save = 1; return 1;").await;
    browser.click("Save routes").await;
    eventually(
        "the page reloaded after saving",
        std::time::Duration::from_secs(15),
        || async {
            let old = browser.js("return window.__before_save === 1;").await;
            (old == serde_json::json!(false)).then_some(())
        },
    )
    .await;
    let receipt = browser.wait_text(".receipt", "unmatched").await;
    assert!(receipt.contains("gh-1"), "{receipt}");
    browser.click("Replay").await;
    let replayed = eventually(
        "the receipt replayed",
        std::time::Duration::from_secs(15),
        || async {
            let text = browser.find(".receipt").await.text().await.ok()?;
            text.contains("created").then_some(text)
        },
    )
    .await;
    assert!(replayed.contains("replayed 1"), "{replayed}");
    browser.screenshot("intake-endpoint").await;

    // The job's page leads back to the receipt.
    let job = browser.find(".receipt a").await;
    job.click().await.unwrap();
    browser.wait_path_prefix("/admin/jobs/").await;
    let section = browser.wait_text("main", "Intake receipts").await;
    assert!(section.contains("Purchase desk"), "{section}");
    // The refused first attempt is logged by the browser, as every 4xx is.
    assert_console_errors_only(
        &browser,
        "intake",
        &["/api/v1/intake - Failed to load resource: the server responded with a status of 422"],
    )
    .await;
}

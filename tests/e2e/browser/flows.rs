//! The console's flows end to end, each as a person would click through it.

use serde_json::json;
use switchyard_engine::user::Role;

use super::driver::Browser;
use super::{add_user, assert_console_errors_only, assert_no_console_errors, signed_in, PASSWORD};
use crate::support::receiver::{Receiver, Reply};
use crate::support::verify::opensend_ok;
use crate::support::{eventually, TestApp};

#[tokio::test]
async fn signing_in_leads_back_and_signing_out_ends_the_session() {
    let app = TestApp::spawn().await;
    add_user(&app, "ana@example.com", Role::Admin).await;
    let browser = Browser::open(&app.base).await;
    browser.goto("/admin/jobs?state=open").await;
    browser.wait_path("/admin/sign-in").await;
    browser.screenshot("sign-in").await;
    // A wrong password is refused on the page.
    browser.fill("Email", "ana@example.com").await;
    browser.fill("Password", "not the password").await;
    browser.click("Sign in").await;
    browser
        .wait_text("main", "The email or password is wrong")
        .await;
    // That page answers 401, which the browser logs as a failed load: expected here.
    let refused = browser.console_errors().await;
    assert!(refused.iter().all(|e| e.contains("401")), "{refused:?}");
    // Keyboard only: type, Tab, type, Enter; back where the visit started.
    let email = browser.labelled("Email").await;
    email.clear().await.unwrap();
    email
        .send_keys(&format!("ana@example.com\u{E004}{PASSWORD}\u{E007}"))
        .await
        .unwrap();
    browser.wait_path("/admin/jobs").await;
    assert_eq!(browser.path().await, "/admin/jobs?state=open");
    for link in [
        "Integrations",
        "Workflows",
        "Jobs",
        "Subscriptions",
        "Audit",
        "Users",
    ] {
        browser.control(link).await;
    }
    browser.click("Sign out").await;
    browser.wait_path("/admin/sign-in").await;
    browser.goto("/admin/audit").await;
    browser.wait_path("/admin/sign-in").await;
    assert_no_console_errors(&browser, "sign-in and sign-out").await;
}

#[tokio::test]
async fn seed_000_connect_a_webhook_and_send_a_test_event() {
    let (app, browser) = signed_in(Role::Admin).await;
    let receiver = Receiver::ok().await;
    browser.goto("/admin/integrations").await;
    browser.find("#card-webhook").await;
    browser.fill("Name", "Zapier: new orders").await;
    browser
        .fill("Webhook URL", &receiver.url("/hooks/catch/1/abc"))
        .await;
    browser.fill("Signing secret", "whsec_console_test").await;
    browser.click("Save").await;
    let card = browser
        .wait_text("#webhook-card", "Zapier: new orders")
        .await;
    assert!(card.contains("none yet"), "{card}");
    assert!(
        card.contains("http://127.0.0.1"),
        "the preview keeps the host: {card}"
    );
    assert!(
        !card.contains("/hooks/catch"),
        "never the URL's path: {card}"
    );
    assert!(!browser.main_text().await.contains("whsec_console_test"));

    browser.click("Send test event").await;
    let status = browser
        .wait_text("[role=status].result", "status 200")
        .await;
    assert!(status.contains(" ms"), "{status}");
    let requests = receiver.wait_for(1).await;
    assert_eq!(requests[0].path, "/hooks/catch/1/abc");
    assert!(
        opensend_ok(&requests[0], "whsec_console_test"),
        "the body is signed"
    );
    // The card shows the test's outcome without a reload.
    let card = browser.wait_text("#webhook-card", "healthy").await;
    assert!(
        !card.contains("none yet"),
        "the last event time is shown: {card}"
    );
    browser.screenshot("integrations").await;

    browser.click("Disconnect").await;
    browser.accept_dialog().await;
    // The webhook card itself: the other cards say "Not installed" all along.
    browser.wait_text("#card-webhook", "Not installed").await;
    let (_, list) = app.get("/api/v1/tenant/connections", &app.key).await;
    assert_eq!(list["items"], json!([]));
    assert_no_console_errors(&browser, "the seed 000 flow").await;
}

#[tokio::test]
async fn new_connection_with_a_wrong_shape_shows_the_error_and_creates_nothing() {
    let (app, browser) = signed_in(Role::Designer).await;
    browser.goto("/admin/integrations").await;
    browser.click("New connection").await;
    browser.choose("Provider", "SendGrid").await;
    browser.fill("Connection name", "mail").await;
    // Typed fields follow the provider, with its own help.
    let fields = browser.find("#new-credentials").await.text().await.unwrap();
    assert!(fields.contains("Mail Send permission"), "{fields}");
    // The JSON box is checked in the page before anything is sent.
    browser.click("Credentials as JSON").await;
    browser
        .fill("Credentials as JSON", r#"{"api_token": "SG.x"}"#)
        .await;
    browser.click("Save").await;
    let error = browser
        .wait_text(".field-error[data-for=credentials]", "api_token")
        .await;
    assert!(error.contains("unknown field"), "{error}");
    // Well-formed, so it is sent; the server refuses it, and says why next to the field.
    browser.fill("Credentials as JSON", "").await;
    browser.choose("Provider", "REST API").await;
    browser.fill("base url", "ftp://files.example.com").await;
    browser.click("Save").await;
    browser.wait_text("#new-connection", "http or https").await;
    let (_, list) = app.get("/api/v1/tenant/connections", &app.key).await;
    assert_eq!(list["items"], json!([]), "nothing was created");
    // A right one is saved and listed.
    browser.fill("base url", "https://api.example.com").await;
    browser.click("Save").await;
    browser.wait_text("table", "mail").await;
    assert_console_errors_only(&browser, "new connection", &["status of 422"]).await;
}

#[tokio::test]
async fn a_job_page_shows_an_action_attempt_arriving_live() {
    let (app, browser) = signed_in(Role::Admin).await;
    // The receiver takes a moment, so the page is open before the attempt is recorded.
    let receiver = Receiver::start(|_, _| {
        Reply::status(200)
            .body("{\"received\": true}")
            .after(std::time::Duration::from_secs(3))
    })
    .await;
    let connection = app.rest_connection(&receiver.url("")).await;
    app.publish_actions(
        "orders",
        json!([{"name": "notify", "action_type": "WEBHOOK",
                "payload_template": {"connection_id": connection, "path": "/notify", "body": {"job": "{{job.id}}"}}}]),
    )
    .await;
    let job = app.create_job("orders").await;
    let id = job["id"].as_str().unwrap();
    browser.goto(&format!("/admin/jobs/{id}")).await;
    browser.wait_text("#timeline", "Created in open").await;
    assert!(!browser.main_text().await.contains("notify succeeded"));
    browser.click("More data for go (JSON)").await;
    browser
        .fill("Data for go (JSON)", r#"{"note": "from the console"}"#)
        .await;
    browser.click("go → done").await;
    browser.wait_text(".job-state", "done").await;
    // Arrives without a reload: the page's own timeline refreshes.
    let marker = browser.js("window.__stay = 1; return 1;").await;
    assert_eq!(marker, json!(1));
    let before = browser.find("#timeline").await.text().await.unwrap();
    assert!(
        !before.contains("notify succeeded"),
        "still waiting: {before}"
    );
    browser
        .wait_text("#timeline", "notify succeeded, attempt 1: status 200")
        .await;
    assert_eq!(
        browser.js("return window.__stay;").await,
        json!(1),
        "no reload"
    );
    let timeline = browser.find("#timeline").await.text().await.unwrap();
    assert!(timeline.contains("go: open → done"), "{timeline}");
    receiver.wait_for(1).await;
    browser.screenshot("job").await;
    assert_no_console_errors(&browser, "the job page").await;
}

#[tokio::test]
async fn a_subscription_shows_its_delivery_log_and_redelivers() {
    let (app, browser) = signed_in(Role::Admin).await;
    let receiver = Receiver::ok().await;
    app.publish_fixture("purchase_approval").await;
    browser.goto("/admin/subscriptions").await;
    browser.click("New subscription").await;
    browser.fill("Name", "crm").await;
    browser.fill("URL", &receiver.url("/events")).await;
    let secret = browser
        .labelled("Signing secret")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    assert!(
        secret.starts_with("whsec_"),
        "a secret is offered: {secret}"
    );
    browser
        .labelled("job.created A job was created.")
        .await
        .click()
        .await
        .unwrap();
    browser.click("Save").await;
    browser.wait_path_prefix("/admin/subscriptions/").await;
    assert!(
        !browser.main_text().await.contains(&secret),
        "the secret is not shown again"
    );

    app.create_job("purchase_approval").await;
    receiver.wait_for(1).await;
    let delivered = eventually(
        "the delivery in the log",
        std::time::Duration::from_secs(15),
        || async {
            browser.client.refresh().await.ok()?;
            let text = browser.find(".deliveries").await.text().await.ok()?;
            text.contains("succeeded").then_some(text)
        },
    )
    .await;
    assert!(delivered.contains("job.created"), "{delivered}");
    browser.screenshot("subscription").await;
    browser.click("Redeliver").await;
    let again = receiver.wait_for(2).await;
    assert_eq!(
        again[0].body, again[1].body,
        "the same event, delivered again"
    );
    eventually(
        "the second attempt in the log",
        std::time::Duration::from_secs(15),
        || async {
            browser.client.refresh().await.ok()?;
            let text = browser.find(".deliveries").await.text().await.ok()?;
            text.contains("2 attempt(s)").then_some(())
        },
    )
    .await;
    assert_no_console_errors(&browser, "subscriptions").await;
}

#[tokio::test]
async fn a_jobs_timers_are_shown_and_one_is_cancelled_from_its_page() {
    let (app, browser) = signed_in(Role::Admin).await;
    app.publish(json!({
        "name": "ticket", "initial": "waiting",
        "states": [
            {"name": "waiting", "timeout": {"after": "1h", "transition": "escalate"}},
            {"name": "escalated", "terminal": true}
        ],
        "transitions": [{"name": "escalate", "from": ["waiting"], "to": "escalated"}]
    }))
    .await;
    let id = app.create_job("ticket").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    browser.goto(&format!("/admin/jobs/{id}")).await;
    browser.wait_text("#timeline", "Timer set: escalate").await;
    let timers = browser.wait_text("main", "Cancel timer").await;
    assert!(timers.contains("state_timeout"), "{timers}");
    browser.resize((390, 844)).await;
    browser.assert_fits("the job page with a timer").await;
    browser.resize((1280, 900)).await;
    browser.click("Cancel timer").await;
    browser.accept_dialog().await;
    browser.wait_text("main", "No timer is set.").await;
    browser
        .wait_text(
            "#timeline",
            "Timer cancelled: escalate (cancelled over the API)",
        )
        .await;
    assert_no_console_errors(&browser, "the job page with timers").await;
}

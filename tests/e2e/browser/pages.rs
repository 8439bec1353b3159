//! Every console page at desktop and phone widths: it renders, fits the window, raises no
//! browser-console error (CSP violations included), and can be used from the keyboard.
//! With `SWITCHYARD_SCREENSHOTS` set, this saves the README's screenshots.

use serde_json::{json, Value};
use switchyard_engine::user::Role;

use super::driver::{DESKTOP, PHONE};
use super::{assert_no_console_errors, signed_in};
use crate::support::receiver::Receiver;
use crate::support::TestApp;

/// A workflow of `n` states: a main line, a fan-out from the start, and ways back.
fn big_workflow(n: usize) -> Value {
    let states: Vec<_> = (0..n)
        .map(|i| json!({"name": format!("step_{i:02}"), "terminal": i == n - 1}))
        .collect();
    let mut transitions: Vec<_> = (0..n - 1)
        .map(|i| json!({"name": format!("next_{i:02}"), "from": [format!("step_{i:02}")], "to": format!("step_{:02}", i + 1)}))
        .collect();
    for i in (3..n - 1).step_by(4) {
        transitions.push(json!({"name": format!("back_{i:02}"), "from": [format!("step_{i:02}")], "to": "step_00"}));
        transitions.push(json!({"name": format!("skip_{i:02}"), "from": ["step_00"], "to": format!("step_{i:02}")}));
    }
    json!({"name": "big", "description": "Thirty states, to show the layout holds.", "initial": "step_00",
           "states": states, "transitions": transitions})
}

/// Gives the tenant something on every page; returns a job, a subscription and an intake
/// endpoint.
async fn populate(app: &TestApp, receiver: &Receiver) -> (String, String, String) {
    let (status, connector) = app
        .post(
            "/api/integrations/webhook",
            &app.key,
            json!({"name": "Zapier: orders", "webhook_url": receiver.url("/hooks/catch/1/x"), "signing_secret": "s3cret-value"}),
        )
        .await;
    assert_eq!(status, 201, "{connector}");
    let crm = app.rest_connection(&receiver.url("")).await;
    app.publish(json!({
        "name": "orders", "description": "An order from payment to delivery.", "initial": "new",
        "states": [{"name": "new"}, {"name": "paid"}, {"name": "shipped"}, {"name": "delivered", "terminal": true}, {"name": "cancelled", "terminal": true}],
        "transitions": [
            {"name": "pay", "from": ["new"], "to": "paid", "guard": {">": [{"var": "transition.data.amount"}, 0]},
             "actions": [
                {"name": "update_crm", "action_type": "WEBHOOK", "payload_template": {"connection_id": crm, "path": "/orders/{{job.id}}", "body": {"state": "{{job.current_state}}"}}},
                {"name": "notify_zapier", "action_type": "WEBHOOK", "payload_template": {"connection_id": connector["id"], "body": {"order": "{{job.id}}"}}}
             ]},
            {"name": "ship", "from": ["paid"], "to": "shipped"},
            {"name": "deliver", "from": ["shipped"], "to": "delivered"},
            {"name": "cancel", "from": ["new", "paid"], "to": "cancelled"}
        ]
    }))
    .await;
    app.publish(big_workflow(30)).await;
    let (status, sub) = app
        .post("/api/hooks/webhooks", &app.key, json!({"name": "warehouse", "url": receiver.url("/events"), "eventTypes": ["job.transitioned"], "secret": "whsec_x"}))
        .await;
    assert_eq!(status, 201, "{sub}");
    let job = app.run("orders", "pay", json!({"amount": 120})).await;
    app.settled_actions(&job).await;
    app.create_job("orders").await;
    let routes = json!([{"when": {"==": [{"var": "body.action"}, "shipped"]},
        "job": {"id": "{{body.job}}", "workflow": "orders"}, "transition": "ship",
        "data": {"carrier": "{{body.carrier}}"}}]);
    let (intake, url, secret) = crate::intake::github_endpoint(app, routes).await;
    let shipped = json!({"action": "shipped", "job": job, "carrier": "DHL"});
    crate::intake::post_github(app, &url, &secret, "ship-1", &shipped).await;
    crate::intake::post_github(app, &url, &secret, "other-1", &json!({"action": "noted"})).await;
    (job, sub["id"].as_str().unwrap().to_string(), intake)
}

#[tokio::test]
async fn every_page_works_at_desktop_and_phone_widths() {
    let (app, browser) = signed_in(Role::Admin).await;
    let receiver = Receiver::ok().await;
    let (job, subscription, intake) = populate(&app, &receiver).await;
    let pages = [
        (
            "integrations",
            "/admin/integrations".to_string(),
            "Integrations",
        ),
        ("workflows", "/admin/workflows".into(), "Workflows"),
        (
            "workflow-big",
            "/admin/workflows/big".into(),
            "Workflow big",
        ),
        (
            "workflow-orders",
            "/admin/workflows/orders".into(),
            "Workflow orders",
        ),
        ("jobs", "/admin/jobs".into(), "Jobs"),
        ("job-orders", format!("/admin/jobs/{job}"), "Job"),
        (
            "subscriptions",
            "/admin/subscriptions".into(),
            "Subscriptions",
        ),
        (
            "subscription-warehouse",
            format!("/admin/subscriptions/{subscription}"),
            "Subscription warehouse",
        ),
        ("intake", "/admin/intake".into(), "Intake"),
        (
            "intake-endpoint",
            format!("/admin/intake/{intake}"),
            "Intake endpoint",
        ),
        ("audit", "/admin/audit".into(), "Audit"),
        ("users", "/admin/users".into(), "Users"),
        ("account", "/admin".into(), "Your account"),
    ];
    for (width, suffix) in [(DESKTOP, ""), (PHONE, "-phone")] {
        browser.resize(width).await;
        for (name, path, heading) in &pages {
            browser.goto(path).await;
            let h1 = browser.find("main h1").await.text().await.unwrap();
            assert!(h1.starts_with(heading), "{path}: heading {h1}");
            browser.assert_fits(path).await;
            assert_no_console_errors(&browser, path).await;
            browser.screenshot(&format!("{name}{suffix}")).await;
        }
    }
    // Every state of the 30-state workflow is drawn, as text, inside the page's SVG.
    browser.resize(DESKTOP).await;
    browser.goto("/admin/workflows/big").await;
    let states = browser
        .js("return [...document.querySelectorAll('svg.diagram g.state text')].map(t => t.textContent);")
        .await;
    assert_eq!(states.as_array().unwrap().len(), 30);
    assert!(states.as_array().unwrap().contains(&json!("step_29")));
}

#[tokio::test]
async fn the_designer_and_forms_work_from_the_keyboard() {
    let (app, browser) = signed_in(Role::Admin).await;
    let receiver = Receiver::ok().await;
    populate(&app, &receiver).await;
    browser.goto("/admin/workflows/orders").await;
    // Tab from the top of the page reaches the navigation first.
    let first = browser
        .js("document.activeElement.blur(); return document.querySelector('.skip').textContent;")
        .await;
    assert_eq!(first, json!("Skip to content"));
    // A transition's label is a link: focus it and press Enter.
    let link = browser.find("svg.diagram a[data-transition=pay]").await;
    browser
        .js("document.querySelector('svg.diagram a[data-transition=pay]').focus(); return 1;")
        .await;
    link.send_keys("\u{E007}").await.unwrap();
    browser.wait_text("#panel", "Transition pay").await;
    let focused = browser
        .js("return document.activeElement.textContent;")
        .await;
    assert_eq!(
        focused,
        json!("Transition pay"),
        "focus moves into the panel"
    );
    // A summary opens with Enter, and its form submits with Enter.
    browser.goto("/admin/integrations").await;
    let summary = browser.control("New connection").await;
    browser
        .js("document.querySelector('#new-connection summary').focus(); return 1;")
        .await;
    summary.send_keys("\u{E007}").await.unwrap();
    browser.choose("Provider", "SendGrid").await;
    browser
        .labelled("Connection name")
        .await
        .send_keys("via keyboard")
        .await
        .unwrap();
    browser
        .labelled("api key")
        .await
        .send_keys("SG.key")
        .await
        .unwrap();
    browser
        .labelled("Connection name")
        .await
        .send_keys("\u{E007}")
        .await
        .unwrap();
    browser.wait_text("table", "via keyboard").await;
    assert_no_console_errors(&browser, "keyboard use").await;
}

//! What a session must not do or see: an auditor changes nothing, names never become
//! markup, and another tenant's addresses do not exist.

use serde_json::json;
use switchyard_engine::user::Role;

use super::driver::Browser;
use super::{assert_no_console_errors, signed_in};
use crate::support::receiver::Receiver;

#[tokio::test]
async fn an_auditor_sees_no_mutating_control_and_is_refused_if_it_posts_anyway() {
    let (app, browser) = signed_in(Role::Auditor).await;
    app.publish_fixture("purchase_approval").await;
    let job = app.create_job("purchase_approval").await;
    let id = job["id"].as_str().unwrap();
    for page in [
        "/admin/jobs".to_string(),
        format!("/admin/jobs/{id}"),
        "/admin/audit".into(),
    ] {
        browser.goto(&page).await;
        browser.find("main h1").await;
        // The only API form an auditor meets is Verify, a read.
        let writes = browser
            .js("return [...document.querySelectorAll('form[data-api]')].filter(f => f.dataset.method !== 'GET').length;")
            .await;
        assert_eq!(writes, json!(0), "{page} offers a change");
        assert!(!browser.main_text().await.contains("Data for"), "{page}");
    }
    for page in [
        "/admin/integrations",
        "/admin/workflows",
        "/admin/subscriptions",
        "/admin/users",
    ] {
        browser.goto(page).await;
        browser.wait_text("main", "cannot open this page").await;
    }
    // Posting anyway, from the console's own origin, is refused by the API.
    browser.goto(&format!("/admin/jobs/{id}")).await;
    let status = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0], {method: 'POST', credentials: 'same-origin',
                   headers: {'Content-Type': 'application/json'},
                   body: JSON.stringify({transition: 'submit', data: {amount: 5}})})
               .then(r => done(r.status));",
            vec![json!(format!("/api/v1/jobs/{id}/transitions"))],
        )
        .await
        .unwrap();
    assert_eq!(status, json!(403));
    let (_, job) = app.get(&format!("/api/v1/jobs/{id}"), &app.key).await;
    assert_eq!(job["version"], 0, "nothing moved");
}

#[tokio::test]
async fn names_render_as_text() {
    let (app, browser) = signed_in(Role::Admin).await;
    const HOSTILE: &str = "<img src=x onerror=alert(1)>";
    let (status, body) = app
        .post(
            "/api/v1/tenant/connections",
            &app.key,
            json!({"provider": "generic_rest", "connection_name": HOSTILE,
                   "credentials": {"base_url": "https://api.example.com"}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    app.publish(json!({
        "name": "hostile", "description": HOSTILE, "initial": "open",
        "states": [{"name": "open"}, {"name": "done", "terminal": true}],
        "transitions": [{"name": "go", "from": ["open"], "to": "done"}]
    }))
    .await;
    let job = app
        .post(
            "/api/v1/jobs",
            &app.key,
            json!({"workflow": "hostile", "external_id": HOSTILE}),
        )
        .await
        .1;
    let pages = [
        "/admin/integrations".to_string(),
        "/admin/workflows/hostile".into(),
        format!("/admin/jobs/{}", job["id"].as_str().unwrap()),
        "/admin/jobs".into(),
        "/admin/audit".into(),
    ];
    for page in pages {
        browser.goto(&page).await;
        browser.find("main h1").await;
        // Text, wherever it is on the page (some of it inside closed details).
        let shown = browser
            .client
            .execute(
                "return document.querySelector('main').textContent.includes(arguments[0]);",
                vec![json!(HOSTILE)],
            )
            .await
            .unwrap();
        assert_eq!(shown, json!(true), "{page} shows the name as text");
        let images = browser
            .js("return document.querySelectorAll('main img').length;")
            .await;
        assert_eq!(images, json!(0), "{page} made an element of the name");
        assert_no_console_errors(&browser, &page).await;
    }
}

#[tokio::test]
async fn another_tenants_addresses_answer_404() {
    let (app, browser) = signed_in(Role::Admin).await;
    let (_, other_key) = app.other_tenant("globex").await;
    let (_, wf) = app
        .post(
            "/api/v1/workflows",
            &other_key,
            json!({
                "name": "secret_flow", "initial": "a",
                "states": [{"name": "a"}], "transitions": []
            }),
        )
        .await;
    assert!(wf["version"].is_number(), "{wf}");
    let (_, job) = app
        .post(
            "/api/v1/jobs",
            &other_key,
            json!({"workflow": "secret_flow"}),
        )
        .await;
    let receiver = Receiver::ok().await;
    let (_, sub) = app
        .post(
            "/api/hooks/webhooks",
            &other_key,
            json!({
                "name": "theirs", "url": receiver.url("/x"), "eventTypes": ["job.created"]
            }),
        )
        .await;
    for page in [
        format!("/admin/jobs/{}", job["id"].as_str().unwrap()),
        format!("/admin/jobs/{}/timeline", job["id"].as_str().unwrap()),
        "/admin/workflows/secret_flow".into(),
        format!("/admin/subscriptions/{}", sub["id"].as_str().unwrap()),
    ] {
        let status = app
            .http
            .get(app.url(&page))
            .header("cookie", browser_cookie(&browser).await)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 404, "{page}");
        browser.goto(&page).await;
        assert_eq!(browser.title().await, "Not found · Switchyard", "{page}");
    }
}

/// The browser's session cookie, to make the same request outside it.
async fn browser_cookie(browser: &Browser) -> String {
    let cookie = browser
        .client
        .get_named_cookie("switchyard_session")
        .await
        .expect("the session cookie");
    format!("switchyard_session={}", cookie.value())
}

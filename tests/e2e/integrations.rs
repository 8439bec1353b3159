//! Seed 000: the integration catalog and the Webhook / Zapier connector, driven with the
//! seed's own example bodies.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::receiver::{Receiver, Reply};
use crate::support::verify::{opensend_ok, standard_webhooks_ok};
use crate::support::TestApp;

const SECRET: &str = "optional-shared-secret";

/// Neither the secret-bearing path of the URL nor the secret appears in `body`.
fn assert_redacted(body: &Value) {
    let text = body.to_string();
    assert!(!text.contains("hooks/catch"), "URL path leaked: {text}");
    assert!(!text.contains(SECRET), "secret leaked: {text}");
}

#[tokio::test]
async fn the_webhook_connector_connects_sends_a_signed_test_event_and_tracks_health() {
    let answer = Arc::new(AtomicU16::new(200));
    let scripted = answer.clone();
    let receiver =
        Receiver::start(move |_, _| Reply::status(scripted.load(Ordering::SeqCst))).await;
    let app = TestApp::spawn().await;

    let (status, catalog) = app.get("/api/integrations", &app.key).await;
    assert_eq!(status, StatusCode::OK, "{catalog}");
    let webhook = catalog["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["provider"] == "webhook")
        .unwrap()
        .clone();
    assert_eq!(webhook["installed"], false);
    assert_eq!(
        catalog["items"].as_array().unwrap().len(),
        4,
        "every provider"
    );

    // The seed's create request, pointed at the local receiver.
    let url = receiver.url("/hooks/catch/123/abc");
    let (status, created) = app
        .post(
            "/api/integrations/webhook",
            &app.key,
            json!({"name": "Zapier catch hook", "webhook_url": url, "signing_secret": SECRET}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_redacted(&created);
    assert_eq!(
        created["endpoint_preview"],
        format!("{}/…", receiver.url(""))
    );
    assert_eq!(created["state"], "installed");
    assert_eq!(created["health"], "unknown");
    assert!(created["last_event_at"].is_null());
    assert!(created["scopes"].as_array().is_some_and(|s| !s.is_empty()));
    let id = created["id"].as_str().unwrap().to_string();

    let (_, connector) = app.get("/api/integrations/webhook", &app.key).await;
    assert_redacted(&connector);
    assert_eq!(connector["installed"], true);
    assert_eq!(connector["connection"]["id"], id.as_str());
    let (_, catalog) = app.get("/api/integrations", &app.key).await;
    assert!(catalog["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["provider"] == "webhook" && i["installed"] == true));

    // The test event: the seed's body, signed by the seed's formula and Standard Webhooks.
    let (status, result) = app
        .post(
            &format!("/api/integrations/connections/{id}/test"),
            &app.key,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["delivered"], true);
    assert_eq!(result["status_code"], 200);
    assert_redacted(&result);
    let req = receiver.wait_for(1).await.remove(0);
    assert_eq!(req.path, "/hooks/catch/123/abc");
    let body = req.json();
    assert_eq!(body["type"], "integration.test");
    assert_eq!(body["data"]["provider"], "webhook");
    assert_eq!(body["data"]["connection_id"], id.as_str());
    assert_eq!(body["data"]["connection_name"], "Zapier catch hook");
    let created_at = body["created_at"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(created_at).is_ok() && created_at.ends_with('Z'));
    assert_eq!(
        body.as_object().unwrap().len(),
        3,
        "exactly the seed's fields"
    );
    assert!(req.header("x-opensend-timestamp").parse::<i64>().is_ok());
    assert!(opensend_ok(&req, SECRET), "x-opensend-signature verifies");
    assert!(
        standard_webhooks_ok(&req, SECRET),
        "webhook-signature verifies"
    );

    let (_, connector) = app.get("/api/integrations/webhook", &app.key).await;
    assert_eq!(connector["connection"]["health"], "healthy");
    assert!(connector["connection"]["last_event_at"].is_string());
    let (_, ledger) = app.get("/api/v1/ledger", &app.key).await;
    assert_eq!(
        ledger["items"].as_array().unwrap().len(),
        1,
        "the test event is metered"
    );

    // Update: rename and stop signing; a failing receiver makes the connection failing.
    let (status, updated) = app
        .patch(
            &format!("/api/integrations/connections/{id}"),
            &app.key,
            json!({"name": "Make webhook", "signing_secret": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"], "Make webhook");
    answer.store(500, Ordering::SeqCst);
    let (_, result) = app
        .post(
            &format!("/api/integrations/connections/{id}/test"),
            &app.key,
            json!({}),
        )
        .await;
    assert_eq!(result["delivered"], false);
    assert_eq!(result["status_code"], 500);
    let req = receiver.wait_for(2).await.remove(1);
    assert_eq!(req.path, "/hooks/catch/123/abc", "the URL was kept");
    assert_eq!(req.header("x-opensend-signature"), "", "no longer signed");
    let (_, connector) = app.get("/api/integrations/webhook", &app.key).await;
    assert_eq!(connector["connection"]["health"], "failing");

    // Bad input names the seed's field; other keys than `full` are refused.
    let (status, problem) = app
        .patch(
            &format!("/api/integrations/connections/{id}"),
            &app.key,
            json!({"webhook_url": "ftp://example.com/x"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["field"], "webhook_url");
    let designer = app.key_with(&["designer"]).await;
    let (status, _) = app.get("/api/integrations", &designer).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Disconnect.
    let status = app
        .delete(&format!("/api/integrations/connections/{id}"), &app.key)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, connector) = app.get("/api/integrations/webhook", &app.key).await;
    assert_eq!(connector["installed"], false);
    assert!(connector["connection"].is_null());
}

#[tokio::test]
async fn a_test_event_to_a_blocked_target_leaves_nothing_and_says_why() {
    let app =
        TestApp::spawn_with(crate::support::http::test_worker(Default::default(), false)).await;
    // A literal restricted address is refused when the connector is saved...
    let (status, problem) = app
        .post(
            "/api/integrations/webhook",
            &app.key,
            json!({"name": "metadata", "webhook_url": "http://169.254.169.254/latest"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["field"], "webhook_url");
    // ...and a host name that resolves to one is refused when the test event is sent.
    let (_, created) = app
        .post(
            "/api/integrations/webhook",
            &app.key,
            json!({"name": "local", "webhook_url": "http://localhost:9/latest"}),
        )
        .await;
    let id = created["id"].as_str().unwrap();
    let (status, result) = app
        .post(
            &format!("/api/integrations/connections/{id}/test"),
            &app.key,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["delivered"], false);
    assert!(
        result["error"].as_str().unwrap().contains("not allowed"),
        "{result}"
    );
    let (_, ledger) = app.get("/api/v1/ledger", &app.key).await;
    assert!(
        ledger["items"].as_array().unwrap().is_empty(),
        "nothing metered"
    );
}

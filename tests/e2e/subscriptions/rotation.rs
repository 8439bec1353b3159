//! Rotating a signing secret without downtime: the old secret keeps signing
//! `webhook-signature` beside the new one for the overlap, for subscriptions and for the
//! webhook connector; with no overlap it stops at once.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::json;
use switchyard_actions::providers::ProviderEndpoints;

use super::{subscribe, SECRET};
use crate::support::http::test_worker;
use crate::support::receiver::{Captured, Receiver};
use crate::support::verify::{hook_signature_ok, opensend_ok, standard_webhooks_ok};
use crate::support::{eventually, TestApp};

const NEW_SECRET: &str = "the-rotated-secret";

/// The `n`th request to `path` (1-based), once it arrived.
async fn nth(receiver: &Receiver, path: &str, n: usize) -> Captured {
    eventually("a request", Duration::from_secs(30), || async {
        receiver
            .requests()
            .into_iter()
            .filter(|r| r.path == path)
            .nth(n - 1)
    })
    .await
}

fn expires_in_about_a_day(at: &serde_json::Value) {
    let at: DateTime<Utc> = at.as_str().unwrap().parse().unwrap();
    let left = at - Utc::now();
    assert!(
        left > chrono::Duration::hours(23) && left <= chrono::Duration::hours(24),
        "{at}"
    );
}

#[tokio::test]
async fn a_subscriptions_old_secret_signs_beside_the_new_one_during_the_overlap() {
    let receiver = Receiver::ok().await;
    let app = TestApp::spawn().await;
    app.publish_fixture("field_service_job").await;
    let id = subscribe(&app, &receiver.url("/hook"), json!(["job.created"])).await;

    let (status, changed) = app
        .patch(
            &format!("/api/hooks/webhooks/{id}"),
            &app.key,
            json!({"secret": NEW_SECRET}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    expires_in_about_a_day(&changed["previousSecretExpiresAt"]);
    assert!(!changed.to_string().contains(SECRET));

    app.create_job("field_service_job").await;
    let req = nth(&receiver, "/hook", 1).await;
    let signatures: Vec<&str> = req.header("webhook-signature").split(' ').collect();
    assert_eq!(signatures.len(), 2, "{signatures:?}");
    assert!(
        standard_webhooks_ok(&req, NEW_SECRET),
        "the new secret verifies"
    );
    assert!(
        standard_webhooks_ok(&req, SECRET),
        "the old secret still verifies"
    );
    assert!(
        hook_signature_ok(&req, NEW_SECRET),
        "X-Hook-Signature uses the new one"
    );

    // A change that keeps the secret keeps the overlap; removing the secret ends it.
    let (_, renamed) = app
        .patch(
            &format!("/api/hooks/webhooks/{id}"),
            &app.key,
            json!({"url": receiver.url("/moved")}),
        )
        .await;
    assert_eq!(
        renamed["previousSecretExpiresAt"],
        changed["previousSecretExpiresAt"]
    );
    let (_, unsigned) = app
        .patch(
            &format!("/api/hooks/webhooks/{id}"),
            &app.key,
            json!({"secret": null}),
        )
        .await;
    assert!(unsigned["previousSecretExpiresAt"].is_null(), "{unsigned}");
}

#[tokio::test]
async fn the_connectors_old_secret_signs_beside_the_new_one_and_no_overlap_means_none() {
    for overlap in [Duration::from_secs(24 * 3600), Duration::ZERO] {
        let mut worker = test_worker(ProviderEndpoints::default(), true);
        worker.deliveries.secret_overlap = overlap;
        let app = TestApp::spawn_with(worker).await;
        let hook = Receiver::ok().await;
        let (status, connector) = app
            .post(
                "/api/integrations/webhook",
                &app.key,
                json!({"name": "Zap", "webhook_url": hook.url("/catch"), "signing_secret": SECRET}),
            )
            .await;
        assert!(status.is_success(), "{connector}");
        let id = connector["id"].as_str().unwrap().to_string();
        let (status, changed) = app
            .patch(
                &format!("/api/integrations/connections/{id}"),
                &app.key,
                json!({"signing_secret": NEW_SECRET}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        let (status, _) = app
            .post(
                &format!("/api/integrations/connections/{id}/test"),
                &app.key,
                json!({}),
            )
            .await;
        assert!(status.is_success());
        let req = nth(&hook, "/catch", 1).await;
        assert!(standard_webhooks_ok(&req, NEW_SECRET));
        assert!(
            opensend_ok(&req, NEW_SECRET),
            "x-opensend-signature uses the new one"
        );
        let count = req.header("webhook-signature").split(' ').count();
        if overlap.is_zero() {
            assert_eq!(count, 1, "no overlap: the new secret only");
            assert!(!standard_webhooks_ok(&req, SECRET));
            assert!(changed["previous_secret_expires_at"].is_null(), "{changed}");
        } else {
            assert_eq!(count, 2);
            assert!(standard_webhooks_ok(&req, SECRET));
            expires_in_about_a_day(&changed["previous_secret_expires_at"]);
        }
        assert!(!changed.to_string().contains(SECRET));
    }
}

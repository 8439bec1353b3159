//! Deleting a subscription while one of its deliveries is being recorded. Recording
//! settles the delivery's row, then writes its subscription's health and last delivery
//! time; a delete that took the subscription first and cascaded to its deliveries took
//! the same two locks the other way round, and one of the two died `deadlock detected`
//! (the delete answered 500). The delete now takes the deliveries first: it waits for
//! the recording, and both succeed.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::support::receiver::Receiver;
use crate::support::{eventually, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_subscription_while_a_delivery_is_recorded_does_not_deadlock() {
    let receiver = Receiver::ok().await;
    let app = TestApp::spawn().await;
    app.publish_actions("plain", json!([])).await;
    let (status, hook) = app
        .post(
            "/api/hooks/webhooks",
            &app.key,
            json!({"name": "busy", "url": receiver.url("/hook"), "eventTypes": ["job.*"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let id = uuid::Uuid::parse_str(hook["id"].as_str().unwrap()).unwrap();
    app.create_job("plain").await;
    receiver.wait_for(1).await;
    app.idle().await;

    // A recording in progress, as the worker's transaction takes its locks.
    let mut client = app.pool.get().await.unwrap();
    let recording = client.transaction().await.unwrap();
    recording
        .execute(
            "SELECT 1 FROM deliveries WHERE subscription_id = $1 FOR UPDATE",
            &[&id],
        )
        .await
        .unwrap();
    let delete = {
        let (http, url, key) = (
            app.http.clone(),
            app.url(&format!("/api/hooks/webhooks/{id}")),
            app.key.clone(),
        );
        tokio::spawn(async move {
            http.delete(url)
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    // Give the delete time to take whatever it takes first.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!delete.is_finished(), "the delete waits for the recording");
    recording
        .execute(
            "UPDATE webhook_subscriptions SET last_delivery_at = now() WHERE id = $1",
            &[&id],
        )
        .await
        .expect("the recording is not chosen as a deadlock victim");
    recording.commit().await.unwrap();
    eventually("the delete to finish", Duration::from_secs(10), || async {
        delete.is_finished().then_some(())
    })
    .await;
    assert_eq!(delete.await.unwrap(), StatusCode::NO_CONTENT);
}

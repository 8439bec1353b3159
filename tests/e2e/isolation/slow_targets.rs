//! A tenant whose every action hangs holds at most its share of the worker's slots.

use std::time::Duration;

use serde_json::json;

use crate::support::receiver::{Receiver, Reply};
use crate::support::TestApp;

/// The test worker's slots (`test_worker`).
const SLOTS: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_whose_targets_hang_leaves_slots_for_another_tenants_actions() {
    // Tenant A's target answers only after a minute: each of its actions holds a slot
    // for as long as the test runs.
    let hanging = Receiver::start(|_, _| Reply::status(200).after(Duration::from_secs(60))).await;
    let fast = Receiver::ok().await;
    let a = TestApp::spawn().await;
    let conn = a.rest_connection(&hanging.url("")).await;
    a.publish_actions(
        "noisy",
        json!([{"name": "call", "action_type": "WEBHOOK", "timeout_ms": 120000,
                "payload_template": {"connection_id": conn, "path": "/slow", "body": {}}}]),
    )
    .await;
    // Three times as many jobs as the worker has slots.
    for _ in 0..SLOTS * 3 {
        a.run("noisy", "go", json!({})).await;
    }
    // A alone gets all but an eighth of the slots, and no more.
    let held = hanging.wait_for(SLOTS - SLOTS / 8).await.len();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        hanging.requests().len(),
        held,
        "a tenant alone holds at most {} of {SLOTS} slots",
        SLOTS - SLOTS / 8
    );

    // Tenant B's actions go out while every one of A's requests is still hanging.
    let b = a.neighbour("quiet").await;
    let conn = b.rest_connection(&fast.url("")).await;
    b.publish_actions(
        "quiet",
        json!([{"name": "call", "action_type": "WEBHOOK",
                "payload_template": {"connection_id": conn, "path": "/fast", "body": {"job": "{{job.id}}"}}}]),
    )
    .await;
    let mut jobs = Vec::new();
    for _ in 0..5 {
        jobs.push(b.run("quiet", "go", json!({})).await);
    }
    for job in &jobs {
        let runs = b.settled_actions(job).await;
        assert_eq!(runs[0]["status"], "succeeded", "{runs:?}");
    }
    assert_eq!(fast.requests().len(), 5);
    assert_eq!(
        hanging.requests().len(),
        held,
        "A started nothing more meanwhile: its slots were all still held"
    );
}

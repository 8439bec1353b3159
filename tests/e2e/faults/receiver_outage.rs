//! The receiver is down for a while: actions retry, and the ledger matches what was sent.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{json, Value};

use super::{ledger, patient_action};
use crate::embedded::free_port;
use crate::support::receiver::{Receiver, Reply};
use crate::support::{eventually, TestApp};

#[tokio::test]
async fn a_receiver_outage_is_ridden_out_and_the_ledger_matches_what_was_sent() {
    let port = free_port();
    let app = TestApp::spawn().await;
    let conn = app
        .rest_connection(&format!("http://127.0.0.1:{port}"))
        .await;
    app.publish_actions("outage", patient_action(&conn)).await;
    let mut jobs = Vec::new();
    for _ in 0..10 {
        jobs.push(app.run("outage", "go", json!({})).await);
    }
    // Nothing listens yet: every job's first attempt is refused and a retry scheduled.
    for job in &jobs {
        eventually("a refused attempt", Duration::from_secs(30), || async {
            let retried = app.job_events(job, "action.retry_scheduled").await;
            (!retried.is_empty()).then_some(())
        })
        .await;
    }
    let receiver =
        Receiver::start_at(&format!("127.0.0.1:{port}"), |_, _| Reply::status(200)).await;

    let mut attempts = 0;
    let mut run_ids = HashSet::new();
    for job in &jobs {
        for run in app.settled_actions(job).await {
            assert_eq!(run["status"], "succeeded", "{run}");
            assert!(
                run["attempts"].as_i64().unwrap() > 1,
                "it waited out the outage: {run}"
            );
            attempts += run["attempts"].as_i64().unwrap();
            run_ids.insert(run["id"].as_str().unwrap().to_string());
        }
    }
    let rows = ledger(&app).await;
    assert_eq!(rows.len() as i64, attempts, "one ledger row per attempt");
    let delivered: Vec<&Value> = rows.iter().filter(|r| r["status_code"] == 200).collect();
    let received = receiver.requests();
    assert_eq!(
        delivered.len(),
        received.len(),
        "200 rows match what arrived"
    );
    assert!(rows
        .iter()
        .filter(|r| r["status_code"].is_null())
        .all(|r| r["outcome"] == "network_error"));
    let keys: HashSet<String> = received
        .iter()
        .map(|r| r.header("idempotency-key").to_string())
        .collect();
    assert_eq!(keys, run_ids, "every action arrived");
}

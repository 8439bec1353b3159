//! Outcomes recorded in batches keep every job's order and hash chain, and the shortcuts
//! that make recording cheap (the stream head on the job row, cached connection rows)
//! never show a stale state.

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::receiver::{Receiver, Reply};
use crate::support::TestApp;

/// Jobs whose actions finish together, so that their outcomes share batches.
const JOBS: usize = 40;

#[tokio::test]
async fn outcomes_recorded_together_keep_each_jobs_order_and_chain() {
    let app = TestApp::spawn().await;
    let ok = Receiver::ok().await;
    // A 4xx other than 408 and 429 fails at once, without retries.
    let gone = Receiver::start(|_, _| Reply::status(410)).await;
    let good = app.rest_connection(&ok.url("")).await;
    let bad = app.rest_connection(&gone.url("")).await;
    // `first` and `second` succeed; on `break` the first action fails for good and the
    // second is skipped in the same recording.
    app.publish(json!({
        "name": "batched", "initial": "open",
        "states": [{"name": "open"}, {"name": "broken", "terminal": true}],
        "transitions": [
            {"name": "tick", "from": ["open"], "to": "open", "actions": [
                {"name": "first", "action_type": "WEBHOOK",
                 "payload_template": {"connection_id": good, "path": "/first", "body": {"v": "{{job.version}}"}}},
                {"name": "second", "action_type": "WEBHOOK",
                 "payload_template": {"connection_id": good, "path": "/second", "body": {"v": "{{job.version}}"}}}]},
            {"name": "break", "from": ["open"], "to": "broken", "actions": [
                {"name": "doomed", "action_type": "WEBHOOK",
                 "payload_template": {"connection_id": bad, "path": "/doomed"}},
                {"name": "never", "action_type": "WEBHOOK",
                 "payload_template": {"connection_id": good, "path": "/never"}}]}
        ]
    }))
    .await;

    let mut jobs = Vec::new();
    for _ in 0..JOBS {
        jobs.push(
            app.create_job("batched").await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    // Every job moves three times at once; half of them then break.
    for round in 0..3 {
        let moves = jobs.iter().enumerate().map(|(i, id)| {
            let name = if round == 2 && i % 2 == 0 {
                "break"
            } else {
                "tick"
            };
            let app = &app;
            async move {
                let (status, body) = app.transition(id, json!({"transition": name})).await;
                assert_eq!(status, StatusCode::OK, "{body}");
            }
        });
        join_all(moves).await;
    }
    app.idle().await;

    for (i, id) in jobs.iter().enumerate() {
        let (_, events) = app
            .get(&format!("/api/v1/jobs/{id}/events?limit=1000"), &app.key)
            .await;
        let events = events["items"].as_array().unwrap().clone();
        let versions: Vec<i64> = events
            .iter()
            .map(|e| e["stream_version"].as_i64().unwrap())
            .collect();
        assert_eq!(versions, (1..=versions.len() as i64).collect::<Vec<_>>());
        for pair in events.windows(2) {
            assert_eq!(pair[1]["prev_hash"], pair[0]["hash"], "job {id}'s chain");
        }
        // Transitions do not wait for actions, so moves and outcomes interleave; but every
        // outcome comes after its transition, and the outcomes come in lane order.
        let moves: Vec<&str> = events
            .iter()
            .filter(|e| e["type"] == "job.transitioned")
            .map(|e| e["data"]["transition"].as_str().unwrap())
            .collect();
        let last = if i % 2 == 0 { "break" } else { "tick" };
        assert_eq!(moves, ["tick", "tick", last], "job {id}");
        let mut seen_moves = std::collections::HashSet::new();
        let mut outcomes = Vec::new();
        for e in &events {
            if e["type"] == "job.transitioned" {
                seen_moves.insert(e["id"].as_str().unwrap().to_string());
            } else if e["type"] != "job.created" {
                let data = &e["data"];
                // A skip names the transition, not its event; it follows the failure.
                if e["type"] != "action.skipped" {
                    let after = data["transition_event_id"].as_str().unwrap();
                    assert!(
                        seen_moves.contains(after),
                        "job {id}: {e} before its transition"
                    );
                }
                outcomes.push(format!(
                    "{}:{}",
                    e["type"].as_str().unwrap(),
                    data["name"].as_str().unwrap()
                ));
            }
        }
        let mut expected = Vec::new();
        for _ in 0..(if i % 2 == 0 { 2 } else { 3 }) {
            expected.extend(["action.succeeded:first", "action.succeeded:second"]);
        }
        if i % 2 == 0 {
            expected.extend(["action.failed:doomed", "action.skipped:never"]);
        }
        assert_eq!(outcomes, expected, "job {id}");
    }

    // The head kept on each job row is its stream's last event.
    let client = app.pool.get().await.unwrap();
    let stale: i64 = client
        .query_one(
            "SELECT count(*) FROM jobs j JOIN LATERAL (SELECT stream_version, hash FROM event_log e \
                 WHERE e.stream_id = j.id ORDER BY stream_version DESC LIMIT 1) head ON true \
             WHERE j.tenant_id = $1 \
               AND (j.stream_version, j.stream_hash) IS DISTINCT FROM (head.stream_version, head.hash)",
            &[&app.tenant_id.0],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stale, 0, "every job row holds its stream's head");
    let (_, verify) = app.get("/api/v1/events/verify", &app.key).await;
    assert_eq!(verify["ok"], true, "{verify}");
    assert_eq!(
        ok.requests().iter().filter(|r| r.path == "/never").count(),
        0
    );
}

#[tokio::test]
async fn new_credentials_are_used_at_once_despite_the_connection_cache() {
    let app = TestApp::spawn().await;
    let before = Receiver::ok().await;
    let after = Receiver::ok().await;
    let connection = app.rest_connection(&before.url("")).await;
    app.publish_actions(
        "moving",
        json!([{"name": "notify", "action_type": "WEBHOOK",
                "payload_template": {"connection_id": connection, "path": "/hook"}}]),
    )
    .await;
    let first = app.run("moving", "go", json!({})).await;
    app.settled_actions(&first).await;
    assert_eq!(before.requests().len(), 1);

    // The row was just read for that action; the change must not wait for it to expire.
    let (status, body) = app
        .patch(
            &format!("/api/v1/tenant/connections/{connection}"),
            &app.key,
            json!({"credentials": {"base_url": after.url("")}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second = app.run("moving", "go", json!({})).await;
    let runs = app.settled_actions(&second).await;
    assert_eq!(runs[0]["status"], "succeeded");
    assert_eq!(
        after.requests().len(),
        1,
        "the action used the new credentials"
    );
    assert_eq!(before.requests().len(), 1);
}

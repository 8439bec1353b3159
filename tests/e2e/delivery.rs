//! Delivery guarantees: at-least-once with a stable Idempotency-Key across a lost worker,
//! exactly one final outcome, per-job order with jobs in parallel, and no secret anywhere.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::receiver::{Receiver, Reply};
use crate::support::{eventually, logs, TestApp};

#[tokio::test]
async fn given_a_worker_that_loses_its_lease_after_sending_then_the_action_is_resent_and_ends_once()
{
    logs::capture();
    // The first request hangs long enough for its lease to be dropped and the run retaken.
    let receiver = Receiver::start(|_, nth| {
        if nth == 1 {
            Reply::status(200).after(Duration::from_secs(3))
        } else {
            Reply::status(200)
        }
    })
    .await;
    let app = TestApp::spawn().await;
    let conn = app.rest_connection(&receiver.url("")).await;
    app.publish_actions(
        "crashy",
        json!([{"name": "call", "action_type": "WEBHOOK", "timeout_ms": 10000,
        "payload_template": {"connection_id": conn, "path": "/x"}}]),
    )
    .await;
    let job = app.run("crashy", "go", json!({})).await;
    receiver.wait_for(1).await;
    // What a dead worker leaves behind: a running row whose lease has run out.
    let client = app.pool.get().await.unwrap();
    client
        .execute("UPDATE action_runs SET lease_until = now() - interval '1 second' WHERE status = 'running'", &[])
        .await
        .unwrap();
    let requests = receiver.wait_for(2).await;
    assert_eq!(
        requests[0].header("idempotency-key"),
        requests[1].header("idempotency-key")
    );
    let runs = app.settled_actions(&job).await;
    assert_eq!(
        (runs[0]["status"].as_str(), runs[0]["attempts"].as_i64()),
        (Some("succeeded"), Some(2))
    );
    // The first (stale) attempt finishes and tries to record: it is refused, by its fence.
    let run_id = runs[0]["id"].as_str().unwrap().to_string();
    eventually(
        "the stale attempt to be refused",
        Duration::from_secs(30),
        || {
            let run_id = run_id.clone();
            async move {
                logs::captured()
                    .lines()
                    .any(|line| {
                        line.contains("the lease expired before the outcome was recorded")
                            && line.contains(&run_id)
                            && line.contains("action.attempt=1")
                    })
                    .then_some(())
            }
        },
    )
    .await;
    let finals = app.job_events(&job, "action.succeeded").await.len()
        + app.job_events(&job, "action.failed").await.len();
    assert_eq!(finals, 1, "exactly one final outcome");
    let (_, verify) = app.get("/api/v1/events/verify", &app.key).await;
    assert_eq!(verify["ok"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_transitions_on_one_job_deliver_in_commit_order_while_other_jobs_run_in_parallel() {
    let receiver = Receiver::start(|req, _| {
        let slow = req.path.starts_with("/slow");
        Reply::status(200).after(if slow {
            Duration::from_millis(60)
        } else {
            Duration::ZERO
        })
    })
    .await;
    let app = TestApp::spawn().await;
    let conn = app.rest_connection(&receiver.url("")).await;
    app.publish_actions("lane", json!([{"name": "call", "action_type": "WEBHOOK",
        "payload_template": {"connection_id": conn, "path": "/{{transition.data.lane}}", "body": {"v": "{{job.version}}"}}}]))
    .await;
    let slow = app.create_job("lane").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..15 {
        let (status, _) = app
            .transition(
                &slow,
                json!({"transition": "again", "data": {"lane": "slow"}}),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::OK);
    }
    let fast: Vec<String> = futures_util::future::join_all(
        (0..5).map(|_| app.run("lane", "go", json!({"lane": "fast"}))),
    )
    .await;
    let all = receiver.wait_for(20).await;
    let slow_versions: Vec<i64> = all
        .iter()
        .filter(|r| r.path == "/slow")
        .map(|r| r.json()["v"].as_i64().unwrap())
        .collect();
    assert_eq!(
        slow_versions,
        (1..=15).collect::<Vec<_>>(),
        "one job's actions arrive in commit order"
    );
    let last_fast = all
        .iter()
        .filter(|r| r.path == "/fast")
        .map(|r| r.at)
        .max()
        .unwrap();
    let last_slow = all
        .iter()
        .filter(|r| r.path == "/slow")
        .map(|r| r.at)
        .max()
        .unwrap();
    assert!(
        last_fast < last_slow,
        "other jobs do not wait behind a busy job"
    );
    for job in fast {
        assert_eq!(app.settled_actions(&job).await[0]["status"], "succeeded");
    }
}

#[tokio::test]
async fn secrets_appear_in_no_response_event_ledger_row_or_log_line() {
    let receiver = Receiver::start(|req, _| {
        if req.path == "/fail" {
            Reply::status(500)
        } else {
            Reply::status(200)
        }
    })
    .await;
    let app = TestApp::spawn().await;
    let secrets = ["hdr-SECRET-a81f", "whsec-SECRET-b29c", "tok-SECRET-c37d"];
    let rest = app
        .create_connection(
            "generic_rest",
            json!({"base_url": receiver.url(""), "auth_header": format!("Bearer {}", secrets[0])}),
        )
        .await;
    let hook = app
        .create_connection("webhook", json!({"webhook_url": receiver.url("/hook/SECRETPATH-d41e"), "signing_secret": secrets[1]}))
        .await;
    let failing = app
        .create_connection(
            "generic_rest",
            json!({"base_url": receiver.url("/fail"), "auth_header": secrets[2]}),
        )
        .await;
    app.publish_actions("secretive", json!([
        {"name": "rest", "action_type": "WEBHOOK", "payload_template": {"connection_id": rest, "path": "/ok"}},
        {"name": "hook", "action_type": "WEBHOOK", "payload_template": {"connection_id": hook, "body": {"j": "{{job.id}}"}}},
        {"name": "bad", "action_type": "WEBHOOK", "retry": {"max_attempts": 2, "schedule": ["0s", "100ms"]},
         "payload_template": {"connection_id": failing}}
    ]))
    .await;
    let job = app.run("secretive", "go", json!({})).await;
    let runs = app.settled_actions(&job).await;
    let statuses: Vec<&str> = runs.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["succeeded", "succeeded", "failed"]);
    assert!(
        receiver
            .requests()
            .iter()
            .any(|r| r.header("authorization").contains(secrets[0])),
        "the secret was used"
    );

    let mut seen = String::new();
    for path in [
        format!("/api/v1/jobs/{job}"),
        format!("/api/v1/jobs/{job}/actions"),
        format!("/api/v1/jobs/{job}/events"),
        "/api/v1/events?limit=1000".to_string(),
        "/api/v1/ledger".to_string(),
        "/api/v1/usage".to_string(),
        "/api/v1/tenant/connections".to_string(),
        format!("/api/v1/tenant/connections/{rest}"),
        "/api/v1/workflows/secretive".to_string(),
    ] {
        let (_, body) = app.get(&path, &app.key).await;
        seen.push_str(&body.to_string());
    }
    seen.push_str(
        &app.http
            .get(app.url("/api/v1/events/export"))
            .bearer_auth(&app.key)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let client = app.pool.get().await.unwrap();
    for table in [
        "event_log",
        "utility_ledger",
        "action_runs",
        "idempotency_keys",
    ] {
        let rows = client
            .query(&format!("SELECT to_jsonb(t)::text FROM {table} t"), &[])
            .await
            .unwrap();
        rows.iter()
            .for_each(|r| seen.push_str(&r.get::<_, String>(0)));
    }
    seen.push_str(&logs::captured());
    for secret in secrets.iter().chain(&["SECRETPATH-d41e"]) {
        assert!(!seen.contains(secret), "{secret} leaked");
    }
}

#[tokio::test]
async fn ledger_rows_match_requests_sent_and_usage_totals_match_the_rows() {
    let receiver = Receiver::start(|_, nth| {
        if nth % 2 == 1 {
            Reply::status(503)
        } else {
            Reply::status(200).body("fine")
        }
    })
    .await;
    let app = TestApp::spawn().await;
    let conn = app.rest_connection(&receiver.url("")).await;
    app.publish_actions(
        "metered",
        json!([{"name": "call", "action_type": "WEBHOOK",
        "retry": {"max_attempts": 3, "schedule": ["0s", "50ms"]},
        "payload_template": {"connection_id": conn, "path": "/{{job.id}}", "body": {"n": 1}}}]),
    )
    .await;
    let mut jobs = Vec::new();
    for _ in 0..4 {
        jobs.push(app.run("metered", "go", json!({})).await);
    }
    for job in &jobs {
        assert_eq!(app.settled_actions(job).await[0]["status"], "succeeded");
    }
    let sent = receiver.requests().len();
    assert_eq!(sent, 8, "each job: one 503, then a 200");
    let (_, ledger) = app.get("/api/v1/ledger", &app.key).await;
    let rows = ledger["items"].as_array().unwrap();
    assert_eq!(rows.len(), sent);
    let keys: HashSet<(String, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["source_id"].as_str().unwrap().to_string(),
                r["attempt"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(keys.len(), sent, "one row per (action run, attempt)");
    let (_, usage) = app.get("/api/v1/usage", &app.key).await;
    let day: &Value = &usage["items"][0];
    assert_eq!(day["requests"], sent as i64);
    assert_eq!(day["succeeded"], 4);
    let bytes_in: i64 = rows.iter().map(|r| r["bytes_in"].as_i64().unwrap()).sum();
    assert_eq!(day["bytes_in"], bytes_in);
    eventually("nothing left running", Duration::from_secs(5), || async {
        let c = app.pool.get().await.ok()?;
        let n: i64 = c.query_one("SELECT count(*) FROM action_runs WHERE status NOT IN ('succeeded', 'failed', 'skipped')", &[]).await.ok()?.get(0);
        (n == 0).then_some(())
    })
    .await;
}

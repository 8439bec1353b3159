//! What a verified request does, as its receipt says: a job created or moved, no route,
//! a refused transition; a repeated delivery applies nothing; a replay runs the current
//! routes; and a request whose signature does not hold writes nothing at all.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{github_endpoint, post_github, standard_headers};
use crate::support::TestApp;

/// Routes for GitHub-style issue events onto `purchase_approval` jobs by external id:
/// `opened` creates the job and submits it, `closed` rejects it.
fn issue_routes() -> Value {
    json!([
        {"when": {"==": [{"var": "body.action"}, "opened"]},
         "job": {"external_id": "issue-{{body.issue.number}}", "workflow": "purchase_approval"},
         "create": {"workflow": "purchase_approval", "context": {"amount": "{{body.issue.amount}}"}},
         "transition": "submit"},
        {"when": {"==": [{"var": "body.action"}, "closed"]},
         "job": {"external_id": "issue-{{body.issue.number}}", "workflow": "purchase_approval"},
         "transition": "reject", "data": {"reason": "{{body.issue.state_reason}}"}}
    ])
}

async fn job_by_external_id(app: &TestApp, external_id: &str) -> Option<Value> {
    let (_, jobs) = app
        .get("/api/v1/jobs?workflow=purchase_approval", &app.key)
        .await;
    jobs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["external_id"] == external_id)
        .cloned()
}

#[tokio::test]
async fn routes_create_and_move_jobs_and_a_repeated_delivery_applies_nothing() {
    let app = TestApp::spawn().await;
    app.publish_fixture("purchase_approval").await;
    let (id, url, secret) = github_endpoint(&app, issue_routes()).await;

    let opened = json!({"action": "opened", "issue": {"number": 7, "amount": 250}});
    let (status, first) = post_github(&app, &url, &secret, "d-1", &opened).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["outcome"], "created", "{first}");
    let job = job_by_external_id(&app, "issue-7")
        .await
        .expect("the job was created");
    assert_eq!(job["state"], "submitted");
    assert_eq!(
        job["context"]["amount"], 250,
        "a lone {{{{path}}}} keeps its JSON type"
    );
    assert_eq!(first["job_id"], job["id"]);

    // GitHub retries the same delivery: the first answer, nothing applied again.
    let (status, again) = post_github(&app, &url, &secret, "d-1", &opened).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["repeat"], true);
    assert_eq!(again["receipt_id"], first["receipt_id"]);
    assert_eq!(again["outcome"], "created");
    let job_id = job["id"].as_str().unwrap();
    assert_eq!(app.job_events(job_id, "job.transitioned").await.len(), 1);

    let closed = json!({"action": "closed", "issue": {"number": 7, "state_reason": "not_planned"}});
    let (_, moved) = post_github(&app, &url, &secret, "d-2", &closed).await;
    assert_eq!(moved["outcome"], "applied", "{moved}");
    let (_, job) = app.get(&format!("/api/v1/jobs/{job_id}"), &app.key).await;
    assert_eq!(job["state"], "rejected");

    // Closed again under a new delivery id: the transition is refused, and says why.
    let (status, refused) = post_github(&app, &url, &secret, "d-3", &closed).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a sender must not retry what cannot apply"
    );
    assert_eq!(refused["outcome"], "refused");
    assert_eq!(refused["detail"]["refusal"], "not_allowed", "{refused}");
    assert!(refused["detail"]["reason"]
        .as_str()
        .unwrap()
        .contains("rejected"));

    let receipts = app.receipts(&id).await;
    assert_eq!(receipts.len(), 3, "a repeat makes no receipt");
}

#[tokio::test]
async fn an_unmatched_receipt_runs_again_through_the_fixed_routes() {
    let app = TestApp::spawn().await;
    app.publish_fixture("purchase_approval").await;
    let (id, url, secret) = github_endpoint(&app, json!([])).await;
    let opened = json!({"action": "opened", "issue": {"number": 9, "amount": 10}});
    let (_, first) = post_github(&app, &url, &secret, "d-9", &opened).await;
    assert_eq!(first["outcome"], "unmatched");
    let receipt = first["receipt_id"].as_str().unwrap();
    let replay_path = format!("/api/v1/intake/{id}/receipts/{receipt}/replay");
    let replay = || app.post(&replay_path, &app.key, json!({}));

    let (status, again) = replay().await;
    assert_eq!(
        status,
        StatusCode::OK,
        "an unmatched receipt replays: {again}"
    );
    assert_eq!(again["outcome"], "unmatched");
    assert_eq!(again["replays"], 1);

    let (status, _) = app
        .patch(
            &format!("/api/v1/intake/{id}"),
            &app.key,
            json!({"routes": issue_routes()}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, replayed) = replay().await;
    assert_eq!(status, StatusCode::OK, "{replayed}");
    assert_eq!(replayed["outcome"], "created");
    assert_eq!(replayed["replays"], 2);
    assert!(job_by_external_id(&app, "issue-9").await.is_some());

    let (status, problem) = replay().await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "what applied does not run twice: {problem}"
    );
    assert_eq!(problem["type"], "/problems/receipt-not-replayable");
}

#[tokio::test]
async fn a_wrong_secret_an_altered_body_or_a_stale_timestamp_is_401_and_writes_nothing() {
    let app = TestApp::spawn().await;
    app.publish_fixture("purchase_approval").await;
    let created = app
        .intake_endpoint(json!({"name": "sw", "verify": {"scheme": "standard_webhooks"}, "routes": issue_routes()}))
        .await;
    let (id, url) = (
        created["id"].as_str().unwrap(),
        created["url"].as_str().unwrap(),
    );
    let secret = created["secret"].as_str().unwrap();
    let body =
        serde_json::to_vec(&json!({"action": "opened", "issue": {"number": 1, "amount": 5}}))
            .unwrap();
    let now = chrono::Utc::now().timestamp();
    let wrong = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    let mut altered = body.clone();
    altered[2] ^= 1;
    let cases = [
        (
            "wrong secret",
            standard_headers(wrong, "m-1", now, &body),
            body.clone(),
        ),
        (
            "altered body",
            standard_headers(secret, "m-1", now, &body),
            altered,
        ),
        (
            "stale timestamp",
            standard_headers(secret, "m-1", now - 600, &body),
            body.clone(),
        ),
        ("no signature", Vec::new(), body.clone()),
    ];
    for (what, headers, sent) in cases {
        let (status, problem) = app
            .post_intake(url, "application/json", &headers, sent)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {problem}");
        assert_eq!(problem["type"], "/problems/signature-invalid", "{what}");
        assert!(!problem.to_string().contains(secret), "{what}");
    }
    assert!(app.receipts(id).await.is_empty(), "refusals write nothing");
    assert!(job_by_external_id(&app, "issue-1").await.is_none());
    let (_, shown) = app.get(&format!("/api/v1/intake/{id}"), &app.key).await;
    assert_eq!(shown["refused"]["count"], 4, "{shown}");
    let reasons: Vec<&str> = shown["refused"]["recent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons[0].contains("webhook-id"),
        "newest first: {reasons:?}"
    );
    assert!(reasons[1].contains("timestamp"), "{reasons:?}");

    // Signed properly, it applies; replayed with the same webhook-id, it applies nothing.
    let headers = standard_headers(secret, "m-2", now, &body);
    let (status, done) = app
        .post_intake(url, "application/json", &headers, body.clone())
        .await;
    assert_eq!(
        (status, done["outcome"].as_str()),
        (StatusCode::OK, Some("created")),
        "{done}"
    );
    let (_, repeat) = app
        .post_intake(url, "application/json", &headers, body)
        .await;
    assert_eq!(repeat["repeat"], true);
    assert_eq!(app.receipts(id).await.len(), 1);
}

#[tokio::test]
async fn a_receipt_left_pending_by_a_stopped_process_is_replayed_once_and_only_once() {
    let app = TestApp::spawn().await;
    app.publish_fixture("purchase_approval").await;
    let (id, url, secret) = github_endpoint(&app, issue_routes()).await;
    let opened = json!({"action": "opened", "issue": {"number": 3, "amount": 10}});
    let (_, first) = post_github(&app, &url, &secret, "p-1", &opened).await;
    assert_eq!(first["outcome"], "created");
    let receipt = first["receipt_id"].as_str().unwrap();
    // As if its process had stopped after applying and before writing the outcome.
    let client = app.pool.get().await.unwrap();
    let receipt_id: uuid::Uuid = receipt.parse().unwrap();
    client
        .execute(
            "UPDATE intake_receipts SET outcome = 'pending', updated_at = now() WHERE id = $1",
            &[&receipt_id],
        )
        .await
        .unwrap();
    let path = format!("/api/v1/intake/{id}/receipts/{receipt}/replay");
    let (status, _) = app.post(&path, &app.key, json!({})).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a receipt pending for a moment is still running"
    );
    client
        .execute(
            "UPDATE intake_receipts SET updated_at = now() - interval '2 minutes' WHERE id = $1",
            &[&receipt_id],
        )
        .await
        .unwrap();
    let (status, replayed) = app.post(&path, &app.key, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{replayed}");
    // The job its first run created is found now, and the transition's stored result
    // answers: applied, once.
    assert_eq!(replayed["outcome"], "applied", "{replayed}");
    assert_eq!(replayed["event_id"], first["event_id"], "{replayed}");
    let job = job_by_external_id(&app, "issue-3").await.unwrap();
    let job_id = job["id"].as_str().unwrap();
    assert_eq!(
        app.job_events(job_id, "job.transitioned").await.len(),
        1,
        "the receipt's idempotency keys kept the job from moving twice"
    );
}

#[tokio::test]
async fn a_request_to_an_endpoint_deleted_meanwhile_is_404() {
    let app = TestApp::spawn().await;
    let (id, url, secret) = github_endpoint(&app, json!([])).await;
    let (status, _) = post_github(&app, &url, &secret, "g-1", &json!({"a": 1})).await;
    assert_eq!(status, StatusCode::OK);
    // Deleted as another process would: this process still holds the endpoint it read.
    let client = app.pool.get().await.unwrap();
    let id: uuid::Uuid = id.parse().unwrap();
    client
        .execute("DELETE FROM intake_endpoints WHERE id = $1", &[&id])
        .await
        .unwrap();
    let (status, problem) = post_github(&app, &url, &secret, "g-2", &json!({"a": 2})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
}

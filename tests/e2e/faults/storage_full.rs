//! A storage failure (a full disk, a deadlock PostgreSQL broke) answers 503 with
//! `Retry-After`, not 500, and writes nothing. The disk is "full" by a trigger that raises
//! PostgreSQL's own `disk_full` (53100) on the log's inserts, as a full disk would.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::TestApp;

async fn fail_log_writes_with(app: &TestApp, sqlstate: &str) {
    let client = app.pool.get().await.unwrap();
    client
        .batch_execute(&format!(
            "CREATE FUNCTION fail_append() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' \
             USING ERRCODE = '{sqlstate}'; END $$; \
             CREATE TRIGGER fail_append BEFORE INSERT ON event_log \
             FOR EACH ROW EXECUTE FUNCTION fail_append();"
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_full_disk_answers_503_with_retry_after_and_writes_nothing() {
    let app = TestApp::spawn().await;
    app.publish_actions("plain", json!([])).await;
    for sqlstate in ["53100", "40P01"] {
        let client = app.pool.get().await.unwrap();
        client
            .batch_execute(
                "DROP TRIGGER IF EXISTS fail_append ON event_log; DROP FUNCTION IF EXISTS fail_append();",
            )
            .await
            .unwrap();
        drop(client);
        fail_log_writes_with(&app, sqlstate).await;
        let resp = app
            .http
            .post(app.url("/api/v1/jobs"))
            .bearer_auth(&app.key)
            .json(&json!({"workflow": "plain"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE, "{sqlstate}");
        assert_eq!(resp.headers()["retry-after"], "2", "{sqlstate}");
        let problem: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(problem["type"], "/problems/database-unavailable");
        assert!(
            !problem["detail"].as_str().unwrap().contains("No space"),
            "no internals: {problem}"
        );
    }
    let client = app.pool.get().await.unwrap();
    let jobs: i64 = client
        .query_one("SELECT count(*) FROM jobs", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(jobs, 0, "nothing half-written");
}

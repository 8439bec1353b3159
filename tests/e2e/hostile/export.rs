//! An export that fails part way must not look complete: the stream is cut off, so the
//! client's read fails instead of ending cleanly. Parameters are checked before the first
//! byte.

use reqwest::StatusCode;

use crate::support::TestApp;

#[tokio::test]
async fn an_export_that_fails_mid_stream_is_visibly_incomplete() {
    let app = TestApp::spawn().await;
    let client = app.pool.get().await.unwrap();
    // Enough events that the export cannot have been written whole before it fails.
    client
        .execute(
            "INSERT INTO event_log (event_id, tenant_id, stream_id, stream_version, type, data, \
             metadata, recorded_at, prev_hash, hash) \
             SELECT gen_random_uuid(), $1, gen_random_uuid(), 1, 'job.transitioned', \
                    jsonb_build_object('n', n, 'pad', repeat('x', 400)), '{}', now(), '\\x00', '\\x00' \
             FROM generate_series(1, 40000) n",
            &[&app.tenant_id.0],
        )
        .await
        .unwrap();
    let mut resp = app.get_response("/api/v1/events/export", &app.key).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let first = resp.chunk().await.unwrap().expect("a first chunk");
    assert!(!first.is_empty());
    // The log becomes unreadable under the export's feet.
    client
        .batch_execute("ALTER TABLE event_log RENAME TO event_log_gone")
        .await
        .unwrap();
    let mut outcome = Ok(());
    loop {
        match resp.chunk().await {
            Ok(Some(_)) => continue,
            Ok(None) => break,
            Err(err) => {
                outcome = Err(err);
                break;
            }
        }
    }
    assert!(outcome.is_err(), "the export ended as if it were complete");
    client
        .batch_execute("ALTER TABLE event_log_gone RENAME TO event_log")
        .await
        .unwrap();
}

#[tokio::test]
async fn export_parameters_are_checked_before_the_first_byte() {
    let app = TestApp::spawn().await;
    for query in [
        "after=nonsense",
        "since=yesterday",
        "stream_id=x",
        "until=0000-01-01T00:00:00Z",
    ] {
        let (status, problem) = app
            .get(&format!("/api/v1/events/export?{query}"), &app.key)
            .await;
        assert!(status.is_client_error(), "{query}: {status} {problem}");
        assert!(problem["status"].is_number(), "{query}: a problem document");
    }
}

//! What operators and receivers see: structured logs on request, and a W3C `traceparent`
//! on every outgoing request.

use std::process::Command;

use serde_json::{json, Value};

use crate::embedded::binary;
use crate::support::receiver::{Receiver, Reply};
use crate::support::TestApp;

#[tokio::test]
async fn every_attempt_carries_a_traceparent_whose_trace_is_the_action() {
    let app = TestApp::spawn().await;
    // The first attempt gets a 503, the retry a 200.
    let receiver = Receiver::start(|_, nth| Reply::status(if nth == 1 { 503 } else { 200 })).await;
    let connection = app.rest_connection(&receiver.url("")).await;
    app.publish_actions(
        "traced",
        json!([{"name": "notify", "action_type": "WEBHOOK", "retry": {"schedule": ["0s", "1s"]},
                "payload_template": {"connection_id": connection, "path": "/hook"}}]),
    )
    .await;
    let job = app.run("traced", "go", json!({})).await;
    let runs = app.settled_actions(&job).await;
    assert_eq!(runs[0]["status"], "succeeded", "{runs:?}");
    let run_id = runs[0]["id"].as_str().unwrap().replace('-', "");
    let got = receiver.wait_for(2).await;
    let parents: Vec<&str> = got
        .iter()
        .map(|r| {
            let header = r.header("traceparent");
            let parts: Vec<&str> = header.split('-').collect();
            assert_eq!(parts.len(), 4, "{header}");
            assert_eq!(
                (parts[0], parts[1], parts[3]),
                ("00", run_id.as_str(), "01")
            );
            assert_eq!(parts[2].len(), 16);
            parts[2]
        })
        .collect();
    assert_ne!(parents[0], parents[1], "each attempt is a span of its own");

    // The outbound call's log line sits in spans naming the action and its job, with the
    // target's host but not its path.
    let action = runs[0]["id"].as_str().unwrap();
    let logs = crate::support::logs::captured();
    let line = logs
        .lines()
        .find(|l| l.contains(&format!("action.id={action}")) && l.contains("outbound{"))
        .unwrap_or_else(|| panic!("no outbound span for {action}"));
    assert!(line.contains(&format!("job.id={job}")), "{line}");
    assert!(
        line.contains("http.host=\"127.0.0.1\"") && !line.contains("/hook"),
        "{line}"
    );
}

#[test]
fn json_logs_are_one_object_a_line() {
    let data = crate::support::scratch_dir("json-logs");
    let out = Command::new(binary())
        .args([
            "--data-dir",
            data.to_str().unwrap(),
            "tenant",
            "create",
            "--name",
            "logs",
        ])
        .env("SWITCHYARD_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&data);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(
        !lines.is_empty(),
        "starting an embedded cluster logs something"
    );
    for line in lines {
        let parsed: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            parsed["level"].is_string() && parsed["fields"].is_object(),
            "{line}"
        );
    }

    let refused = Command::new(binary())
        .args(["--log-format", "xml", "migrate"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--log-format"));
}

//! `switchyard serve` killed with SIGKILL under load, three times.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::{assert_nothing_lost, patient_action, transition_load, Acknowledged};
use crate::embedded::{binary, free_port, spawn_serve, wait_ready};
use crate::support::receiver::Receiver;

/// The receiver is on 127.0.0.1.
const PRIVATE_TARGETS: &[(&str, &str)] = &[("SWITCHYARD_ALLOW_PRIVATE_TARGETS", "true")];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_server_under_load_loses_no_acknowledged_transition_and_no_action() {
    let data = crate::support::scratch_dir("kill9");
    let out = std::process::Command::new(crate::embedded::binary())
        .args([
            "--data-dir",
            data.to_str().unwrap(),
            "tenant",
            "create",
            "--name",
            "k9",
        ])
        .env("RUST_LOG", "error")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = serde_json::from_slice::<Value>(&out.stdout).unwrap()["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut server = spawn_serve(&binary(), &data, port, PRIVATE_TARGETS);
    wait_ready(&http, &base).await;

    let receiver = Receiver::ok().await;
    let post = |path: &str, body: Value| {
        let req = http
            .post(format!("{base}{path}"))
            .bearer_auth(&key)
            .json(&body);
        async move {
            let resp = req.send().await.unwrap();
            assert!(resp.status().is_success(), "{}", resp.status());
            resp.json::<Value>().await.unwrap()
        }
    };
    let conn = post(
        "/api/v1/tenant/connections",
        json!({"provider": "generic_rest", "connection_name": "r", "credentials": {"base_url": receiver.url("")}}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    post(
        "/api/v1/workflows",
        json!({"name": "k9", "initial": "open",
               "states": [{"name": "open"}, {"name": "done", "terminal": true}],
               "transitions": [
                   {"name": "again", "from": ["open"], "to": "open", "actions": patient_action(&conn)},
                   {"name": "finish", "from": ["open"], "to": "done"}]}),
    )
    .await;
    let mut jobs = Vec::new();
    for _ in 0..8 {
        jobs.push(
            post("/api/v1/jobs", json!({"workflow": "k9"})).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }

    // Four clients keep transitioning their jobs; only 2xx answers count as acknowledged.
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged: Acknowledged = Arc::default();
    let clients = transition_load(
        std::slice::from_ref(&base),
        &key,
        &jobs,
        &stop,
        &acknowledged,
    );

    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        crate::embedded::kill9(server.id() as i32);
        server.wait().unwrap();
        server = spawn_serve(&binary(), &data, port, PRIVATE_TARGETS);
        wait_ready(&http, &base).await;
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 50,
        "the load ran: {}",
        acknowledged.len()
    );

    assert_nothing_lost(&base, &key, &jobs, &acknowledged, &receiver).await;

    // SAFETY: sending a signal has no memory-safety preconditions.
    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    server.wait().unwrap();
    let _ = std::fs::remove_dir_all(&data);
}

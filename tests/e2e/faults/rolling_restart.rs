//! Graceful drain: SIGTERM makes a process answer `/readyz` 503, finish the requests it
//! has in flight and exit 0; a rolling restart of two `serve` processes under load sends
//! no action twice and loses none.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use switchyard_actions::vault::EncryptionKey;

use super::{
    assert_nothing_lost, paced_transition_load, patient_action, serve, spawn, Acknowledged,
};
use crate::embedded::{free_port, wait_ready};
use crate::support::cluster::fresh_database;
use crate::support::eventually;
use crate::support::receiver::{Receiver, Reply};

/// A tenant made with the binary; its API key.
fn tenant(db_url: &str, secret: &str) -> String {
    let out = spawn(db_url, secret, &["tenant", "create", "--name", "rolling"])
        .wait_with_output()
        .unwrap();
    assert!(out.status.success());
    serde_json::from_slice::<Value>(&out.stdout).unwrap()["api_key"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn post(http: &reqwest::Client, key: &str, url: String, body: Value) -> Value {
    let resp = http
        .post(url)
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    resp.json().await.unwrap()
}

/// Sets up a connection to `receiver` and a workflow `rolling` whose one transition,
/// `again`, sends one action; returns `jobs` new jobs.
async fn workflow(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    receiver: &Receiver,
    jobs: usize,
) -> Vec<String> {
    let conn = post(
        http,
        key,
        format!("{base}/api/v1/tenant/connections"),
        json!({"provider": "generic_rest", "connection_name": "r", "credentials": {"base_url": receiver.url("")}}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    post(
        http,
        key,
        format!("{base}/api/v1/workflows"),
        json!({"name": "rolling", "initial": "open", "states": [{"name": "open"}],
               "transitions": [{"name": "again", "from": ["open"], "to": "open", "actions": patient_action(&conn)}]}),
    )
    .await;
    let mut ids = Vec::new();
    for _ in 0..jobs {
        let job = post(
            http,
            key,
            format!("{base}/api/v1/jobs"),
            json!({"workflow": "rolling"}),
        )
        .await;
        ids.push(job["id"].as_str().unwrap().to_string());
    }
    ids
}

fn sigterm(child: &std::process::Child) {
    // SAFETY: sending a signal has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_answers_503_finishes_the_send_in_flight_and_exits_0() {
    let db_url = fresh_database().await;
    let (_, secret) = EncryptionKey::generate();
    let key = tenant(&db_url, &secret);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = serve(&db_url, &secret, port);
    let http = reqwest::Client::new();
    wait_ready(&http, &base).await;
    // The receiver holds the request for three seconds: the drain must wait for it.
    let receiver = Receiver::start(|_, _| Reply::status(200).after(Duration::from_secs(3))).await;
    let jobs = workflow(&http, &base, &key, &receiver, 1).await;
    post(
        &http,
        &key,
        format!("{base}/api/v1/jobs/{}/transitions", jobs[0]),
        json!({"transition": "again"}),
    )
    .await;
    eventually(
        "the request to be in flight",
        Duration::from_secs(20),
        || async { (!receiver.requests().is_empty()).then_some(()) },
    )
    .await;

    sigterm(&server);
    let status = eventually("/readyz to answer 503", Duration::from_secs(2), || async {
        let resp = http.get(format!("{base}/readyz")).send().await.ok()?;
        (resp.status() == StatusCode::SERVICE_UNAVAILABLE).then_some(resp.status())
    })
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let exit = tokio::task::spawn_blocking(move || server.wait().unwrap())
        .await
        .unwrap();
    assert!(exit.success(), "a drained process exits 0: {exit:?}");

    // Restarted, the action has one outcome, a success, and was sent once.
    let mut server = serve(&db_url, &secret, port);
    wait_ready(&http, &base).await;
    let runs: Value = http
        .get(format!("{base}/api/v1/jobs/{}/actions", jobs[0]))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(runs["items"][0]["status"], "succeeded", "{runs}");
    assert_eq!(runs["items"][0]["attempts"], 1, "{runs}");
    assert_eq!(receiver.requests().len(), 1);
    sigterm(&server);
    server.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rolling_restart_under_load_sends_no_action_twice_and_loses_none() {
    let db_url = fresh_database().await;
    let (_, secret) = EncryptionKey::generate();
    let key = tenant(&db_url, &secret);
    let ports = [free_port(), free_port()];
    let bases = ports.map(|p| format!("http://127.0.0.1:{p}"));
    let mut servers = [
        serve(&db_url, &secret, ports[0]),
        serve(&db_url, &secret, ports[1]),
    ];
    let http = reqwest::Client::new();
    for base in &bases {
        wait_ready(&http, base).await;
    }
    // Slow enough answers that each stop finds requests in flight.
    let receiver =
        Receiver::start(|_, _| Reply::status(200).after(Duration::from_millis(200))).await;
    let jobs = workflow(&http, &bases[0], &key, &receiver, 8).await;

    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged: Acknowledged = Arc::default();
    let clients = paced_transition_load(
        &bases,
        &key,
        &jobs,
        &stop,
        &acknowledged,
        Duration::from_millis(150),
    );
    let progress = |more: usize| {
        let acknowledged = acknowledged.clone();
        let from = acknowledged.lock().unwrap().len();
        async move {
            eventually("load to go on", Duration::from_secs(60), || async {
                (acknowledged.lock().unwrap().len() >= from + more).then_some(())
            })
            .await
        }
    };
    progress(30).await;
    for (i, port) in ports.into_iter().enumerate() {
        sigterm(&servers[i]);
        let exit = servers[i].wait().unwrap();
        assert!(exit.success(), "server {i} drained and exited 0: {exit:?}");
        // Meanwhile the other server takes the load, and the actions.
        progress(10).await;
        servers[i] = serve(&db_url, &secret, port);
        wait_ready(&http, &bases[i]).await;
        progress(30).await;
    }
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert_nothing_lost(&bases[0], &key, &jobs, &acknowledged, &receiver).await;
    // Stricter than de-duplicated: no action reached the receiver twice.
    let requests = receiver.requests();
    let mut keys: Vec<String> = requests
        .iter()
        .map(|r| r.header("idempotency-key").to_string())
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), requests.len(), "an action was sent twice");
    for server in &mut servers {
        sigterm(server);
        assert!(server.wait().unwrap().success());
    }
}

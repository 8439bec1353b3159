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
    assert_nothing_lost, looping_workflow, paced_transition_load, post, serve, tenant, Acknowledged,
};
use crate::embedded::{free_port, wait_ready};
use crate::support::cluster::fresh_database;
use crate::support::eventually;
use crate::support::receiver::{Receiver, Reply};

fn sigterm(child: &std::process::Child) {
    // SAFETY: sending a signal has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_answers_503_finishes_the_send_in_flight_and_exits_0() {
    let db_url = fresh_database().await;
    let (_, secret) = EncryptionKey::generate();
    let key = tenant(&db_url, &secret, "rolling");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = serve(&db_url, &secret, port);
    let http = reqwest::Client::new();
    wait_ready(&http, &base).await;
    // The receiver holds the request for three seconds: the drain must wait for it.
    let receiver = Receiver::start(|_, _| Reply::status(200).after(Duration::from_secs(3))).await;
    let jobs = looping_workflow(&http, &base, &key, &receiver, "rolling", 1).await;
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
    let key = tenant(&db_url, &secret, "rolling");
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
    let jobs = looping_workflow(&http, &bases[0], &key, &receiver, "rolling", 8).await;

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

//! Two `switchyard serve` processes and a `switchyard worker` on one database, under load,
//! with one of the servers killed (SIGKILL): every acknowledged transition's action
//! arrives, each action has exactly one final outcome, and a receiver de-duplicating by
//! Idempotency-Key sees each action once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use switchyard_actions::vault::EncryptionKey;

use super::{
    assert_nothing_lost, looping_workflow, serve, spawn, tenant, transition_load, Acknowledged,
};
use crate::embedded::{free_port, kill9, wait_ready};
use crate::support::cluster::fresh_database;
use crate::support::eventually;
use crate::support::receiver::Receiver;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_and_a_worker_lose_nothing_when_one_server_is_killed() {
    let db_url = fresh_database().await;
    let (_, secret) = EncryptionKey::generate();
    let api_key = tenant(&db_url, &secret, "scale");
    let (port_a, port_b) = (free_port(), free_port());
    let bases = [
        format!("http://127.0.0.1:{port_a}"),
        format!("http://127.0.0.1:{port_b}"),
    ];
    let mut a = serve(&db_url, &secret, port_a);
    let mut b = serve(&db_url, &secret, port_b);
    let mut worker = spawn(&db_url, &secret, &["worker"]);
    let http = reqwest::Client::new();
    for base in &bases {
        wait_ready(&http, base).await;
    }

    let receiver = Receiver::ok().await;
    let jobs = looping_workflow(&http, &bases[0], &api_key, &receiver, "scale", 8).await;

    // Four clients, two on each server; only 2xx answers count as acknowledged.
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged: Acknowledged = Arc::default();
    let clients = transition_load(&bases, &api_key, &jobs, &stop, &acknowledged);
    eventually("load on both servers", Duration::from_secs(30), || async {
        (acknowledged.lock().unwrap().len() > 100).then_some(())
    })
    .await;
    kill9(a.id() as i32);
    a.wait().unwrap();
    let after_kill = acknowledged.lock().unwrap().len();
    eventually(
        "load on the surviving server",
        Duration::from_secs(30),
        || async { (acknowledged.lock().unwrap().len() > after_kill + 100).then_some(()) },
    )
    .await;
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    assert_nothing_lost(&bases[1], &api_key, &jobs, &acknowledged, &receiver).await;

    for child in [&mut b, &mut worker] {
        // SAFETY: sending a signal has no memory-safety preconditions.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        child.wait().unwrap();
    }
}

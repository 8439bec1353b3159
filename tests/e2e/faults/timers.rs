//! Timers are rows in the work queue: they survive SIGKILL of the server and of its
//! PostgreSQL, and a graceful restart; one that came due while everything was down fires
//! once at start-up, and its event says how late.

use std::path::Path;
use std::process::Child;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::embedded::{
    alive, binary, call, create_tenant, free_port, kill9, postmaster_pid, spawn_serve, wait_ready,
};
use crate::support::eventually;

struct Server {
    child: Child,
    base: String,
}

fn start(bin: &Path, data: &Path) -> Server {
    let port = free_port();
    Server {
        child: spawn_serve(bin, data, port, &[]),
        base: format!("http://127.0.0.1:{port}"),
    }
}

/// Creates a job of `ticket` and returns its id and its timer's due time.
async fn ticket(http: &reqwest::Client, s: &Server, key: &str) -> (String, DateTime<Utc>) {
    let (status, job) = call(
        http.post(format!("{}/api/v1/jobs", s.base))
            .json(&json!({"workflow": "ticket"})),
        key,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    let (_, job) = call(http.get(format!("{}/api/v1/jobs/{id}", s.base)), key).await;
    let due = job["timers"][0]["due_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    (id, due)
}

/// Waits until `id` has escalated and its firing is recorded (the transition commits
/// first, `timer.fired` in the transaction after it); returns its `timer.fired` events.
async fn fired(http: &reqwest::Client, s: &Server, key: &str, id: &str) -> Vec<Value> {
    eventually("the timer to fire", Duration::from_secs(60), || async {
        let (_, job) = call(http.get(format!("{}/api/v1/jobs/{id}", s.base)), key).await;
        if job["state"] != "escalated" {
            return None;
        }
        let (_, events) = call(
            http.get(format!("{}/api/v1/jobs/{id}/events?limit=1000", s.base)),
            key,
        )
        .await;
        let fired: Vec<Value> = events["items"]
            .as_array()?
            .iter()
            .filter(|e| e["type"] == "timer.fired")
            .cloned()
            .collect();
        (!fired.is_empty()).then_some(fired)
    })
    .await
}

/// Waits (by the clock, not by a worker) until `due` is more than a second past.
async fn until_past(due: DateTime<Utc>) {
    eventually(
        "the timer's time to pass",
        Duration::from_secs(30),
        || async { (Utc::now() > due + chrono::Duration::seconds(1)).then_some(()) },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_survive_sigkill_and_a_restart_and_fire_late_once() {
    let bin = binary();
    let data = crate::support::scratch_dir("timers");
    let http = reqwest::Client::new();
    let mut server = start(&bin, &data);
    wait_ready(&http, &server.base).await;
    let key = create_tenant(&bin, &data, "timers");
    let workflow = json!({
        "name": "ticket", "initial": "waiting",
        "states": [
            {"name": "waiting", "timeout": {"after": "2s", "transition": "escalate"}},
            {"name": "escalated", "terminal": true}
        ],
        "transitions": [{"name": "escalate", "from": ["waiting"], "to": "escalated"}]
    });
    let (status, body) = call(
        http.post(format!("{}/api/v1/workflows", server.base))
            .json(&workflow),
        &key,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // SIGKILL of Switchyard and of its PostgreSQL before the timers are due.
    let (first, due) = ticket(&http, &server, &key).await;
    let (second, _) = ticket(&http, &server, &key).await;
    let pg = postmaster_pid(&data).expect("a running cluster has a pid file");
    kill9(pg);
    kill9(server.child.id() as i32);
    server.child.wait().unwrap();
    eventually(
        "the killed postmaster to be gone",
        Duration::from_secs(10),
        || async { (!alive(pg)).then_some(()) },
    )
    .await;
    until_past(due).await;
    server = start(&bin, &data);
    wait_ready(&http, &server.base).await;
    for id in [&first, &second] {
        let fired = fired(&http, &server, &key, id).await;
        assert_eq!(fired.len(), 1, "fired once: {fired:?}");
        let late = fired[0]["data"]["late_ms"].as_i64().unwrap();
        assert!(late >= 1000, "the event says it fired late: {late} ms");
    }

    // A graceful stop: the timer waits in the database and fires after the restart.
    let (third, due) = ticket(&http, &server, &key).await;
    // SAFETY: sending a signal has no memory-safety preconditions.
    unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    assert!(server.child.wait().unwrap().success());
    until_past(due).await;
    server = start(&bin, &data);
    wait_ready(&http, &server.base).await;
    assert_eq!(fired(&http, &server, &key, &third).await.len(), 1);
    let (_, verify) = call(
        http.get(format!("{}/api/v1/events/verify", server.base)),
        &key,
    )
    .await;
    assert_eq!(verify["ok"], true, "{verify}");

    // SAFETY: as above.
    unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    let _ = server.child.wait();
    let _ = std::fs::remove_dir_all(&data);
}

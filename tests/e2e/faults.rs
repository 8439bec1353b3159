//! Faults that must lose nothing: a receiver outage, a database restart under load, and
//! the server killed with SIGKILL under load (repeatedly).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use switchyard_engine::embedded::{EmbeddedOptions, EmbeddedPostgres};
use switchyard_engine::store;

use crate::embedded::{free_port, wait_ready};
use crate::support::http::{read, test_worker};
use crate::support::receiver::{Receiver, Reply};
use crate::support::{eventually, TestApp};

/// One action per transition, retried every 250 ms, 20 attempts in all.
fn patient_action(connection: &str) -> Value {
    json!([{"name": "call", "action_type": "WEBHOOK",
            "retry": {"max_attempts": 20, "schedule": ["0s", "250ms"]},
            "payload_template": {"connection_id": connection, "path": "/x", "body": {"job": "{{job.id}}"}}}])
}

/// Every ledger row of the tenant.
async fn ledger(app: &TestApp) -> Vec<Value> {
    let (_, page) = app.get("/api/v1/ledger?limit=1000", &app.key).await;
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_receiver_outage_is_ridden_out_and_the_ledger_matches_what_was_sent() {
    let port = free_port();
    let app = TestApp::spawn().await;
    let conn = app
        .rest_connection(&format!("http://127.0.0.1:{port}"))
        .await;
    app.publish_actions("outage", patient_action(&conn)).await;
    let mut jobs = Vec::new();
    for _ in 0..10 {
        jobs.push(app.run("outage", "go", json!({})).await);
    }
    // Nothing listens yet: attempts are refused and retried.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let receiver =
        Receiver::start_at(&format!("127.0.0.1:{port}"), |_, _| Reply::status(200)).await;

    let mut attempts = 0;
    let mut run_ids = HashSet::new();
    for job in &jobs {
        for run in app.settled_actions(job).await {
            assert_eq!(run["status"], "succeeded", "{run}");
            assert!(
                run["attempts"].as_i64().unwrap() > 1,
                "it waited out the outage: {run}"
            );
            attempts += run["attempts"].as_i64().unwrap();
            run_ids.insert(run["id"].as_str().unwrap().to_string());
        }
    }
    let rows = ledger(&app).await;
    assert_eq!(rows.len() as i64, attempts, "one ledger row per attempt");
    let delivered: Vec<&Value> = rows.iter().filter(|r| r["status_code"] == 200).collect();
    let received = receiver.requests();
    assert_eq!(
        delivered.len(),
        received.len(),
        "200 rows match what arrived"
    );
    assert!(rows
        .iter()
        .filter(|r| r["status_code"].is_null())
        .all(|r| r["outcome"] == "network_error"));
    let keys: HashSet<String> = received
        .iter()
        .map(|r| r.header("idempotency-key").to_string())
        .collect();
    assert_eq!(keys, run_ids, "every action arrived");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_restart_under_load_answers_503_then_recovers_and_loses_nothing() {
    let dir = std::env::temp_dir().join("switchyard-tests").join(format!(
        "dbrestart-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let options = EmbeddedOptions {
        data_dir: dir.clone(),
        throwaway: true,
        port: Some(free_port()),
    };
    let cluster = EmbeddedPostgres::start(options.clone(), "switchyard")
        .await
        .unwrap();
    let url = cluster.url("switchyard");
    let pool = store::connect(&url, 2).unwrap();
    store::migrate(&pool).await.unwrap();
    pool.close();

    let receiver = Receiver::ok().await;
    let app = TestApp::spawn_on(&url, test_worker(Default::default(), true)).await;
    let conn = app.rest_connection(&receiver.url("")).await;
    app.publish_actions("steady", patient_action(&conn)).await;
    let mut jobs = Vec::new();
    for _ in 0..4 {
        jobs.push(
            app.create_job("steady").await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }

    // Four clients transition their own job again and again.
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let statuses: Arc<Mutex<HashMap<u16, usize>>> = Arc::default();
    let slowest: Arc<Mutex<Duration>> = Arc::default();
    let clients: Vec<_> = jobs
        .iter()
        .map(|job| {
            let (app_base, key, job) = (app.base.clone(), app.key.clone(), job.clone());
            let (stop, acknowledged, statuses, slowest) = (
                stop.clone(),
                acknowledged.clone(),
                statuses.clone(),
                slowest.clone(),
            );
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                while !stop.load(Ordering::SeqCst) {
                    let started = Instant::now();
                    let resp = http
                        .post(format!("{app_base}/api/v1/jobs/{job}/transitions"))
                        .bearer_auth(&key)
                        .json(&json!({"transition": "again"}))
                        .timeout(Duration::from_secs(30))
                        .send()
                        .await
                        .expect("the server answers");
                    // `read` also checks that an error is problem+json.
                    let (status, body) = read(resp).await;
                    let status = status.as_u16();
                    {
                        let mut s = slowest.lock().unwrap();
                        *s = (*s).max(started.elapsed());
                    }
                    *statuses.lock().unwrap().entry(status).or_default() += 1;
                    match status {
                        200 => acknowledged.lock().unwrap().push((
                            job.clone(),
                            body["event"]["id"].as_str().unwrap().to_string(),
                        )),
                        503 => {
                            assert_eq!(body["status"], 503, "{body}");
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                        other => panic!("unexpected {other}: {body}"),
                    }
                }
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(700)).await;
    drop(cluster); // a clean, fast stop of PostgreSQL
    let outage_started = Instant::now();
    eventually(
        "readyz to report the outage",
        Duration::from_secs(10),
        || async {
            let resp = app.http.get(app.url("/readyz")).send().await.ok()?;
            (resp.status() == StatusCode::SERVICE_UNAVAILABLE).then_some(())
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500).saturating_sub(outage_started.elapsed())).await;
    let cluster = EmbeddedPostgres::start(options, "switchyard")
        .await
        .unwrap();
    let restarted = Instant::now();
    eventually("readyz to recover", Duration::from_secs(15), || async {
        let resp = app.http.get(app.url("/readyz")).send().await.ok()?;
        (resp.status() == StatusCode::OK).then_some(())
    })
    .await;
    let recovered_in = restarted.elapsed();
    // Transitions succeed again by themselves.
    let before = acknowledged.lock().unwrap().len();
    eventually(
        "transitions to succeed again",
        Duration::from_secs(15),
        || async { (acknowledged.lock().unwrap().len() > before + 10).then_some(()) },
    )
    .await;
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.expect("no client panicked");
    }

    let statuses = statuses.lock().unwrap().clone();
    assert!(
        statuses.get(&503).copied().unwrap_or(0) > 0,
        "the outage was seen: {statuses:?}"
    );
    assert!(
        *slowest.lock().unwrap() < Duration::from_secs(10),
        "no request hung"
    );
    assert!(recovered_in < Duration::from_secs(15));

    // Nothing acknowledged is lost: each 2xx event is in its job's stream, and every action
    // of those transitions is delivered.
    let acknowledged = acknowledged.lock().unwrap().clone();
    for job in &jobs {
        let (_, events) = app
            .get(&format!("/api/v1/jobs/{job}/events?limit=1000"), &app.key)
            .await;
        let ids: HashSet<&str> = events["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap())
            .collect();
        for (_, event) in acknowledged.iter().filter(|(j, _)| j == job) {
            assert!(
                ids.contains(event.as_str()),
                "acknowledged event {event} is in the log"
            );
        }
        for run in app.settled_actions(job).await {
            assert_eq!(run["status"], "succeeded", "{run}");
        }
    }
    let (_, verify) = app.get("/api/v1/events/verify", &app.key).await;
    assert_eq!(verify["ok"], true, "{verify}");
    drop(cluster);
    let _ = std::fs::remove_dir_all(dir);
}

/// `switchyard serve` on `data` at `port`, allowed to reach the local receiver.
fn spawn_serve(data: &std::path::Path, port: u16) -> std::process::Child {
    std::process::Command::new(crate::embedded::binary())
        .args([
            "--data-dir",
            data.to_str().unwrap(),
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("RUST_LOG", "error")
        .env("SWITCHYARD_ALLOW_PRIVATE_TARGETS", "true")
        .env_remove("DATABASE_URL")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_server_under_load_loses_no_acknowledged_transition_and_no_action() {
    let data = std::env::temp_dir().join("switchyard-tests").join(format!(
        "kill9-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
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
    let mut server = spawn_serve(&data, port);
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
    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let (base, key, stop, acknowledged) = (
                base.clone(),
                key.clone(),
                stop.clone(),
                acknowledged.clone(),
            );
            let mine = [jobs[2 * c].clone(), jobs[2 * c + 1].clone()];
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    let job = &mine[n % 2];
                    n += 1;
                    let sent = http
                        .post(format!("{base}/api/v1/jobs/{job}/transitions"))
                        .bearer_auth(&key)
                        .json(&json!({"transition": "again"}))
                        .timeout(Duration::from_secs(10))
                        .send()
                        .await;
                    match sent {
                        Ok(resp) if resp.status().is_success() => {
                            if let Ok(body) = resp.json::<Value>().await {
                                let event = body["event"]["id"].as_str().unwrap().to_string();
                                acknowledged.lock().unwrap().push((job.clone(), event));
                            }
                        }
                        _ => tokio::time::sleep(Duration::from_millis(50)).await,
                    }
                }
            })
        })
        .collect();

    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        crate::embedded::kill9(server.id() as i32);
        server.wait().unwrap();
        server = spawn_serve(&data, port);
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

    let get = |path: String| {
        let req = http.get(format!("{base}{path}")).bearer_auth(&key);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let mut all_runs = HashSet::new();
    for job in &jobs {
        // Runs held by a killed process come back when their lease expires.
        let runs = eventually(
            "the job's actions to finish",
            Duration::from_secs(120),
            || async {
                let runs = get(format!("/api/v1/jobs/{job}/actions")).await["items"]
                    .as_array()
                    .cloned()?;
                runs.iter()
                    .all(|r| r["status"] == "succeeded")
                    .then_some(runs)
            },
        )
        .await;
        let events = get(format!("/api/v1/jobs/{job}/events?limit=1000")).await["items"]
            .as_array()
            .unwrap()
            .clone();
        let ids: HashSet<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
        for (_, event) in acknowledged.iter().filter(|(j, _)| j == job) {
            assert!(
                ids.contains(event.as_str()),
                "acknowledged {event} is in the log"
            );
        }
        for run in &runs {
            let id = run["id"].as_str().unwrap();
            let finals = events
                .iter()
                .filter(|e| {
                    matches!(
                        e["type"].as_str(),
                        Some("action.succeeded" | "action.failed" | "action.skipped")
                    ) && e["data"]["action_run_id"] == id
                })
                .count();
            assert_eq!(finals, 1, "action {id} has exactly one final outcome");
            all_runs.insert(id.to_string());
        }
    }
    let keys: HashSet<String> = receiver
        .requests()
        .iter()
        .map(|r| r.header("idempotency-key").to_string())
        .collect();
    assert_eq!(
        keys, all_runs,
        "each action arrived, once after de-duplicating by key"
    );
    let verify = get("/api/v1/events/verify".into()).await;
    assert_eq!(verify["ok"], true, "{verify}");

    // SAFETY: sending a signal has no memory-safety preconditions.
    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    server.wait().unwrap();
    let _ = std::fs::remove_dir_all(&data);
}

//! PostgreSQL stops and starts under load: 503s meanwhile, recovery by itself, nothing lost.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use switchyard_engine::embedded::{EmbeddedOptions, EmbeddedPostgres};
use switchyard_engine::store;

use super::patient_action;
use crate::embedded::free_port;
use crate::support::http::{read, test_worker};
use crate::support::receiver::Receiver;
use crate::support::{eventually, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_restart_under_load_answers_503_then_recovers_and_loses_nothing() {
    let dir = crate::support::scratch_dir("dbrestart");
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

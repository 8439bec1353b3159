//! Faults that must lose nothing: a receiver outage, a database restart under load, and
//! the server killed with SIGKILL under load (repeatedly).

mod database_restart;
mod receiver_outage;
mod rolling_restart;
mod scale_out;
mod sigkill;
mod storage_full;
mod timers;

use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

use crate::embedded::binary;
use crate::support::TestApp;
/// A `switchyard` process on the shared database.
pub fn spawn(db_url: &str, key: &str, args: &[&str]) -> Child {
    Command::new(binary())
        .args(args)
        .env("DATABASE_URL", db_url)
        .env("INTEGRATION_SECRET_ENCRYPTION_KEY", key)
        .env("SWITCHYARD_ALLOW_PRIVATE_TARGETS", "true")
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

pub fn serve(db_url: &str, key: &str, port: u16) -> Child {
    let listen = format!("127.0.0.1:{port}");
    spawn(db_url, key, &["serve", "--listen", &listen])
}

/// One action per transition, retried every 250 ms, 20 attempts in all.
pub fn patient_action(connection: &str) -> Value {
    json!([{"name": "call", "action_type": "WEBHOOK",
            "retry": {"max_attempts": 20, "schedule": ["0s", "250ms"]},
            "payload_template": {"connection_id": connection, "path": "/x", "body": {"job": "{{job.id}}"}}}])
}

/// A tenant made with the binary; its API key.
pub fn tenant(db_url: &str, secret: &str, name: &str) -> String {
    let out = spawn(db_url, secret, &["tenant", "create", "--name", name])
        .wait_with_output()
        .unwrap();
    assert!(out.status.success());
    serde_json::from_slice::<Value>(&out.stdout).unwrap()["api_key"]
        .as_str()
        .unwrap()
        .to_string()
}

/// POSTs `body` with `key`; asserts a 2xx and returns the answer.
pub async fn post(http: &reqwest::Client, key: &str, url: String, body: Value) -> Value {
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

/// Sets up a connection to `receiver` and a workflow `name` whose one transition, `again`,
/// sends one [`patient_action`]; returns `jobs` new jobs.
pub async fn looping_workflow(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    receiver: &crate::support::receiver::Receiver,
    name: &str,
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
        json!({"name": name, "initial": "open", "states": [{"name": "open"}],
               "transitions": [{"name": "again", "from": ["open"], "to": "open", "actions": patient_action(&conn)}]}),
    )
    .await;
    let mut ids = Vec::new();
    for _ in 0..jobs {
        let job = post(
            http,
            key,
            format!("{base}/api/v1/jobs"),
            json!({"workflow": name}),
        )
        .await;
        ids.push(job["id"].as_str().unwrap().to_string());
    }
    ids
}

/// Every ledger row of the tenant.
pub async fn ledger(app: &TestApp) -> Vec<Value> {
    let (_, page) = app.get("/api/v1/ledger?limit=1000", &app.key).await;
    page["items"].as_array().unwrap().clone()
}

/// Transitions acknowledged with a 2xx answer: (job, event id).
pub type Acknowledged = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// Four clients transitioning two jobs each (`again`) until `stop`; client `c` talks to
/// `bases[c % bases.len()]`. Only 2xx answers are recorded as acknowledged; failures (a
/// server being killed) are retried after a moment.
pub fn transition_load(
    bases: &[String],
    key: &str,
    jobs: &[String],
    stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
    acknowledged: &Acknowledged,
) -> Vec<tokio::task::JoinHandle<()>> {
    paced_transition_load(
        bases,
        key,
        jobs,
        stop,
        acknowledged,
        std::time::Duration::ZERO,
    )
}

/// [`transition_load`], each client pausing `pause` after each acknowledged transition.
pub fn paced_transition_load(
    bases: &[String],
    key: &str,
    jobs: &[String],
    stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
    acknowledged: &Acknowledged,
    pause: std::time::Duration,
) -> Vec<tokio::task::JoinHandle<()>> {
    use std::sync::atomic::Ordering;
    (0..4)
        .map(|c| {
            let base = bases[c % bases.len()].clone();
            let (key, stop, acknowledged) = (key.to_string(), stop.clone(), acknowledged.clone());
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
                        .timeout(std::time::Duration::from_secs(10))
                        .send()
                        .await;
                    match sent {
                        Ok(resp) if resp.status().is_success() => {
                            if let Ok(body) = resp.json::<Value>().await {
                                let event = body["event"]["id"].as_str().unwrap().to_string();
                                acknowledged.lock().unwrap().push((job.clone(), event));
                            }
                            tokio::time::sleep(pause).await;
                        }
                        _ => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
                    }
                }
            })
        })
        .collect()
}

/// Asserts, through the API at `base`, that nothing was lost: every acknowledged
/// transition is in its job's log, every action run succeeded with exactly one final
/// outcome, and `receiver`, de-duplicating by Idempotency-Key, saw each action once.
pub async fn assert_nothing_lost(
    base: &str,
    key: &str,
    jobs: &[String],
    acknowledged: &[(String, String)],
    receiver: &crate::support::receiver::Receiver,
) {
    use std::collections::HashSet;
    let http = reqwest::Client::new();
    let get = |path: String| {
        let req = http.get(format!("{base}{path}")).bearer_auth(key);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let mut all_runs = HashSet::new();
    for job in jobs {
        // Runs held by a killed process come back when their lease expires.
        let runs = crate::support::eventually(
            "the job's actions to finish",
            std::time::Duration::from_secs(120),
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
}

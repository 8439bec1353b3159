//! Intake throughput: verified requests that each move a job. An endpoint signing as
//! GitHub does (HMAC-SHA256 of the body) routes `{"job": id}` to the job's `tick`; each
//! request has a delivery id of its own, so each is a new receipt and a new transition.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use super::load::closed_loop;
use super::setup::Bench;
use super::stats::Figures;

/// Requests in flight: a tenant's intake bound in one process
/// ([`crate::throttle::INTAKE_IN_FLIGHT_PER_TENANT`]), so that none is refused for it.
pub const CONCURRENCY: usize = crate::throttle::INTAKE_IN_FLIGHT_PER_TENANT;

/// Closed-loop signed requests for `duration`, each applying `tick` to one of the jobs.
pub async fn measure(bench: &Bench, duration: Duration) -> anyhow::Result<Figures> {
    let endpoint = bench
        .post_json(
            "/api/v1/intake",
            json!({"name": "bench", "verify": {"scheme": "github"},
                   "routes": [{"job": {"id": "{{body.job}}", "workflow": "bench_tick"},
                               "transition": "tick", "data": {"n": "{{body.n}}"}}]}),
        )
        .await?;
    let secret = endpoint["secret"].as_str().unwrap_or_default().to_string();
    let path = format!("/in/{}", endpoint["id"].as_str().unwrap_or_default());
    // The endpoint's address on each server, and the jobs to move, one set per worker.
    let urls: Arc<Vec<String>> = Arc::new(bench.urls(&path));
    let jobs = Arc::new(bench.tick_jobs.clone());
    let per_worker = jobs.len() / CONCURRENCY;
    let http = bench.http();
    let key = Arc::new(secret);
    Ok(closed_loop(
        "intake: signed requests, each moving a job",
        CONCURRENCY,
        duration,
        move |w, n| {
            let (http, urls, jobs, key) = (http.clone(), urls.clone(), jobs.clone(), key.clone());
            async move {
                let job = &jobs[w * per_worker + (n as usize % per_worker)];
                let body = json!({"job": job, "n": n}).to_string();
                let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key");
                mac.update(body.as_bytes());
                let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
                let resp = http
                    .post(&urls[w % urls.len()])
                    .header("content-type", "application/json")
                    .header("x-hub-signature-256", signature)
                    .header("x-github-delivery", format!("{w}-{n}"))
                    .body(body)
                    .send()
                    .await;
                let Ok(resp) = resp else { return false };
                let answer: serde_json::Value = resp.json().await.unwrap_or_default();
                answer["outcome"] == "applied"
            }
        },
    )
    .await)
}

//! The isolation measurement: the bench tenant's commit-to-arrival alone, then again next
//! to a noisy tenant whose every action's target answers after [`SLOW`], with at least
//! twice the worker's concurrency of them outstanding throughout. Fair share should keep
//! the quiet tenant's p99 within twice its p99 alone.

use std::time::Duration;

use serde_json::{json, Value};
use switchyard_engine::api_key::{self, Scope};
use switchyard_engine::{tenant, Actor};

use super::setup::{workflow, Bench};

/// How long the noisy tenant's target takes to answer.
pub const SLOW: Duration = Duration::from_secs(5);

/// The quiet tenant's offered rate, alone and with the neighbour.
const QUIET_RATE: f64 = 20.0;

/// Measures alone, then with the noisy neighbour; `slots` is the worker concurrency of
/// every server together.
pub async fn measure(bench: &Bench, slots: usize, duration: Duration) -> anyhow::Result<Value> {
    eprintln!("measuring isolation: {QUIET_RATE:.0} actions/s alone…");
    let alone = super::latency(bench, QUIET_RATE, duration).await?;
    // Enough slow actions to outlast the measurement with the neighbour holding all the
    // slots fair share lets it, and never fewer than twice the slots.
    let holding = slots.saturating_sub(slots / 8).max(1);
    let waves = (duration.as_secs_f64() / SLOW.as_secs_f64()).ceil() as usize + 2;
    let noisy_actions = (holding * waves).max(2 * slots);
    eprintln!(
        "measuring isolation: next to a tenant with {noisy_actions} actions answering after {}s…",
        SLOW.as_secs()
    );
    noisy_neighbour(bench, noisy_actions).await?;
    let crowded = super::latency(bench, QUIET_RATE, duration).await?;
    let p99 = |v: &Value| v["figures"]["p99_ms"].as_f64();
    let ratio = match (p99(&crowded), p99(&alone)) {
        (Some(crowded), Some(alone)) if alone > 0.0 => {
            Some((crowded / alone * 100.0).round() / 100.0)
        }
        _ => None,
    };
    Ok(json!({
        "quiet_offered_per_second": QUIET_RATE,
        "noisy_actions": noisy_actions,
        "noisy_target_seconds": SLOW.as_secs(),
        "worker_slots": slots,
        "alone": alone["figures"],
        "with_noisy_neighbour": crowded["figures"],
        "p99_ratio": ratio,
    }))
}

/// A second tenant whose `actions` transitions each call the receiver's slow path.
async fn noisy_neighbour(bench: &Bench, actions: usize) -> anyhow::Result<()> {
    let tenant_id = tenant::create(&bench.pool, "bench noisy neighbour").await?;
    let (_, key) = api_key::create(
        &bench.pool,
        &Actor::operator(tenant_id),
        "noisy",
        &[Scope::Full],
    )
    .await?;
    let key = key.expose().to_string();
    let connection = bench
        .post_as(
            &key,
            "/api/v1/tenant/connections",
            json!({"provider": "generic_rest", "connection_name": "slow receiver",
                   "credentials": {"base_url": bench.receiver.url("")}}),
        )
        .await?;
    let action = json!([{"name": "slow", "action_type": "WEBHOOK", "timeout_ms": 60000,
        "retry": {"max_attempts": 1},
        "payload_template": {"connection_id": connection["id"], "path": "/slow", "body": {}}}]);
    bench
        .post_as(&key, "/api/v1/workflows", workflow("bench_noisy", action))
        .await?;
    for _ in 0..actions {
        let job = bench
            .post_as(&key, "/api/v1/jobs", json!({"workflow": "bench_noisy"}))
            .await?;
        let id = job["id"].as_str().unwrap_or_default();
        bench
            .post_as(
                &key,
                &format!("/api/v1/jobs/{id}/transitions"),
                json!({"transition": "tick"}),
            )
            .await?;
    }
    Ok(())
}

//! The narrated walk of one job through `field_service_job_notified`.

use std::time::Duration;

use serde_json::{json, Value};
use switchyard_engine::job::create::{self, CreateJob, Created};
use switchyard_engine::job::outbox;
use switchyard_engine::job::transition::{self, TransitionRequest};
use switchyard_engine::log::{read, verify};
use switchyard_engine::{ledger, Actor, JobId};

use super::catch_hook::CatchHook;
use crate::state::AppState;

/// Walks a job through its states, showing each delivered request and each outcome.
pub async fn walk(state: &AppState, actor: &Actor, hook: &CatchHook) -> anyhow::Result<()> {
    let pool = &state.pool;
    let cmd = CreateJob {
        workflow: "field_service_job_notified".into(),
        workflow_version: None,
        context: json!({ "customer": "Acme Boilers", "address": "12 Harbour Road" }),
        external_id: None,
    };
    let (Created::New(job) | Created::Existing(job), _) =
        create::create(pool, actor, &cmd, None).await?;
    say(&format!("created job {} in state '{}'", job.id, job.state));

    let step = |name: &str, data: Value| TransitionRequest {
        job_id: job.id,
        transition: Some(name.to_string()),
        to: None,
        data,
        expected_version: None,
    };
    if let Err(err) = transition::apply(pool, actor, &step("schedule", json!({})), None).await {
        say(&format!("schedule without a technician is refused: {err}"));
    }
    let mut shown = 0;
    for (name, data) in [
        ("schedule", json!({ "technician": "Ana" })),
        ("start", json!({})),
        ("complete", json!({ "signed_by": "R. Customer" })),
    ] {
        let (result, _) = transition::apply(pool, actor, &step(name, data), None).await?;
        state.committed();
        say(&format!(
            "{name}: now '{}' (version {}); {} action(s) queued after commit",
            result.job.state,
            result.job.version,
            result.actions.len()
        ));
        settle(state, actor, job.id).await?;
        for seen in hook.since(shown) {
            println!("      <- {}", seen.summary());
            shown += 1;
        }
    }

    let runs = outbox::list_for_job(pool, actor.tenant_id, job.id).await?;
    say("the job's actions:");
    for run in &runs {
        println!(
            "      {:<15} {:<9} attempts {} {}",
            run.name,
            run.progress.status,
            run.progress.attempts,
            run.progress.last_error.as_deref().unwrap_or("")
        );
    }
    let client = pool.get().await?;
    let events = read::stream(&client, actor.tenant_id, job.id.0, 0, 200).await?;
    say("the job's event log:");
    for e in &events {
        let detail = match e.event_type.as_str() {
            "job.transitioned" => format!("{} -> {}", e.data["from"], e.data["to"]),
            "action.skipped" => format!("{} ({})", e.data["name"], e.data["reason"]),
            t if t.starts_with("action.") => format!(
                "{} attempt {} status {}",
                e.data["name"], e.data["attempt"], e.data["status_code"]
            ),
            _ => String::new(),
        };
        println!(
            "      v{:<3} {:<23} {}",
            e.stream_version, e.event_type, detail
        );
    }
    for day in ledger::usage(pool, actor.tenant_id, None, None).await? {
        say(&format!(
            "ledger {} {}: {} requests ({} succeeded, {} failed), {} bytes out, {} bytes in",
            day.day, day.kind, day.requests, day.succeeded, day.failed, day.bytes_out, day.bytes_in
        ));
    }
    let verified = verify::verify(pool, Some(actor.tenant_id)).await?;
    say(&format!(
        "hash chains verified: ok={}, {} events in {} streams",
        verified.ok, verified.events_checked, verified.streams_checked
    ));
    Ok(())
}

/// Waits (at most 30 s) until none of the job's actions is waiting, pending or running.
async fn settle(state: &AppState, actor: &Actor, job: JobId) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let runs = outbox::list_for_job(&state.pool, actor.tenant_id, job).await?;
        let busy = runs.iter().any(|r| !r.progress.status.is_final());
        if !busy || tokio::time::Instant::now() > deadline {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn say(line: &str) {
    println!("  -> {line}");
}

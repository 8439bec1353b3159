//! The narrated timer of the demo: a `quote_follow_up` job left alone until its state's
//! timeout moves it on, as the actor `timer`, and its reminder reaches the catch hook.

use std::time::Duration;

use serde_json::json;
use switchyard_engine::job::create::{self, CreateJob, Created};
use switchyard_engine::job::read;
use switchyard_engine::log::read as log_read;
use switchyard_engine::Actor;

use super::catch_hook::CatchHook;
use crate::state::AppState;

/// Creates the quote, waits (at most 30 s) for its timer to fire and its reminder to be
/// delivered, and shows the job's timer events.
pub async fn walk(state: &AppState, actor: &Actor, hook: &CatchHook) -> anyhow::Result<()> {
    let pool = &state.pool;
    let shown = hook.since(0).len();
    let cmd = CreateJob {
        workflow: "quote_follow_up".into(),
        workflow_version: None,
        context: json!({ "customer": "Acme Boilers" }),
        external_id: None,
    };
    let (Created::New(job) | Created::Existing(job), _) =
        create::create(pool, actor, &cmd, None).await?;
    state.committed_events();
    say(&format!(
        "created quote {} in state '{}'; nobody answers, so its 3-second timeout will",
        job.id, job.state
    ));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let now = read::get(pool, actor.tenant_id, job.id).await?;
        let reminded = hook.since(shown).len();
        if now.is_some_and(|j| j.state == "follow_up") && reminded > 0 {
            break;
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "the quote's timer did not fire within 30 seconds"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for seen in hook.since(shown) {
        println!("      <- {}", seen.summary());
    }
    let client = pool.get().await?;
    let events = log_read::stream(&client, actor.tenant_id, job.id.0, 0, 50).await?;
    say("the quote's event log:");
    for e in &events {
        let detail = match e.event_type.as_str() {
            "timer.scheduled" => format!("{} due {}", e.data["transition"], e.data["due_at"]),
            "timer.fired" => format!("{} ({} ms late)", e.data["transition"], e.data["late_ms"]),
            "job.transitioned" => format!(
                "{} -> {} by {}",
                e.data["from"],
                e.data["to"],
                e.metadata["actor"].as_str().unwrap_or("a service")
            ),
            _ => String::new(),
        };
        println!(
            "      v{:<3} {:<23} {}",
            e.stream_version, e.event_type, detail
        );
    }
    Ok(())
}

fn say(line: &str) {
    println!("  -> {line}");
}

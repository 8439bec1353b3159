//! `switchyard demo`: a demo tenant and key, the fixture workflows, a narrated walk of one
//! job through its states, then the API keeps serving so the README's curl walk-through
//! can continue with the printed key.

use anyhow::Context;
use serde_json::{json, Value};
use switchyard_engine::api_key::{self, Scope};
use switchyard_engine::job::create::{self, CreateJob, Created};
use switchyard_engine::job::transition::{self, TransitionRequest};
use switchyard_engine::log::{read, verify};
use switchyard_engine::{tenant, workflow, Actor, Pool};

use crate::config::{Cli, ServeArgs};
use crate::database;
use crate::server;
use crate::state::AppState;

const FIELD_SERVICE: &str = include_str!("../../../fixtures/workflows/field_service_job.json");
const APPROVAL: &str = include_str!("../../../fixtures/workflows/purchase_approval.json");

/// Runs the demo, then serves until Ctrl-C.
pub async fn run(cli: &Cli, args: &ServeArgs) -> anyhow::Result<()> {
    let keyring = database::keyring(&cli.database, &cli.vault)?;
    let database = database::open(&cli.database).await?;
    let pool = database.pool.clone();
    // Bind first: a busy port should fail before anything is written.
    let (acceptor, addr) = server::bind(&args.listen).await.with_context(|| {
        format!(
            "listening on {} (set --listen or SWITCHYARD_LISTEN)",
            args.listen
        )
    })?;

    let tenant_id = tenant::create(&pool, "demo").await?;
    let actor = Actor::operator(tenant_id);
    let (_, key) = api_key::create(&pool, &actor, "demo full key", &[Scope::Full]).await?;
    for fixture in [FIELD_SERVICE, APPROVAL] {
        let doc: Value = serde_json::from_str(fixture)?;
        let published = workflow::publish(&pool, &actor, &doc).await?;
        say(&format!(
            "published workflow {} v{}",
            published.name, published.version
        ));
    }
    walk_through(&pool, &actor).await?;

    println!();
    println!("Switchyard is serving on http://{addr}  (API docs: http://{addr}/docs)");
    println!("The demo tenant's full-access key (shown once):");
    println!();
    println!("  export SWITCHYARD_URL=http://{addr}");
    println!("  export SWITCHYARD_KEY={}", key.expose());
    println!();
    println!("then follow the curl walk-through in README.md. Press Ctrl-C to stop.");
    let state = AppState::new(pool, keyring, cli.providers.endpoints());
    server::run(acceptor, state, super::shutdown_signal()).await?;
    drop(database);
    Ok(())
}

async fn walk_through(pool: &Pool, actor: &Actor) -> anyhow::Result<()> {
    let cmd = CreateJob {
        workflow: "field_service_job".into(),
        workflow_version: None,
        context: json!({ "customer": "Acme Boilers", "address": "12 Harbour Road" }),
        external_id: None,
    };
    let (created, _) = create::create(pool, actor, &cmd, None).await?;
    let job = match created {
        Created::New(job) | Created::Existing(job) => job,
    };
    say(&format!("created job {} in state '{}'", job.id, job.state));

    let step = |name: &str, data: Value| TransitionRequest {
        job_id: job.id,
        transition: Some(name.to_string()),
        to: None,
        data,
        expected_version: None,
    };
    match transition::apply(pool, actor, &step("schedule", json!({})), None).await {
        Err(err) => say(&format!("schedule without a technician is refused: {err}")),
        Ok(_) => anyhow::bail!("the guard on 'schedule' should have refused a missing technician"),
    }
    for (name, data) in [
        ("schedule", json!({ "technician": "Ana" })),
        ("start", json!({})),
        ("complete", json!({ "signed_by": "R. Customer" })),
    ] {
        let (result, _) = transition::apply(pool, actor, &step(name, data), None).await?;
        say(&format!(
            "{name}: now '{}' at version {} (event #{}, hash {}…)",
            result.job.state,
            result.job.version,
            result.event.position,
            &result.event.hash[..12]
        ));
    }
    match transition::apply(pool, actor, &step("cancel", json!({})), None).await {
        Err(err) => say(&format!("cancel after completion is refused: {err}")),
        Ok(_) => anyhow::bail!("a completed job should not be cancellable"),
    }

    let client = pool.get().await?;
    let events = read::stream(&client, actor.tenant_id, job.id.0, 0, 100).await?;
    say("the job's event stream:");
    for e in &events {
        println!(
            "      v{} {:<17} {}",
            e.stream_version, e.event_type, e.data
        );
    }
    let verified = verify::verify(pool, Some(actor.tenant_id)).await?;
    say(&format!(
        "hash chains verified: ok={}, {} events in {} streams",
        verified.ok, verified.events_checked, verified.streams_checked
    ));
    Ok(())
}

fn say(line: &str) {
    println!("  -> {line}");
}

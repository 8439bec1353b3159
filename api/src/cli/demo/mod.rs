//! `switchyard demo`: the embedded database, a demo tenant and key, connections to a local
//! catch-hook receiver, the fixture workflows, a narrated walk of one job (with each
//! delivered request, a failing action and its retries), a quote whose state timeout
//! fires, a text message whose delivery Twilio (a stand-in) reports back through an
//! intake endpoint, then the API and worker keep serving so the README's curl
//! walk-through can continue.

mod catch_hook;
mod sms_walk;
mod timer_walk;
mod walk;

use anyhow::Context;
use serde_json::{json, Value};
use switchyard_actions::connections::{self, ConnectionInput};
use switchyard_engine::api_key::{self, Scope};
use switchyard_engine::user::{self, password, Role};
use switchyard_engine::{tenant, workflow, Actor};

use crate::config::{Cli, DemoArgs};
use crate::database;
use crate::server;
use crate::state::AppState;
use catch_hook::CatchHook;
use sms_walk::DEMO_TWILIO_TOKEN;

const FIELD_SERVICE: &str = include_str!("../../../../fixtures/workflows/field_service_job.json");
const APPROVAL: &str = include_str!("../../../../fixtures/workflows/purchase_approval.json");
const NOTIFIED: &str =
    include_str!("../../../../fixtures/workflows/field_service_job_notified.json");
const QUOTE: &str = include_str!("../../../../fixtures/workflows/quote_follow_up.json");

/// The demo webhook connection's signing secret (demo data, not a credential).
const DEMO_SIGNING_SECRET: &str = "demo-signing-secret";

/// Runs the demo, then serves until Ctrl-C.
pub async fn run(cli: &Cli, args: &DemoArgs) -> anyhow::Result<()> {
    let shutdown = super::shutdown_signal();
    let keyring = database::keyring(&cli.database, &cli.vault)?;
    let mut worker_config = cli.worker.config(&cli.providers)?;
    // The demo's receiver is on 127.0.0.1, which actions may not reach by default.
    worker_config.policy.allow_private = true;
    let database = database::open(&cli.database).await?;
    worker_config.listen = Some(database.url.clone());
    // Bind first: a busy port should fail before anything is written.
    let (acceptor, addr) = server::bind(&args.serve.listen).await.with_context(|| {
        format!(
            "listening on {} (set --listen or SWITCHYARD_LISTEN)",
            args.serve.listen
        )
    })?;
    let hook = CatchHook::start(&args.hook_listen, DEMO_SIGNING_SECRET, DEMO_TWILIO_TOKEN)
        .await
        .with_context(|| {
            format!(
                "catch-hook receiver on {} (set --hook-listen or SWITCHYARD_DEMO_HOOK_LISTEN)",
                args.hook_listen
            )
        })?;
    // The demo texts through the receiver's stand-in for Twilio.
    worker_config.endpoints.twilio_base = hook.url(catch_hook::TWILIO_PREFIX);
    let state = AppState::new(database.pool.clone(), keyring, &worker_config)?
        .with_limits(args.serve.limits())
        .with_public_url(args.serve.public_url.clone())?;
    let (stop_worker, worker) = super::serve::spawn_worker(&state, worker_config)?;
    // The API serves from the start: the walk's Twilio callbacks arrive through it.
    let api = tokio::spawn(server::run(acceptor, state.clone(), shutdown));
    say(&format!(
        "a catch-hook receiver (standing in for your CRM, Zapier and Twilio) listens on {}",
        hook.url("")
    ));

    let tenant_id = tenant::create(&state.pool, "demo").await?;
    let actor = Actor::operator(tenant_id);
    let (_, key) = api_key::create(&state.pool, &actor, "demo full key", &[Scope::Full]).await?;
    // Every demo run makes a new tenant, so its admin's email carries the tenant's id.
    let email = format!("demo-{}@example.com", &tenant_id.to_string()[..8]);
    let password = password::generate();
    user::create(&state.pool, &actor, &email, Role::Admin, &password).await?;
    let crm = connections::create(
        &state.pool,
        &state.sealer(),
        &actor,
        ConnectionInput {
            provider: "generic_rest".into(),
            connection_name: "Demo CRM".into(),
            credentials: json!({ "base_url": hook.url(""), "auth_header": "Bearer demo-crm-token" }),
            limits: Default::default(),
        },
    )
    .await?;
    let zapier = connections::create(
        &state.pool,
        &state.sealer(),
        &actor,
        ConnectionInput {
            provider: "webhook".into(),
            connection_name: "Demo Zapier catch hook".into(),
            credentials: json!({ "webhook_url": hook.url("/hooks/catch/demo"), "signing_secret": DEMO_SIGNING_SECRET }),
            limits: Default::default(),
        },
    )
    .await?;
    say(&format!(
        "connections: 'Demo CRM' {} and 'Demo Zapier catch hook' {} (credentials encrypted)",
        crm.id, zapier.id
    ));

    let notified = NOTIFIED
        .replace("$CRM_CONNECTION_ID", &crm.id.to_string())
        .replace("$ZAPIER_CONNECTION_ID", &zapier.id.to_string());
    let quote = QUOTE.replace("$CRM_CONNECTION_ID", &crm.id.to_string());
    for fixture in [FIELD_SERVICE, APPROVAL, notified.as_str(), quote.as_str()] {
        let doc: Value = serde_json::from_str(fixture)?;
        let published = workflow::publish(&state.pool, &actor, &doc).await?;
        say(&format!(
            "published workflow {} v{}",
            published.name, published.version
        ));
    }
    walk::walk(&state, &actor, &hook).await?;
    timer_walk::walk(&state, &actor, &hook).await?;
    let base = match &state.public_url {
        Some(base) => base.to_string(),
        None => format!("http://{addr}"),
    };
    sms_walk::walk(&state, &actor, &base).await?;
    hook.narrate();

    println!();
    println!("Switchyard is serving on http://{addr}  (API docs: http://{addr}/docs)");
    println!("The demo tenant's full-access key (shown once):");
    println!();
    println!("  export SWITCHYARD_URL=http://{addr}");
    println!("  export SWITCHYARD_KEY={}", key.expose());
    println!();
    println!("The console: http://{addr}/admin  (an admin of the demo tenant, shown once)");
    println!("  email:    {email}");
    println!("  password: {password}");
    println!();
    println!(
        "The catch-hook receiver stays on {} (signing secret '{DEMO_SIGNING_SECRET}') and prints what reaches it.",
        hook.url("")
    );
    let env_file = write_env_file(
        &cli.database.data_dir,
        &addr.to_string(),
        key.expose(),
        &hook.url(""),
    )?;
    println!(
        "The walk-through in README.md reads these from {}. Press Ctrl-C to stop.",
        env_file.display()
    );
    api.await.context("the API task")??;
    let _ = stop_worker.send(true);
    let _ = worker.await;
    drop(database);
    Ok(())
}

/// Writes the demo's address, key and receiver as shell exports to `demo.env` in the data
/// directory (readable by its owner only), so that the README's walk-through, run in
/// another terminal, works in the demo's tenant: what it creates shows in the console the
/// demo signed you into.
fn write_env_file(
    data_dir: &std::path::Path,
    addr: &str,
    key: &str,
    hook: &str,
) -> anyhow::Result<std::path::PathBuf> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join("demo.env");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    writeln!(file, "export SWITCHYARD_URL=http://{addr}")?;
    writeln!(file, "export SWITCHYARD_KEY={key}")?;
    writeln!(file, "export SWITCHYARD_HOOK_URL={hook}")?;
    Ok(path)
}

fn say(line: &str) {
    println!("  -> {line}");
}

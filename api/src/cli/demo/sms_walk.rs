//! The narrated round trip of intake: a job texts a customer through the `twilio`
//! provider (the catch hook standing in for Twilio), and Twilio's signed status callbacks,
//! posted to an intake endpoint, move the job from `sms_sent` to `sms_delivered`.

use std::time::Duration;

use serde_json::{json, Value};
use switchyard_actions::connections::{self, ConnectionInput};
use switchyard_actions::intake::endpoints::{self, EndpointInput};
use switchyard_engine::intake::receipt;
use switchyard_engine::job::create::{self, CreateJob, Created};
use switchyard_engine::job::transition::{self, TransitionRequest};
use switchyard_engine::job::Job;
use switchyard_engine::{workflow, Actor};

use super::say;
use crate::state::AppState;

const SMS: &str = include_str!("../../../../fixtures/workflows/sms_delivery.json");
const TWILIO_STATUS: &str = include_str!("../../../../fixtures/intake/twilio_status.json");

/// The demo Twilio account's auth token (demo data, not a credential).
pub const DEMO_TWILIO_TOKEN: &str = "demo-twilio-auth-token";

/// Texts a customer and waits for Twilio's callbacks to move the job; `base` is the
/// address senders reach the API at.
pub async fn walk(state: &AppState, actor: &Actor, base: &str) -> anyhow::Result<()> {
    let pool = &state.pool;
    let twilio = connections::create(
        pool,
        &state.sealer(),
        actor,
        ConnectionInput {
            provider: "twilio".into(),
            connection_name: "Demo Twilio".into(),
            credentials: json!({"account_sid": "ACde000000000000000000000000000001",
                                "auth_token": DEMO_TWILIO_TOKEN}),
            limits: Default::default(),
        },
    )
    .await?;
    // The endpoint first (its address goes into the workflow), its routes once the
    // workflow they name is published.
    let spec: Value =
        serde_json::from_str(&TWILIO_STATUS.replace("$TWILIO_AUTH_TOKEN", DEMO_TWILIO_TOKEN))?;
    let input = EndpointInput {
        name: spec["name"].as_str().unwrap_or("Twilio").to_string(),
        verify: spec["verify"].clone(),
        routes: json!([]),
    };
    let endpoint = endpoints::create(pool, &state.keyring, actor, input)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .endpoint;
    let url = format!("{base}/in/{}", endpoint.id);
    let doc: Value = serde_json::from_str(
        &SMS.replace("$TWILIO_CONNECTION_ID", &twilio.id.to_string())
            .replace("$INTAKE_URL", &url),
    )?;
    let published = workflow::publish(pool, actor, &doc).await?;
    say(&format!(
        "published workflow {} v{}",
        published.name, published.version
    ));
    endpoints::update(
        pool,
        &state.keyring,
        actor,
        endpoint.id,
        None,
        None,
        Some(spec["routes"].clone()),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    say(&format!(
        "intake endpoint '{}' (scheme twilio) at {url}",
        endpoint.name
    ));

    let cmd = CreateJob {
        workflow: "sms_delivery".into(),
        workflow_version: None,
        context: json!({"phone": "+15558675310"}),
        external_id: None,
    };
    let (Created::New(job) | Created::Existing(job), _) =
        create::create(pool, actor, &cmd, None).await?;
    let send = TransitionRequest {
        job_id: job.id,
        transition: Some("send_sms".into()),
        to: None,
        data: json!({}),
        expected_version: None,
    };
    transition::apply(pool, actor, &send, None).await?;
    state.committed();
    say(&format!(
        "job {} texts +15558675310 through Twilio, asking for status callbacks",
        job.id
    ));

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let job = loop {
        let found = switchyard_engine::job::read::get(pool, actor.tenant_id, job.id).await?;
        match found {
            Some(job) if job.state != "sms_sent" && job.state != "created" => break Some(job),
            _ if tokio::time::Instant::now() > deadline => break None,
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    let receipts = receipt::list(pool, actor.tenant_id, endpoint.id, None, None, 10).await?;
    for r in receipts.iter().rev() {
        let status = url::form_urlencoded::parse(&r.body)
            .find(|(k, _)| k == "MessageStatus")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let why = r
            .detail
            .as_ref()
            .and_then(|d| d["reason"].as_str())
            .unwrap_or("");
        println!(
            "      <- Twilio status callback '{status}', signature verified: {} {why}",
            r.outcome.as_str()
        );
    }
    match job {
        Some(Job {
            state,
            version,
            context,
            ..
        }) => say(&format!(
            "the callback moved the job to '{state}' (version {version}); its data: message_sid {}",
            context["message_sid"]
        )),
        None => say("no delivery callback arrived within 20 s"),
    }
    Ok(())
}

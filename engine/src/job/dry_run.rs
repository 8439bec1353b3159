//! A dry run: steps 1-3 of a transition without writing, with the actions' payloads
//! rendered as they would be now.

use chrono::Utc;
use serde::Serialize;
use serde_json::{json, Value};

use super::plan::{check_data, load, merge, plan, Loaded};
use super::transition::{TransitionError, TransitionRequest};
use super::Job;
use crate::log::{Event, EventType};
use crate::{template, Actor, EventId, Pool, StoreError};

/// What a transition would do, written nowhere.
#[derive(Clone, Debug, Serialize)]
pub struct DryRun {
    pub job: Job,
    pub event: Value,
    pub actions: Vec<RenderedAction>,
}

/// An action's payload as it would be rendered now. Credentials are never part of it: the
/// worker adds them when it sends.
#[derive(Clone, Debug, Serialize)]
pub struct RenderedAction {
    pub name: String,
    pub ordinal: i32,
    pub action_type: String,
    pub connection_id: String,
    pub method: String,
    pub path: Option<String>,
    pub body: Option<Value>,
    /// Why the payload could not be rendered (the action would fail without retry).
    pub error: Option<String>,
}

/// Checks the transition and renders its actions without writing anything.
pub async fn dry_run(
    pool: &Pool,
    actor: &Actor,
    req: &TransitionRequest,
) -> Result<DryRun, TransitionError> {
    check_data(&req.data)?;
    let client = pool.get().await.map_err(StoreError::from)?;
    let Loaded {
        job, tenant_name, ..
    } = load(&client, actor.tenant_id, req.job_id, false).await?;
    let plan = plan(&client, &job, &tenant_name, req).await?;
    let t = plan.transition();
    let mut after = job.clone();
    after.state = t.to.clone();
    after.previous_state = Some(job.state.clone());
    after.version += 1;
    after.context = merge(&job.context, &req.data);
    after.updated_at = Utc::now();
    // The event and its action runs do not exist: their ids are placeholders, the
    // position is 0.
    let placeholders: Vec<uuid::Uuid> = t.actions.iter().map(|_| uuid::Uuid::now_v7()).collect();
    let would_be = Event {
        id: EventId::new(),
        position: 0,
        stream_id: job.id.0,
        stream_version: 0,
        event_type: EventType::JobTransitioned,
        data: plan.event_data(&job.state, req, after.version, &placeholders),
        metadata: actor.metadata(),
        recorded_at: after.updated_at,
        prev_hash: String::new(),
        hash: String::new(),
        tx_id: 0,
    };
    let ctx = plan.context(&after, &job.state, req, Some(&would_be));
    let mut actions = Vec::with_capacity(t.actions.len());
    for (i, a) in t.actions.iter().enumerate() {
        actions.push(render_action(i, a, &ctx).await);
    }
    Ok(DryRun {
        job: after,
        event: json!({
            "type": would_be.event_type, "stream_id": would_be.stream_id,
            "data": would_be.data, "metadata": would_be.metadata,
        }),
        actions,
    })
}

async fn render_action(
    ordinal: usize,
    action: &crate::definition::ActionSpec,
    ctx: &Value,
) -> RenderedAction {
    let tpl = &action.payload_template;
    let rendered =
        template::render_payload_off_thread(tpl.path.clone(), tpl.body.clone(), ctx.clone()).await;
    let (path, body, error) = match rendered {
        Ok((path, body)) => (path, body, None),
        Err(err) => (None, None, Some(err.to_string())),
    };
    RenderedAction {
        name: action.name.clone(),
        ordinal: ordinal as i32,
        action_type: action.action_type.clone(),
        connection_id: tpl.connection_id.clone(),
        method: tpl.method.clone().unwrap_or_else(|| "POST".into()),
        path,
        body,
        error,
    }
}

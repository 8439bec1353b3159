//! A dry run: the transition decided exactly as the real call would decide it, written
//! nowhere, with the actions' payloads rendered as they would be now.

use serde::Serialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::decide::check_data;
use super::refusal::{TransitionError, TransitionRequest};
use super::stream::JobStream;
use super::transition::decide_for;
use super::Job;
use crate::context::{self, TransitionContext};
use crate::log::EventType;
use crate::{template, Actor, EventId, Pool, StoreError};

/// What a transition would do, written nowhere.
#[derive(Clone, Debug, Serialize)]
pub struct DryRun {
    pub job: Job,
    pub event: PlannedEvent,
    pub actions: Vec<RenderedAction>,
}

/// The event a transition would append: not yet in the log, so without id or position.
#[derive(Clone, Debug, Serialize)]
pub struct PlannedEvent {
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub stream_id: Uuid,
    pub data: Map<String, Value>,
    pub metadata: Map<String, Value>,
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

/// Decides the transition and renders its actions without writing anything.
pub async fn dry_run(
    pool: &Pool,
    actor: &Actor,
    req: &TransitionRequest,
) -> Result<DryRun, TransitionError> {
    check_data(&req.data)?;
    let client = pool.get().await.map_err(StoreError::from)?;
    let stream = JobStream::read(&client, actor.tenant_id, req.job_id)
        .await?
        .ok_or(TransitionError::JobNotFound(req.job_id))?;
    let (definition, decision) = decide_for(&client, &stream, req).await?;
    let t = decision.transition(&definition);
    let data = decision.event(&definition, &req.data);
    let data = match serde_json::to_value(&data) {
        Ok(Value::Object(data)) => data,
        Ok(_) => {
            return Err(StoreError::Corrupt("a transition's event is not an object".into()).into())
        }
        Err(e) => return Err(StoreError::Corrupt(e.to_string()).into()),
    };
    // The event does not exist: its id is a placeholder, its position 0.
    let event_id = EventId::new();
    let transition = TransitionContext {
        name: &t.name,
        from: &decision.from,
        to: &t.to,
        data: &req.data,
    };
    let mut ctx = context::build(
        &decision.after,
        &stream.tenant_name,
        &transition,
        None,
        decision.last_actions.clone(),
    );
    ctx["event"] = json!({"id": event_id, "position": 0, "recorded_at": decision.after.updated_at});
    let mut actions = Vec::with_capacity(t.actions.len());
    for (i, a) in t.actions.iter().enumerate() {
        actions.push(render_action(i, a, &ctx).await);
    }
    Ok(DryRun {
        event: PlannedEvent {
            event_type: EventType::JobTransitioned,
            stream_id: stream.job.id.0,
            data,
            metadata: match actor.metadata() {
                Value::Object(m) => m,
                _ => Map::new(),
            },
        },
        job: decision.after,
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

//! The template context: what guards and payload templates can name.
//!
//! `job` (id, current_state, previous_state, workflow, workflow_version, version, context),
//! `tenant` (id, name), `transition` (name, from, to, data), `event` (id, position,
//! recorded_at; once the transition's event exists), `last_actions` (the latest outcome per
//! action name of this job). The worker adds `action` (id, name, attempt) per attempt.

use serde_json::{json, Map, Value};

use crate::job::Job;
use crate::log::Event;

/// The transition part of the context.
#[derive(Debug)]
pub struct TransitionContext<'a> {
    pub name: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub data: &'a Value,
}

/// The `job` part of the context.
pub fn job_fields(job: &Job) -> Value {
    json!({
        "id": job.id,
        "current_state": job.state,
        "previous_state": job.previous_state,
        "workflow": job.workflow,
        "workflow_version": job.workflow_version,
        "version": job.version,
        "context": job.context,
        "external_id": job.external_id,
    })
}

/// Builds the context for `job` as it is (before the transition, for guards) or as it will
/// be (after, for action templates).
pub fn build(
    job: &Job,
    tenant_name: &str,
    transition: &TransitionContext<'_>,
    event: Option<&Event>,
    last_actions: Value,
) -> Value {
    let mut ctx = Map::new();
    ctx.insert("job".into(), job_fields(job));
    ctx.insert(
        "tenant".into(),
        json!({ "id": job.tenant_id, "name": tenant_name }),
    );
    ctx.insert(
        "transition".into(),
        json!({
            "name": transition.name,
            "from": transition.from,
            "to": transition.to,
            "data": transition.data,
        }),
    );
    if let Some(event) = event {
        ctx.insert(
            "event".into(),
            json!({
                "id": event.id,
                "position": event.position,
                "recorded_at": event.recorded_at,
            }),
        );
    }
    ctx.insert("last_actions".into(), last_actions);
    Value::Object(ctx)
}

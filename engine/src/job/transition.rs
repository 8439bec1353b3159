//! Applying a transition, in one database transaction:
//!
//! 1. load the job `FOR UPDATE` and check `expected_version`;
//! 2. find the transition by name or by target state, allowed from the current state, and
//!    evaluate its guard against the template context;
//! 3. append `job.transitioned` to the job's stream (guard inputs and result included);
//! 4. update the job row and write one `action_runs` row per action;
//! 5. commit. The caller then wakes the worker; nothing is sent before commit.
//!
//! A dry run does steps 1-3 without writing and renders the action payloads.

use std::sync::Arc;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use thiserror::Error;
use uuid::Uuid;

use super::outbox::{self, ActionRun};
use super::{Job, JOB_COLUMNS};
use crate::context::{self, TransitionContext};
use crate::definition::{TransitionDef, WorkflowDefinition};
use crate::idempotency::{self, IdempotencyError, IdempotencyKey};
use crate::log::{append, Event, NewEvent, StreamLock};
use crate::{guard, template, workflow, Actor, EventId, JobId, Pool, StoreError, TenantId};

/// What a service asks for: a transition by name, or the state to move to.
#[derive(Clone, Debug)]
pub struct TransitionRequest {
    pub job_id: JobId,
    pub transition: Option<String>,
    pub to: Option<String>,
    /// An object; its top-level keys are merged into the job's context.
    pub data: Value,
    pub expected_version: Option<i64>,
}

/// The committed transition: the job after it, its event and its action runs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TransitionResult {
    pub job: Job,
    pub event: Event,
    pub actions: Vec<ActionRun>,
}

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

/// A transition that may be taken from the current state.
#[derive(Clone, Debug, Serialize)]
pub struct Allowed {
    pub name: String,
    pub to: String,
}

/// Why a transition was not applied.
#[derive(Debug, Error)]
pub enum TransitionError {
    #[error("job {0} not found")]
    JobNotFound(JobId),
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("the job is at version {actual}, not {expected}")]
    VersionConflict { expected: i64, actual: i64 },
    #[error("the workflow has no transition named '{name}'")]
    UnknownTransition { name: String, known: Vec<String> },
    #[error("{requested} is not allowed from state '{current_state}'")]
    NotAllowed {
        requested: String,
        current_state: String,
        allowed: Vec<Allowed>,
    },
    #[error("more than one transition leads to '{to}' from here: {}", .candidates.join(", "))]
    Ambiguous { to: String, candidates: Vec<String> },
    #[error("the guard of transition '{transition}' is not satisfied")]
    GuardFailed {
        transition: String,
        guard: Value,
        inputs: Map<String, Value>,
    },
    #[error("the guard of transition '{transition}' could not be evaluated: {message}")]
    GuardError { transition: String, message: String },
    #[error(transparent)]
    Idempotency(#[from] IdempotencyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Applies the transition; returns `(result, replayed)`.
pub async fn apply(
    pool: &Pool,
    actor: &Actor,
    req: &TransitionRequest,
    key: Option<&IdempotencyKey>,
) -> Result<(TransitionResult, bool), TransitionError> {
    check_data(&req.data)?;
    let mut client = pool.get().await.map_err(StoreError::from)?;
    let tx = client.transaction().await.map_err(StoreError::from)?;
    let (job, tenant_name) = load(&tx, actor.tenant_id, req.job_id, true).await?;
    // After the job lock: a concurrent duplicate waits for the first request, then finds
    // its stored result instead of failing on the version it moved.
    if let Some(key) = key {
        if let Some(stored) = idempotency::lookup(&tx, actor.tenant_id, key).await? {
            return Ok((stored, true));
        }
    }
    let plan = plan(&tx, &job, &tenant_name, req).await?;
    let t = plan.transition();

    let run_ids: Vec<Uuid> = t.actions.iter().map(|_| Uuid::now_v7()).collect();
    let event = append(
        &tx,
        NewEvent {
            tenant_id: actor.tenant_id,
            stream_id: job.id.0,
            event_type: "job.transitioned",
            data: json!({
                "transition": t.name,
                "from": job.state,
                "to": t.to,
                "data": req.data,
                "job_version": job.version + 1,
                "guard": plan.guard,
                "actions": t.actions.iter().zip(&run_ids).enumerate()
                    .map(|(i, (a, id))| json!({"id": id, "name": a.name, "ordinal": i}))
                    .collect::<Vec<_>>(),
            }),
            metadata: actor.metadata(),
        },
        StreamLock::HeldByCaller,
    )
    .await?;

    let update = tx
        .prepare_cached(&format!(
            "UPDATE jobs SET state = $3, previous_state = $4, context = $5, version = version + 1, \
             updated_at = now() WHERE id = $1 AND tenant_id = $2 RETURNING {JOB_COLUMNS}"
        ))
        .await
        .map_err(StoreError::from)?;
    let row = tx
        .query_one(
            &update,
            &[
                &job.id.0,
                &actor.tenant_id.0,
                &t.to,
                &job.state,
                &merge(&job.context, &req.data),
            ],
        )
        .await
        .map_err(StoreError::from)?;
    let after = Job::from_row(&row)?;

    let ctx = context::build(
        &after,
        &tenant_name,
        &TransitionContext {
            name: &t.name,
            from: &job.state,
            to: &t.to,
            data: &req.data,
        },
        Some(&event),
        plan.last_actions.clone(),
    );
    let actions = outbox::insert(&tx, &after, &event, t, &run_ids, &ctx).await?;
    let result = TransitionResult {
        job: after,
        event,
        actions,
    };
    if let Some(key) = key {
        idempotency::remember(&tx, actor.tenant_id, key, &result).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok((result, false))
}

/// Checks the transition and renders its actions without writing anything.
pub async fn dry_run(
    pool: &Pool,
    actor: &Actor,
    req: &TransitionRequest,
) -> Result<DryRun, TransitionError> {
    check_data(&req.data)?;
    let client = pool.get().await.map_err(StoreError::from)?;
    let (job, tenant_name) = load(&client, actor.tenant_id, req.job_id, false).await?;
    let plan = plan(&client, &job, &tenant_name, req).await?;
    let t = plan.transition();
    let mut after = job.clone();
    after.state = t.to.clone();
    after.previous_state = Some(job.state.clone());
    after.version += 1;
    after.context = merge(&job.context, &req.data);
    after.updated_at = Utc::now();
    // The event does not exist: its id is a placeholder and its position 0.
    let would_be = Event {
        id: EventId::new(),
        position: 0,
        stream_id: job.id.0,
        stream_version: 0,
        event_type: "job.transitioned".into(),
        data: json!({
            "transition": t.name, "from": job.state, "to": t.to, "data": req.data,
            "job_version": after.version, "guard": plan.guard,
        }),
        metadata: actor.metadata(),
        recorded_at: after.updated_at,
        prev_hash: String::new(),
        hash: String::new(),
        tx_id: 0,
    };
    let ctx = context::build(
        &after,
        &tenant_name,
        &TransitionContext {
            name: &t.name,
            from: &job.state,
            to: &t.to,
            data: &req.data,
        },
        Some(&would_be),
        plan.last_actions.clone(),
    );
    let actions = t
        .actions
        .iter()
        .enumerate()
        .map(|(i, a)| render_action(i, a, &ctx))
        .collect();
    Ok(DryRun {
        job: after,
        event: json!({
            "type": would_be.event_type, "stream_id": would_be.stream_id,
            "data": would_be.data, "metadata": would_be.metadata,
        }),
        actions,
    })
}

struct Plan {
    definition: Arc<WorkflowDefinition>,
    index: usize,
    /// `{rule, inputs, passed}` of the guard, or null when the transition has none.
    guard: Value,
    last_actions: Value,
}

impl Plan {
    fn transition(&self) -> &TransitionDef {
        &self.definition.transitions[self.index]
    }
}

/// Steps 1-2 after the load: version check, choice of transition, guard.
async fn plan(
    client: &impl deadpool_postgres::GenericClient,
    job: &Job,
    tenant_name: &str,
    req: &TransitionRequest,
) -> Result<Plan, TransitionError> {
    if let Some(expected) = req.expected_version {
        if expected != job.version {
            return Err(TransitionError::VersionConflict {
                expected,
                actual: job.version,
            });
        }
    }
    let definition = workflow::definition(client, job.workflow_id).await?;
    let index = choose(&definition, &job.state, req)?;
    let t = &definition.transitions[index];
    // Only read the lane's outcomes when something can see them.
    let mentions = |v: &Option<Value>| {
        v.as_ref()
            .is_some_and(|v| v.to_string().contains("last_actions"))
    };
    let needs_last = mentions(&t.guard)
        || t.actions.iter().any(|a| {
            mentions(&a.payload_template.body)
                || a.payload_template
                    .path
                    .as_deref()
                    .is_some_and(|p| p.contains("last_actions"))
        });
    let last_actions = if needs_last {
        outbox::last_actions(client, job.id).await?
    } else {
        json!({})
    };
    let guard = match &t.guard {
        None | Some(Value::Null) => Value::Null,
        Some(rule) => {
            let ctx = context::build(
                job,
                tenant_name,
                &TransitionContext {
                    name: &t.name,
                    from: &job.state,
                    to: &t.to,
                    data: &req.data,
                },
                None,
                last_actions.clone(),
            );
            let outcome =
                guard::evaluate(rule, &ctx).map_err(|message| TransitionError::GuardError {
                    transition: t.name.clone(),
                    message,
                })?;
            if !outcome.passed {
                return Err(TransitionError::GuardFailed {
                    transition: t.name.clone(),
                    guard: rule.clone(),
                    inputs: outcome.inputs,
                });
            }
            json!({ "rule": rule, "inputs": outcome.inputs, "passed": true })
        }
    };
    Ok(Plan {
        definition,
        index,
        guard,
        last_actions,
    })
}

fn choose(
    def: &WorkflowDefinition,
    state: &str,
    req: &TransitionRequest,
) -> Result<usize, TransitionError> {
    let allowed = || {
        def.allowed_from(state)
            .map(|t| Allowed {
                name: t.name.clone(),
                to: t.to.clone(),
            })
            .collect::<Vec<_>>()
    };
    match (&req.transition, &req.to) {
        (Some(_), Some(_)) | (None, None) => Err(TransitionError::Invalid {
            field: "transition",
            message: "give either \"transition\" (a name) or \"to\" (a state), not both or neither"
                .into(),
        }),
        (Some(name), None) => {
            let Some(index) = def.transitions.iter().position(|t| &t.name == name) else {
                return Err(TransitionError::UnknownTransition {
                    name: name.clone(),
                    known: def.transitions.iter().map(|t| t.name.clone()).collect(),
                });
            };
            if !def.transitions[index].from.iter().any(|f| f == state) {
                return Err(TransitionError::NotAllowed {
                    requested: format!("transition '{name}'"),
                    current_state: state.to_string(),
                    allowed: allowed(),
                });
            }
            Ok(index)
        }
        (None, Some(to)) => {
            if def.state(to).is_none() {
                return Err(TransitionError::Invalid {
                    field: "to",
                    message: format!("workflow '{}' has no state named '{to}'", def.name),
                });
            }
            let candidates: Vec<usize> = def
                .transitions
                .iter()
                .enumerate()
                .filter(|(_, t)| &t.to == to && t.from.iter().any(|f| f == state))
                .map(|(i, _)| i)
                .collect();
            match candidates.as_slice() {
                [only] => Ok(*only),
                [] => Err(TransitionError::NotAllowed {
                    requested: format!("moving to '{to}'"),
                    current_state: state.to_string(),
                    allowed: allowed(),
                }),
                many => Err(TransitionError::Ambiguous {
                    to: to.clone(),
                    candidates: many
                        .iter()
                        .map(|i| def.transitions[*i].name.clone())
                        .collect(),
                }),
            }
        }
    }
}

async fn load(
    client: &impl deadpool_postgres::GenericClient,
    tenant_id: TenantId,
    job_id: JobId,
    for_update: bool,
) -> Result<(Job, String), TransitionError> {
    let sql = format!(
        "SELECT {JOB_COLUMNS}, (SELECT name FROM tenants WHERE id = jobs.tenant_id) AS tenant_name \
         FROM jobs WHERE id = $1 AND tenant_id = $2{}",
        if for_update { " FOR UPDATE" } else { "" }
    );
    let stmt = client
        .prepare_cached(&sql)
        .await
        .map_err(StoreError::from)?;
    let row = client
        .query_opt(&stmt, &[&job_id.0, &tenant_id.0])
        .await
        .map_err(StoreError::from)?
        .ok_or(TransitionError::JobNotFound(job_id))?;
    Ok((Job::from_row(&row)?, row.get("tenant_name")))
}

fn render_action(
    ordinal: usize,
    action: &crate::definition::ActionSpec,
    ctx: &Value,
) -> RenderedAction {
    let tpl = &action.payload_template;
    let path = tpl
        .path
        .as_deref()
        .map(|p| template::render_str(p, ctx))
        .transpose();
    let body = tpl
        .body
        .as_ref()
        .map(|b| template::render_value(b, ctx))
        .transpose();
    let error = [path.as_ref().err(), body.as_ref().err()]
        .into_iter()
        .flatten()
        .next()
        .map(ToString::to_string);
    RenderedAction {
        name: action.name.clone(),
        ordinal: ordinal as i32,
        action_type: action.action_type.clone(),
        connection_id: tpl.connection_id.clone(),
        method: tpl.method.clone().unwrap_or_else(|| "POST".into()),
        path: path.ok().flatten(),
        body: body.ok().flatten(),
        error,
    }
}

fn check_data(data: &Value) -> Result<(), TransitionError> {
    if !data.is_object() {
        return Err(TransitionError::Invalid {
            field: "data",
            message: "must be a JSON object".into(),
        });
    }
    Ok(())
}

/// The job's context with the transition data's top-level keys written over it.
fn merge(context: &Value, data: &Value) -> Value {
    let mut merged = context.as_object().cloned().unwrap_or_default();
    if let Some(data) = data.as_object() {
        for (k, v) in data {
            merged.insert(k.clone(), v.clone());
        }
    }
    Value::Object(merged)
}

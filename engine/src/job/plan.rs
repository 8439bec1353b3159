//! Steps 1-2 of a transition, shared by applying and dry-running it: load the job, check
//! `expected_version`, choose the transition, evaluate its guard.

use std::sync::Arc;

use serde_json::{json, Value};
use uuid::Uuid;

use super::outbox;
use super::transition::{Allowed, TransitionError, TransitionRequest};
use super::{Job, JOB_COLUMNS};
use crate::context::{self, TransitionContext};
use crate::definition::{TransitionDef, WorkflowDefinition};
use crate::log::{Event, StreamHead};
use crate::{guard, workflow, JobId, StoreError, TenantId};

/// What step 2 decided.
pub(super) struct Plan {
    pub(super) definition: Arc<WorkflowDefinition>,
    pub(super) index: usize,
    /// `{rule, inputs, passed}` of the guard, or null when the transition has none.
    pub(super) guard: Value,
    pub(super) last_actions: Value,
    pub(super) tenant_name: String,
}

impl Plan {
    pub(super) fn transition(&self) -> &TransitionDef {
        &self.definition.transitions[self.index]
    }

    /// The template context of this transition, for `job` as it is (guards) or as it will
    /// be (action templates). `from` is the state the transition leaves.
    pub(super) fn context(
        &self,
        job: &Job,
        from: &str,
        req: &TransitionRequest,
        event: Option<&Event>,
    ) -> Value {
        let t = self.transition();
        let transition = TransitionContext {
            name: &t.name,
            from,
            to: &t.to,
            data: &req.data,
        };
        context::build(
            job,
            &self.tenant_name,
            &transition,
            event,
            self.last_actions.clone(),
        )
    }

    /// The data of the `job.transitioned` event, with the ids its action runs will have.
    pub(super) fn event_data(
        &self,
        from: &str,
        req: &TransitionRequest,
        job_version: i64,
        run_ids: &[Uuid],
    ) -> Value {
        let t = self.transition();
        let actions: Vec<Value> = t
            .actions
            .iter()
            .zip(run_ids)
            .enumerate()
            .map(|(i, (a, id))| json!({"id": id, "name": a.name, "ordinal": i}))
            .collect();
        json!({
            "transition": t.name,
            "from": from,
            "to": t.to,
            "data": req.data,
            "job_version": job_version,
            "guard": self.guard,
            "actions": actions,
        })
    }
}

/// Steps 1-2 after the load: version check, choice of transition, guard.
pub(super) async fn plan(
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
    let mut plan = Plan {
        definition: definition.clone(),
        index,
        guard: Value::Null,
        last_actions,
        tenant_name: tenant_name.to_string(),
    };
    if let Some(rule) = t.guard.as_ref().filter(|g| !g.is_null()) {
        let ctx = plan.context(job, &job.state, req, None);
        let outcome = guard::evaluate_off_thread(rule.clone(), ctx)
            .await
            .map_err(|message| TransitionError::GuardError {
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
        plan.guard = json!({ "rule": rule, "inputs": outcome.inputs, "passed": true });
    }
    Ok(plan)
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

/// A job as loaded for a transition: the row, its tenant's name, and its stream's head.
pub(super) struct Loaded {
    pub(super) job: Job,
    pub(super) tenant_name: String,
    pub(super) head: StreamHead,
}

pub(super) async fn load(
    client: &impl deadpool_postgres::GenericClient,
    tenant_id: TenantId,
    job_id: JobId,
    for_update: bool,
) -> Result<Loaded, TransitionError> {
    let sql = format!(
        "SELECT {JOB_COLUMNS}, stream_version, stream_hash, \
         (SELECT name FROM tenants WHERE id = jobs.tenant_id) AS tenant_name \
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
    Ok(Loaded {
        job: Job::from_row(&row)?,
        tenant_name: row.try_get("tenant_name").map_err(StoreError::from)?,
        head: StreamHead::stored(
            row.try_get("stream_version").map_err(StoreError::from)?,
            row.try_get("stream_hash").map_err(StoreError::from)?,
        ),
    })
}

pub(super) fn check_data(data: &Value) -> Result<(), TransitionError> {
    if !data.is_object() {
        return Err(TransitionError::Invalid {
            field: "data",
            message: "must be a JSON object".into(),
        });
    }
    Ok(())
}

/// The job's context with the transition data's top-level keys written over it.
pub(super) fn merge(context: &Value, data: &Value) -> Value {
    let mut merged = context.as_object().cloned().unwrap_or_default();
    if let Some(data) = data.as_object() {
        for (k, v) in data {
            merged.insert(k.clone(), v.clone());
        }
    }
    Value::Object(merged)
}

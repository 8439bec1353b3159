//! The state machine, decided without I/O: from the job as locked, its definition, the
//! request, the context and the time, [`decide`] returns what a transition does (target
//! state, merged context, guard report, action run ids, timers to cancel and schedule)
//! or why it is refused. Nothing here reads or writes the database: [`super::transition`]
//! writes a decision through the job's stream, and a dry run shows one unwritten, so the
//! two cannot disagree.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::refusal::{TransitionError, TransitionRequest};
use super::Job;
use crate::context::{self, TransitionContext};
use crate::definition::{
    parse_duration, ActionSpec, TimeoutDef, TransitionDef, WorkflowDefinition, MAX_AHEAD,
};
use crate::events::job::{ActionRef, GuardReport, JobTransitioned};
use crate::events::timer::{TimerKind, TimerScheduled};
use crate::{guard, template};
use choose::choose;

/// Everything a transition is decided from.
#[derive(Clone, Debug)]
pub struct Input<'a> {
    pub job: &'a Job,
    pub tenant_name: &'a str,
    pub definition: &'a WorkflowDefinition,
    pub request: &'a TransitionRequest,
    /// The job's latest outcome per action name, or `{}` when [`needs_last_actions`]
    /// said nothing can see it.
    pub last_actions: Value,
    pub now: DateTime<Utc>,
}

/// What a transition does, not yet written.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// The transition's index in the definition.
    pub index: usize,
    pub from: String,
    /// The job as it will be (its `updated_at` is the decision's time; the stored row's is
    /// the commit's).
    pub after: Job,
    pub guard: Option<GuardReport>,
    /// The ids the transition's action runs will have, in order.
    pub run_ids: Vec<Uuid>,
    /// The state left has a timeout: its open timers are cancelled.
    pub cancels_timeouts_of: Option<String>,
    /// The state entered has a timeout: this timer is scheduled.
    pub schedules: Option<StateTimeout>,
    /// What the guard saw of the job's action outcomes; the action runs' context keeps it.
    pub last_actions: Value,
}

/// A state's timeout, as scheduled on entering the state.
#[derive(Clone, Debug, PartialEq)]
pub struct StateTimeout {
    pub id: Uuid,
    pub state: String,
    pub transition: String,
    pub due_at: DateTime<Utc>,
    /// The job's version on entering the state: firing refuses a job that moved since.
    pub job_version: i64,
}

impl StateTimeout {
    /// Its `timer.scheduled` payload.
    pub fn event(&self) -> TimerScheduled {
        TimerScheduled {
            timer_id: self.id,
            kind: TimerKind::StateTimeout,
            state: self.state.clone(),
            transition: self.transition.clone(),
            due_at: self.due_at,
            job_version: Some(self.job_version),
        }
    }
}

impl Decision {
    /// The transition decided on, in `definition`.
    pub fn transition<'d>(&self, definition: &'d WorkflowDefinition) -> &'d TransitionDef {
        &definition.transitions[self.index]
    }

    /// The `job.transitioned` payload.
    pub fn event(&self, definition: &WorkflowDefinition, data: &Value) -> JobTransitioned {
        let t = self.transition(definition);
        JobTransitioned {
            transition: t.name.clone(),
            from: self.from.clone(),
            to: t.to.clone(),
            data: data.clone(),
            job_version: self.after.version,
            guard: self.guard.clone(),
            actions: t
                .actions
                .iter()
                .zip(&self.run_ids)
                .enumerate()
                .map(|(ordinal, (a, id))| ActionRef {
                    id: *id,
                    name: a.name.clone(),
                    ordinal,
                })
                .collect(),
        }
    }
}

/// Decides the transition `input.request` asks for.
pub fn decide(input: &Input<'_>) -> Result<Decision, TransitionError> {
    let Input {
        job,
        definition,
        request,
        now,
        ..
    } = input;
    check_data(&request.data)?;
    if let Some(expected) = request.expected_version {
        if expected != job.version {
            return Err(TransitionError::VersionConflict {
                expected,
                actual: job.version,
            });
        }
    }
    let index = choose(definition, &job.state, request)?;
    let t = &definition.transitions[index];
    let guard = match t.guard.as_ref().filter(|g| !g.is_null()) {
        None => None,
        Some(rule) => {
            let ctx = template_context(input, t, job);
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
            Some(GuardReport {
                rule: rule.clone(),
                inputs: outcome.inputs,
                passed: true,
            })
        }
    };
    let mut after = (*job).clone();
    after.state = t.to.clone();
    after.previous_state = Some(job.state.clone());
    after.version += 1;
    after.context = merge(&job.context, &request.data);
    after.updated_at = *now;

    let timeout_of = |state: &str| definition.state(state).and_then(|s| s.timeout.as_ref());
    let schedules = match timeout_of(&t.to) {
        None => None,
        Some(timeout) => {
            let ctx = template_context(input, t, &after);
            Some(StateTimeout {
                id: Uuid::now_v7(),
                state: t.to.clone(),
                transition: timeout.transition.clone(),
                due_at: due_at(timeout, &ctx, *now)?,
                job_version: after.version,
            })
        }
    };
    Ok(Decision {
        index,
        from: job.state.clone(),
        guard,
        run_ids: t.actions.iter().map(|_| Uuid::now_v7()).collect(),
        cancels_timeouts_of: timeout_of(&job.state).map(|_| job.state.clone()),
        schedules,
        after,
        last_actions: input.last_actions.clone(),
    })
}

/// [`decide`] for owned inputs: on a blocking thread when [`is_costly`] says a guard or a
/// time template may run (a panic in one becomes that guard's error), inline otherwise.
pub async fn decide_off_thread(
    job: Job,
    tenant_name: String,
    definition: Arc<WorkflowDefinition>,
    request: TransitionRequest,
    last_actions: Value,
) -> Result<Decision, TransitionError> {
    let costly = is_costly(&definition, &job.state);
    let named = request
        .transition
        .clone()
        .or(request.to.clone())
        .unwrap_or_default();
    let decide_now = move || {
        decide(&Input {
            job: &job,
            tenant_name: &tenant_name,
            definition: &definition,
            request: &request,
            last_actions,
            now: Utc::now(),
        })
    };
    if !costly {
        return decide_now();
    }
    tokio::task::spawn_blocking(decide_now)
        .await
        .unwrap_or_else(|_| {
            Err(TransitionError::GuardError {
                transition: named,
                message: "the guard could not be evaluated".into(),
            })
        })
}

/// The timeout a new job's initial state schedules, if it has one. Its `at` template sees
/// only the job: nothing has happened to it yet.
pub fn initial_timeout(
    definition: &WorkflowDefinition,
    job: &Job,
    now: DateTime<Utc>,
) -> Result<Option<StateTimeout>, TransitionError> {
    let Some(timeout) = definition
        .state(&job.state)
        .and_then(|s| s.timeout.as_ref())
    else {
        return Ok(None);
    };
    let ctx = serde_json::json!({ "job": context::job_fields(job) });
    Ok(Some(StateTimeout {
        id: Uuid::now_v7(),
        state: job.state.clone(),
        transition: timeout.transition.clone(),
        due_at: due_at(timeout, &ctx, now)?,
        job_version: job.version,
    }))
}

/// Whether deciding may take long enough (a guard, an `at` template) to belong on a
/// blocking thread rather than the async runtime.
pub fn is_costly(definition: &WorkflowDefinition, state: &str) -> bool {
    definition.allowed_from(state).any(|t| {
        t.guard.as_ref().is_some_and(|g| !g.is_null())
            || definition
                .state(&t.to)
                .and_then(|s| s.timeout.as_ref())
                .is_some_and(|timeout| timeout.at.is_some())
    })
}

/// Whether anything the transitions leaving `state` evaluate (guards, action templates,
/// the entered state's `at`) can see `last_actions`, so it must be read first.
pub fn needs_last_actions(definition: &WorkflowDefinition, state: &str) -> bool {
    definition.allowed_from(state).any(|t| {
        t.guard
            .as_ref()
            .is_some_and(guard::may_read_root_key("last_actions"))
            || t.actions.iter().any(template_may_read_last_actions)
            || definition
                .state(&t.to)
                .and_then(|s| s.timeout.as_ref())
                .and_then(|timeout| timeout.at.as_deref())
                .is_some_and(template::may_read_root_key("last_actions"))
    })
}

fn template_may_read_last_actions(action: &ActionSpec) -> bool {
    let tpl = &action.payload_template;
    let reads = template::may_read_root_key("last_actions");
    tpl.path.as_deref().is_some_and(&reads)
        || tpl
            .body
            .as_ref()
            .is_some_and(|body| template::strings(body).any(&reads))
}

/// The template context for `job` (as it is, for guards; as it will be, for timeouts).
fn template_context(input: &Input<'_>, t: &TransitionDef, job: &Job) -> Value {
    let transition = TransitionContext {
        name: &t.name,
        from: &input.job.state,
        to: &t.to,
        data: &input.request.data,
    };
    context::build(
        job,
        input.tenant_name,
        &transition,
        None,
        input.last_actions.clone(),
    )
}

/// `data` must be an object: its keys are merged into the job's context.
pub fn check_data(data: &Value) -> Result<(), TransitionError> {
    if !data.is_object() {
        return Err(TransitionError::Invalid {
            field: "data",
            message: "must be a JSON object".into(),
        });
    }
    Ok(())
}

/// The job's context with the transition data's top-level keys written over it.
pub fn merge(context: &Value, data: &Value) -> Value {
    let mut merged = context.as_object().cloned().unwrap_or_default();
    if let Some(data) = data.as_object() {
        for (k, v) in data {
            merged.insert(k.clone(), v.clone());
        }
    }
    Value::Object(merged)
}

/// When a timeout is due: `after` from now, or the time `at` renders to.
fn due_at(
    timeout: &TimeoutDef,
    context: &Value,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, TransitionError> {
    // The time renders from the job's context, which the request's data changed.
    let invalid = |message: String| TransitionError::Invalid {
        field: "data",
        message,
    };
    if let Some(after) = &timeout.after {
        let after = parse_duration(after).map_err(invalid)?;
        let after = TimeDelta::from_std(after).map_err(|e| invalid(e.to_string()))?;
        return Ok(now + after);
    }
    let source = timeout.at.as_deref().unwrap_or_default();
    let rendered = template::render_payload(Some(source), None, context)
        .map_err(|err| invalid(format!("the state's timeout time did not render: {err}")))?
        .0
        .unwrap_or_default();
    let at = DateTime::parse_from_rfc3339(rendered.trim())
        .map_err(|_| {
            invalid(format!(
                "the state's timeout time '{rendered}' is not an RFC 3339 time like 2026-12-01T09:00:00Z"
            ))
        })?
        .with_timezone(&Utc);
    let latest = now + TimeDelta::from_std(MAX_AHEAD).unwrap_or(TimeDelta::MAX);
    if at > latest {
        return Err(invalid(format!(
            "the state's timeout time {at} is more than a year ahead"
        )));
    }
    Ok(at)
}

mod choose;
#[cfg(test)]
mod tests;

//! `POST /api/v1/jobs/{id}/transitions`: apply a transition, dry-run it, or schedule it
//! (`at` / `after`) as a timer.

use chrono::{DateTime, Utc};
use poem::http::StatusCode;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Union};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_engine::api_key::Scope;
use switchyard_engine::job::dry_run::{self, DryRun};
use switchyard_engine::job::transition::{
    self, TransitionError, TransitionRequest, TransitionResult,
};
use switchyard_engine::timer::Scheduled;
use switchyard_engine::JobId;
use uuid::Uuid;

use super::events::EventBody;
use super::jobs::{ActionRunBody, JobBody};
use super::timers::{self, TimerBody};
use super::ApiTags;
use crate::auth::ApiKeyAuth;
use crate::idempotency::{idempotency_error, idempotency_key};
use crate::json_body::JsonBody;
use crate::problem::{AllowedTransition, ApiError, Problem};
use crate::schema::{Closed, EventTypes, JsonObject};
use crate::state::AppState;

pub struct TransitionsApi {
    pub state: AppState,
}

#[derive(Object, Serialize, Deserialize)]
struct TransitionBody {
    /// The transition's name; or give `to`.
    transition: Option<String>,
    /// The state to move to, when exactly one allowed transition leads there.
    to: Option<String>,
    /// Data for the guard and templates; its top-level keys are merged into the job's context.
    data: Option<JsonObject>,
    /// Refuse (409) unless the job is at this version. With `at` or `after`, checked when
    /// the timer fires: a job that has moved on records the timer cancelled.
    expected_version: Option<i64>,
    /// Schedule the transition (by name) for this time instead of applying it now.
    at: Option<DateTime<Utc>>,
    /// Schedule the transition (by name) this long from now (`30s`, `2h`, `3d`; at most 7d).
    after: Option<String>,
}

/// The transition as applied: the job after it, its event, and its actions (queued to run
/// after commit, in order).
#[derive(Object)]
struct Applied {
    job: JobBody,
    event: EventBody,
    actions: Vec<ActionRunBody>,
}

/// What the transition would do (`?dry_run=true`); nothing was written.
#[derive(Object)]
struct DryRunBody {
    /// Always true: nothing was written. It tells this answer from an applied one.
    dry_run: bool,
    /// The job as it would be.
    job: JobBody,
    /// The event that would be appended.
    event: PlannedEvent,
    /// Each action's payload as it would be rendered now (credentials are never included).
    actions: Vec<RenderedActionBody>,
}

/// An event not yet appended: it has no id, position or hash.
#[derive(Object)]
struct PlannedEvent {
    #[oai(rename = "type")]
    event_type: Closed<EventTypes>,
    stream_id: Uuid,
    data: JsonObject,
    metadata: JsonObject,
}

/// An action's request as it would be rendered now, without its credentials.
#[derive(Object)]
struct RenderedActionBody {
    name: String,
    ordinal: i32,
    action_type: String,
    connection_id: String,
    method: String,
    path: Option<String>,
    body: Option<Value>,
    /// Why the payload could not be rendered (the action would fail without retry).
    error: Option<String>,
}

/// An applied transition, or (with `?dry_run=true`) what it would do: the dry run's answer
/// alone has `dry_run`. Documented as `anyOf`: an applied answer's schema does not forbid
/// other members, so a dry run's answer would match both and fail a `oneOf`.
#[derive(Union)]
enum TransitionOutcome {
    Applied(Applied),
    DryRun(DryRunBody),
}

// Built once per request and answered at once: its size costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(ApiResponse)]
enum TransitionResponse {
    /// The transition was applied (or, with the same Idempotency-Key, had been); with
    /// `?dry_run=true`, what it would do.
    #[oai(status = 200)]
    Done(Json<TransitionOutcome>),
    /// With `at` or `after`: the timer that will apply the transition.
    #[oai(status = 202)]
    Scheduled(Json<TimerBody>),
}

#[OpenApi(tag = "ApiTags::Jobs")]
impl TransitionsApi {
    /// Move a job: by transition name or target state, optionally at an expected version.
    /// Its actions run after commit; `?dry_run=true` writes nothing.
    #[oai(
        path = "/api/v1/jobs/:id/transitions",
        method = "post",
        operation_id = "applyTransition"
    )]
    async fn transition(
        &self,
        auth: ApiKeyAuth,
        id: Path<Uuid>,
        dry_run: Query<Option<bool>>,
        #[oai(name = "Idempotency-Key")] key: Header<Option<String>>,
        body: JsonBody<TransitionBody>,
    ) -> Result<TransitionResponse, ApiError> {
        let route = format!("POST /api/v1/jobs/{}/transitions", id.0);
        let key = idempotency_key(key.0, &route, &body.0)?;
        let actor = auth.require_keyed(&[Scope::Service], key.as_ref().map(|k| k.key.as_str()))?;
        if body.0.at.is_some() || body.0.after.is_some() {
            let body = body.0;
            let due_at = timers::due_at(body.at, body.after.as_deref())?;
            let Some(transition) = body.transition.filter(|_| body.to.is_none()) else {
                return Err(ApiError::invalid(
                    "transition",
                    "a scheduled transition is given by name (\"transition\"), not by \"to\"",
                ));
            };
            if dry_run.0.unwrap_or(false) {
                return Err(ApiError::invalid(
                    "dry_run",
                    "a scheduled transition cannot be dry-run",
                ));
            }
            let scheduled = Scheduled {
                job_id: JobId(id.0),
                transition,
                data: body.data.unwrap_or_default().into_value(),
                expected_version: body.expected_version,
                due_at,
            };
            let timer = timers::schedule(&self.state, &actor, scheduled, key.as_ref()).await?;
            return Ok(TransitionResponse::Scheduled(Json(timer)));
        }
        let data = body.0.data.unwrap_or_default().into_value();
        let req = TransitionRequest {
            job_id: JobId(id.0),
            transition: body.0.transition,
            to: body.0.to,
            data,
            expected_version: body.0.expected_version,
        };
        if dry_run.0.unwrap_or(false) {
            let plan = dry_run::dry_run(&self.state.pool, &actor, &req)
                .await
                .map_err(map_error)?;
            return Ok(TransitionResponse::Done(Json(TransitionOutcome::DryRun(
                dry_run_body(plan),
            ))));
        }
        let (result, replayed) = transition::apply(&self.state.pool, &actor, &req, key.as_ref())
            .await
            .map_err(map_error)?;
        if !replayed {
            if result.queued_work() {
                self.state.committed();
            } else {
                self.state.committed_events();
            }
        }
        Ok(TransitionResponse::Done(Json(TransitionOutcome::Applied(
            applied_body(result),
        ))))
    }
}

fn applied_body(r: TransitionResult) -> Applied {
    Applied {
        job: r.job.into(),
        event: r.event.into(),
        actions: r.actions.into_iter().map(Into::into).collect(),
    }
}

fn dry_run_body(d: DryRun) -> DryRunBody {
    DryRunBody {
        dry_run: true,
        job: d.job.into(),
        event: PlannedEvent {
            event_type: d.event.event_type.as_str().into(),
            stream_id: d.event.stream_id,
            data: JsonObject(d.event.data),
            metadata: JsonObject(d.event.metadata),
        },
        actions: d
            .actions
            .into_iter()
            .map(|a| RenderedActionBody {
                name: a.name,
                ordinal: a.ordinal,
                action_type: a.action_type,
                connection_id: a.connection_id,
                method: a.method,
                path: a.path,
                body: a.body,
                error: a.error,
            })
            .collect(),
    }
}

fn map_error(err: TransitionError) -> ApiError {
    let detail = err.to_string();
    match err {
        TransitionError::JobNotFound(id) => ApiError::not_found("job", id),
        TransitionError::Invalid { field, message } => ApiError::invalid(field, message),
        TransitionError::UnknownTransition { name, known } => ApiError::invalid(
            "transition",
            format!(
                "the workflow has no transition named '{name}'; it has: {}",
                known.join(", ")
            ),
        ),
        TransitionError::VersionConflict { expected, actual } => {
            let mut p = Problem::new(
                StatusCode::CONFLICT,
                "version-conflict",
                "Version conflict",
                format!("{detail}: another change was applied first; read the job and try again"),
            )
            .field("expected_version");
            p.expected_version = Some(expected);
            p.actual_version = Some(actual);
            p.into()
        }
        TransitionError::NotAllowed {
            current_state,
            allowed,
            ..
        } => {
            let names: Vec<String> = allowed
                .iter()
                .map(|a| format!("{} (to {})", a.name, a.to))
                .collect();
            let hint = if names.is_empty() {
                "no transition leaves this state".to_string()
            } else {
                format!("allowed from here: {}", names.join(", "))
            };
            let mut p = Problem::new(
                StatusCode::CONFLICT,
                "transition-not-allowed",
                "Transition not allowed",
                format!("{detail}; {hint}"),
            );
            p.current_state = Some(current_state);
            p.allowed_transitions = Some(
                allowed
                    .into_iter()
                    .map(|a| AllowedTransition {
                        name: a.name,
                        to: a.to,
                    })
                    .collect(),
            );
            p.into()
        }
        TransitionError::Ambiguous { .. } => Problem::new(
            StatusCode::CONFLICT,
            "ambiguous-target",
            "Ambiguous target state",
            format!("{detail}; name the transition instead"),
        )
        .field("to")
        .into(),
        TransitionError::GuardFailed {
            transition,
            guard,
            inputs,
        } => {
            // In words where the guard has a common shape ("schedule needs a technician"),
            // then the values it read.
            let needs = switchyard_engine::guard::explain(&guard)
                .map(|words| format!("{transition} needs {words}; "))
                .unwrap_or_default();
            let mut p = Problem::new(
                StatusCode::CONFLICT,
                "guard-failed",
                "Guard not satisfied",
                format!(
                    "{needs}the guard of transition '{transition}' is false for the values it read: {}",
                    Value::Object(inputs.clone())
                ),
            );
            p.guard = Some(guard);
            p.values = Some(Value::Object(inputs));
            p.into()
        }
        TransitionError::GuardError { .. } => Problem::new(
            StatusCode::CONFLICT,
            "guard-error",
            "Guard could not be evaluated",
            detail,
        )
        .into(),
        TransitionError::Idempotency(err) => idempotency_error(err),
        TransitionError::Store(err) => err.into(),
    }
}

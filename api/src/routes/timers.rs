//! A job's timers over the API: a transition scheduled instead of applied now (through
//! `POST /api/v1/jobs/{id}/transitions` with `at` or `after`), the job's open timers, and
//! cancelling one.

use chrono::{DateTime, TimeDelta, Utc};
use poem::http::StatusCode;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use switchyard_engine::api_key::Scope;
use switchyard_engine::definition::{parse_duration, MAX_AHEAD, MIN_TIMEOUT};
use switchyard_engine::idempotency::IdempotencyKey;
use switchyard_engine::timer::{self, ScheduleError, Scheduled, TimerView};
use switchyard_engine::{Actor, JobId};
use uuid::Uuid;

use super::ApiTags;
use crate::auth::ApiKeyAuth;
use crate::idempotency::idempotency_error;
use crate::problem::{ApiError, Problem};
use crate::schema::{Closed, Statuses, TimerKinds};
use crate::state::AppState;

pub struct TimersApi {
    pub state: AppState,
}

/// A timer: a transition the job will take at `due_at`.
#[derive(Object)]
pub struct TimerBody {
    id: Uuid,
    job_id: Uuid,
    /// `state_timeout` (a state's timeout) or `scheduled` (asked for over the API).
    kind: Closed<TimerKinds>,
    /// The state the timeout belongs to, or the job's state when it was scheduled.
    state: String,
    transition: String,
    due_at: DateTime<Utc>,
    /// `pending`, `running`, `succeeded` (fired), `failed` or `cancelled`.
    status: Closed<Statuses>,
    created_at: DateTime<Utc>,
}

impl From<TimerView> for TimerBody {
    fn from(t: TimerView) -> Self {
        TimerBody {
            id: t.id,
            job_id: t.job_id.0,
            kind: t.kind.into(),
            state: t.state,
            transition: t.transition,
            due_at: t.due_at,
            status: t.status.as_str().into(),
            created_at: t.created_at,
        }
    }
}

#[derive(Object)]
struct TimerList {
    items: Vec<TimerBody>,
}

#[derive(ApiResponse)]
enum CancelResponse {
    /// The timer was cancelled; it will not fire.
    #[oai(status = 204)]
    Cancelled,
}

/// When a scheduled transition is due: `at`, or `after` from now.
pub(super) fn due_at(
    at: Option<DateTime<Utc>>,
    after: Option<&str>,
) -> Result<DateTime<Utc>, ApiError> {
    let due = match (at, after) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "at",
                "give either \"at\" or \"after\", not both",
            ))
        }
        (Some(at), None) => at,
        (None, Some(after)) => {
            let after = parse_duration(after).map_err(|m| ApiError::invalid("after", m))?;
            if after < MIN_TIMEOUT {
                return Err(ApiError::invalid("after", "must be at least 1s"));
            }
            Utc::now() + TimeDelta::from_std(after).unwrap_or(TimeDelta::MAX)
        }
        (None, None) => return Err(ApiError::invalid("at", "give \"at\" or \"after\"")),
    };
    // A time already past fires at once; one more than a year ahead is a mistake.
    if due > Utc::now() + TimeDelta::from_std(MAX_AHEAD).unwrap_or(TimeDelta::MAX) {
        return Err(ApiError::invalid("at", "must be at most a year ahead"));
    }
    Ok(due)
}

/// Schedules a transition by name instead of applying it now.
pub(super) async fn schedule(
    state: &AppState,
    actor: &Actor,
    scheduled: Scheduled,
    key: Option<&IdempotencyKey>,
) -> Result<TimerBody, ApiError> {
    let (timer, _) = timer::schedule_transition(&state.pool, actor, &scheduled, key)
        .await
        .map_err(|err| match err {
            ScheduleError::JobNotFound(id) => ApiError::not_found("job", id),
            ScheduleError::UnknownTransition(_) => ApiError::invalid("transition", err.to_string()),
            ScheduleError::TooManyTimers => ApiError::quota("Open timers per job", err.to_string()),
            ScheduleError::TenantTimers => {
                ApiError::quota("Open timers per tenant", err.to_string())
            }
            ScheduleError::Idempotency(err) => idempotency_error(err),
            ScheduleError::Store(err) => err.into(),
        })?;
    // Due now (a time already past) is work for the worker at once.
    state.committed();
    Ok(timer.into())
}

#[OpenApi(tag = "ApiTags::Jobs")]
impl TimersApi {
    /// The job's timers that have not fired or been cancelled, soonest first: the first
    /// `limit` (at most 100, the most a job may have open).
    #[oai(
        path = "/api/v1/jobs/:id/timers",
        method = "get",
        operation_id = "listJobTimers"
    )]
    async fn list(
        &self,
        auth: ApiKeyAuth,
        id: Path<Uuid>,
        limit: Query<Option<i64>>,
    ) -> Result<Json<TimerList>, ApiError> {
        let actor = auth.require(&[Scope::Service, Scope::Auditor])?;
        let max = timer::MAX_OPEN_PER_JOB;
        let limit = super::paging::limit(limit.0, max, max)?;
        let timers =
            timer::list_open(&self.state.pool, actor.tenant_id, JobId(id.0), limit).await?;
        Ok(Json(TimerList {
            items: timers.into_iter().map(Into::into).collect(),
        }))
    }

    /// Cancel a timer that has not fired; 404 if there is no such pending timer.
    #[oai(
        path = "/api/v1/jobs/:id/timers/:timer_id",
        method = "delete",
        operation_id = "cancelTimer"
    )]
    async fn cancel(
        &self,
        auth: ApiKeyAuth,
        id: Path<Uuid>,
        timer_id: Path<Uuid>,
    ) -> Result<CancelResponse, ApiError> {
        let actor = auth.require(&[Scope::Service])?;
        if timer::cancel(&self.state.pool, &actor, JobId(id.0), timer_id.0).await? {
            self.state.committed_events();
            Ok(CancelResponse::Cancelled)
        } else {
            Err(Problem::new(
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                format!("job {} has no pending timer {}", id.0, timer_id.0),
            )
            .into())
        }
    }
}

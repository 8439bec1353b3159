//! `/admin/jobs`, `/admin/jobs/{id}` and the job's live timeline: the list with filters
//! and search, and one job on its workflow's diagram with the transitions it may take
//! (sent through `POST /api/v1/jobs/{id}/transitions`) and every event of its stream.

use poem::http::{header, StatusCode};
use poem::web::{Data, Path, Query};
use poem::{handler, Request, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use switchyard_engine::api_key::Scope;
use switchyard_engine::definition::{inputs, WorkflowDefinition};
use switchyard_engine::events::action::{ActionAttempted, ActionRetried, ActionSkipped};
use switchyard_engine::events::job::{JobCreated, JobTransitioned};
use switchyard_engine::events::timer::{TimerCancelled, TimerFired, TimerScheduled};
use switchyard_engine::events::Payload;
use switchyard_engine::intake::receipt;
use switchyard_engine::job::outbox;
use switchyard_engine::job::read::{self, JobFilter};
use switchyard_engine::job::Job;
use switchyard_engine::log::{self, Event, EventType};
use switchyard_engine::queue::Status;
use switchyard_engine::timer;
use switchyard_engine::{workflow, JobId, StoreError};
use uuid::Uuid;

use super::diagram;
use super::filters::{between, day, given};
use super::render::{fragment, pretty, when};
use super::sections;
use super::visit::{Page, Visit};
use crate::state::AppState;

/// How many jobs the list shows.
const LISTED: i64 = 100;
/// How many events of one job the timeline shows.
const TIMELINE: i64 = 1000;

#[derive(Deserialize, Default)]
pub struct Filters {
    workflow: Option<String>,
    state: Option<String>,
    /// A day, `YYYY-MM-DD`: jobs created on or after it.
    since: Option<String>,
    /// A day: jobs created before the end of it.
    until: Option<String>,
    /// A job id or an external id.
    q: Option<String>,
}

fn job_row(job: &Job) -> Value {
    json!({
        "id": job.id.to_string(),
        "workflow": job.workflow,
        "workflow_version": job.workflow_version,
        "state": job.state,
        "external_id": job.external_id,
        "created_at": when(&job.created_at),
        "updated_at": when(&job.updated_at),
    })
}

#[handler]
pub async fn list(
    req: &Request,
    Data(state): Data<&AppState>,
    Query(filters): Query<Filters>,
) -> Page {
    let visit = Visit::start(req, state, &sections::JOBS).await?;
    let mut errors = Vec::new();
    let since = day("From", &filters.since, &mut errors);
    let until = day("To", &filters.until, &mut errors);
    let (since, until) = between(since, until);
    let search = given(&filters.q).map(str::to_string);
    let jobs = match search.as_deref().map(Uuid::parse_str) {
        Some(Ok(id)) => read::get(&state.pool, visit.tenant(), JobId(id))
            .await?
            .into_iter()
            .collect(),
        _ => {
            let filter = JobFilter {
                workflow: given(&filters.workflow).map(str::to_string),
                state: given(&filters.state).map(str::to_string),
                since,
                until,
                external_id: search.clone(),
                newest_first: true,
                ..JobFilter::default()
            };
            read::list(&state.pool, visit.tenant(), &filter, LISTED).await?
        }
    };
    let workflows = workflow::list(&state.pool, visit.tenant(), None, 500).await?;
    // New job: each workflow with the context fields it reads, for the form's fields.
    let creatable: Vec<Value> = if visit.may(&[Scope::Service]) {
        workflow::newest_definitions(&state.pool, visit.tenant(), 100)
            .await?
            .iter()
            .map(|d| {
                let fields = inputs::context_inputs(d);
                json!({"name": d.name, "fields": serde_json::to_string(&fields).unwrap_or_default()})
            })
            .collect()
    } else {
        Vec::new()
    };
    let names: Vec<Value> = workflows
        .iter()
        .map(|w| json!({"name": w.name, "selected": filters.workflow.as_deref() == Some(w.name.as_str())}))
        .collect();
    visit.page(
        "Jobs",
        "jobs",
        json!({
            "jobs": jobs.iter().map(job_row).collect::<Vec<_>>(),
            "workflows": names,
            "state": filters.state,
            "since": filters.since,
            "until": filters.until,
            "q": filters.q,
            "errors": errors,
            "limit": LISTED,
            "creatable": creatable,
        }),
    )
}

#[handler]
pub async fn show(req: &Request, Data(state): Data<&AppState>, Path(id): Path<String>) -> Page {
    let visit = Visit::start(req, state, &sections::JOBS).await?;
    let Some(job) = find(state, &visit, &id).await? else {
        return Err(visit.not_found("job"));
    };
    let published = workflow::get(
        &state.pool,
        job.tenant_id,
        &job.workflow,
        Some(job.workflow_version),
    )
    .await?;
    let def =
        published.and_then(|p| serde_json::from_value::<WorkflowDefinition>(p.definition).ok());
    let (diagram, allowed) = match &def {
        Some(def) => (
            diagram::draw(def, Some(&job.state), false),
            def.allowed_from(&job.state)
                .map(|t| {
                    json!({
                        "name": t.name,
                        "to": t.to,
                        "job_id": job.id.to_string(),
                        "expected_version": job.version,
                        "fields": inputs::transition_inputs(t).iter().map(|i| json!({
                            "name": i.name, "label": i.name.replace('_', " "),
                            "number": i.kind == "number"})).collect::<Vec<_>>(),
                    })
                })
                .collect::<Vec<_>>(),
        ),
        None => (String::new(), Vec::new()),
    };
    let events = timeline_html(state, &job).await?;
    let can_move = visit.may(&[Scope::Service]);
    let runs: Vec<Value> = outbox::list_for_job(&state.pool, job.tenant_id, job.id)
        .await?
        .into_iter()
        .map(|r| {
            json!({"id": r.id, "job_id": job.id.to_string(), "name": r.name,
                   "transition": r.transition, "status": r.progress.status,
                   "attempts": r.progress.attempts, "last_error": r.progress.last_error,
                   "failed": r.progress.status == Status::Failed})
        })
        .collect();
    // The signed webhooks that named this job, for those who may open the intake pages.
    let receipts: Vec<Value> = if visit.may(&[Scope::Designer]) {
        receipt::for_job(&state.pool, job.tenant_id, job.id.0, 50)
            .await?
            .into_iter()
            .map(|(r, endpoint)| {
                json!({"endpoint": endpoint, "endpoint_id": r.endpoint_id, "id": r.id,
                       "outcome": r.outcome.as_str(), "received_at": when(&r.received_at),
                       "event_id": r.event_id})
            })
            .collect()
    } else {
        Vec::new()
    };
    let timers: Vec<Value> =
        timer::list_open(&state.pool, job.tenant_id, job.id, timer::MAX_OPEN_PER_JOB)
            .await?
            .into_iter()
            .map(|t| {
                json!({
                    "id": t.id.to_string(), "job_id": job.id.to_string(), "kind": t.kind,
                    "state": t.state, "transition": t.transition, "due_at": when(&t.due_at),
                    "can_cancel": can_move,
                })
            })
            .collect();
    visit.page(
        &format!("Job {}", job.id),
        "job",
        json!({
            "job": job_row(&job),
            "version": job.version,
            "previous_state": job.previous_state,
            "context": pretty(&job.context),
            "diagram": diagram,
            "allowed": allowed,
            "can_move": can_move,
            "timers": timers,
            "timeline": events,
            "receipts": receipts,
            "runs": runs,
        }),
    )
}

/// `GET /admin/jobs/{id}/timeline`: the timeline alone, for the page to refresh itself.
#[handler]
pub async fn timeline(req: &Request, Data(state): Data<&AppState>, Path(id): Path<String>) -> Page {
    let visit = Visit::start(req, state, &sections::JOBS).await?;
    let Some(job) = find(state, &visit, &id).await? else {
        return Err(visit.not_found("job"));
    };
    let html = timeline_html(state, &job).await?;
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(html))
}

async fn find(state: &AppState, visit: &Visit, id: &str) -> Result<Option<Job>, StoreError> {
    match Uuid::parse_str(id) {
        Ok(id) => read::get(&state.pool, visit.tenant(), JobId(id)).await,
        Err(_) => Ok(None),
    }
}

async fn timeline_html(state: &AppState, job: &Job) -> Result<String, StoreError> {
    let client = state.pool.get().await?;
    let events = log::read::stream(&client, job.tenant_id, job.id.0, 0, TIMELINE).await?;
    let items: Vec<Value> = events.iter().rev().map(timeline_item).collect();
    Ok(fragment("timeline", &json!({ "events": items })))
}

/// One event as the timeline shows it: a headline, its kind, and what it carried. Job,
/// timer and action events are read as their types; a payload that does not read as its
/// type (a row written by hand) is shown by its type alone, with its data.
fn timeline_item(event: &Event) -> Value {
    let d = &event.data;
    let mut attempt = None;
    let (kind, headline) = match event.event_type {
        EventType::JobCreated => match JobCreated::from_data(d) {
            Ok(c) => ("created", format!("Created in {}", c.state)),
            Err(_) => unread(event),
        },
        EventType::JobTransitioned => match JobTransitioned::from_data(d) {
            Ok(t) => (
                "transition",
                format!("{}: {} → {}", t.transition, t.from, t.to),
            ),
            Err(_) => unread(event),
        },
        EventType::ActionSkipped => match ActionSkipped::from_data(d) {
            Ok(s) => ("skipped", format!("{} skipped: {}", s.name, s.reason)),
            Err(_) => unread(event),
        },
        EventType::ActionRetried => match ActionRetried::from_data(d) {
            Ok(r) => ("retried", format!("{} retried: one more attempt", r.name)),
            Err(_) => unread(event),
        },
        EventType::ActionSucceeded | EventType::ActionRetryScheduled | EventType::ActionFailed => {
            match serde_json::from_value::<ActionAttempted>(d.clone()) {
                Ok(a) => {
                    let item = (
                        event.event_type.as_str().trim_start_matches("action."),
                        attempt_headline(event.event_type, &a),
                    );
                    attempt = Some(a);
                    item
                }
                Err(_) => unread(event),
            }
        }
        EventType::TimerScheduled => match TimerScheduled::from_data(d) {
            Ok(t) => (
                "timer",
                format!("Timer set: {} at {}", t.transition, json_time(&t.due_at)),
            ),
            Err(_) => unread(event),
        },
        EventType::TimerFired => match TimerFired::from_data(d) {
            Ok(t) => (
                "timer",
                format!("Timer fired: {} ({} ms late)", t.transition, t.late_ms),
            ),
            Err(_) => unread(event),
        },
        EventType::TimerCancelled => match TimerCancelled::from_data(d) {
            Ok(t) => (
                "timer",
                format!("Timer cancelled: {} ({})", t.transition, t.reason),
            ),
            Err(_) => unread(event),
        },
        _ => unread(event),
    };
    let exchange = attempt.as_ref().and_then(|a| a.exchange.as_ref());
    json!({
        "type": event.event_type,
        "kind": kind,
        "headline": headline,
        "version": event.stream_version,
        "recorded_at": when(&event.recorded_at),
        "excerpt": exchange.map(|x| &x.response.excerpt).filter(|e| !e.is_empty()),
        "error": attempt.as_ref().and_then(|a| a.error.as_deref()),
        "next_attempt_at": exchange.and_then(|x| x.next_attempt_at.as_ref()).map(when),
        "guard": d.get("guard").filter(|g| !g.is_null()).map(pretty),
        "data": pretty(d),
    })
}

/// An event the timeline has no headline for: its type.
fn unread(event: &Event) -> (&'static str, String) {
    ("other", event.event_type.as_str().to_string())
}

/// `update_crm failed, attempt 3: status 500 in 12 ms`.
fn attempt_headline(event_type: EventType, a: &ActionAttempted) -> String {
    let outcome = event_type.as_str().trim_start_matches("action.");
    let (status, duration) = match &a.exchange {
        Some(x) => (
            x.status_code
                .map_or("no answer".to_string(), |s| format!("status {s}")),
            format!(" in {} ms", x.duration_ms),
        ),
        // Nothing left (a template that did not render, a refused address): say so.
        None if !a.sent => ("not sent".to_string(), String::new()),
        None => ("no answer".to_string(), String::new()),
    };
    format!(
        "{} {outcome}, attempt {}: {status}{duration}",
        a.name, a.attempt
    )
}

/// A time as the log stores it in a payload (RFC 3339), for a headline.
fn json_time(at: &chrono::DateTime<chrono::Utc>) -> String {
    serde_json::to_value(at)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

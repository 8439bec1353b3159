//! `/admin/jobs`, `/admin/jobs/{id}` and the job's live timeline: the list with filters
//! and search, and one job on its workflow's diagram with the transitions it may take
//! (sent through `POST /api/v1/jobs/{id}/transitions`) and every event of its stream.

use poem::http::{header, StatusCode};
use poem::web::{Data, Path, Query};
use poem::{handler, Request, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use switchyard_engine::api_key::Scope;
use switchyard_engine::definition::WorkflowDefinition;
use switchyard_engine::job::read::{self, JobFilter};
use switchyard_engine::job::Job;
use switchyard_engine::log::{self, Event};
use switchyard_engine::timer;
use switchyard_engine::{workflow, JobId, StoreError};
use uuid::Uuid;

use super::diagram;
use super::filters::{between, day, given};
use super::render::{fragment, pretty, when};
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
    let visit = Visit::start(req, state, "/admin/jobs", &[Scope::Service, Scope::Auditor]).await?;
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
        }),
    )
}

#[handler]
pub async fn show(req: &Request, Data(state): Data<&AppState>, Path(id): Path<String>) -> Page {
    let visit = Visit::start(req, state, "/admin/jobs", &[Scope::Service, Scope::Auditor]).await?;
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
                    })
                })
                .collect::<Vec<_>>(),
        ),
        None => (String::new(), Vec::new()),
    };
    let events = timeline_html(state, &job).await?;
    let can_move = visit.may(&[Scope::Service]);
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
        }),
    )
}

/// `GET /admin/jobs/{id}/timeline`: the timeline alone, for the page to refresh itself.
#[handler]
pub async fn timeline(req: &Request, Data(state): Data<&AppState>, Path(id): Path<String>) -> Page {
    let visit = Visit::start(req, state, "/admin/jobs", &[Scope::Service, Scope::Auditor]).await?;
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

/// One event as the timeline shows it: a headline, its kind, and what it carried.
fn timeline_item(event: &Event) -> Value {
    let d = &event.data;
    let text = |key: &str| d.get(key).and_then(Value::as_str).unwrap_or("").to_string();
    let (kind, headline) = match event.event_type.as_str() {
        "job.created" => ("created", format!("Created in {}", text("state"))),
        "job.transitioned" => (
            "transition",
            format!("{}: {} → {}", text("transition"), text("from"), text("to")),
        ),
        t if t.starts_with("action.") => {
            let outcome = t.trim_start_matches("action.");
            let status = d
                .get("status_code")
                .and_then(Value::as_i64)
                .map_or("no answer".to_string(), |s| format!("status {s}"));
            let duration = d
                .get("duration_ms")
                .and_then(Value::as_i64)
                .map_or(String::new(), |ms| format!(" in {ms} ms"));
            let attempt = event
                .metadata
                .get("attempt")
                .and_then(Value::as_i64)
                .map_or(String::new(), |a| format!(", attempt {a}"));
            let headline = if outcome == "skipped" {
                format!("{} skipped: {}", text("name"), text("reason"))
            } else {
                format!("{} {outcome}{attempt}: {status}{duration}", text("name"))
            };
            (outcome, headline)
        }
        "timer.scheduled" => (
            "timer",
            format!("Timer set: {} at {}", text("transition"), text("due_at")),
        ),
        "timer.fired" => (
            "timer",
            format!(
                "Timer fired: {} ({} ms late)",
                text("transition"),
                d.get("late_ms").and_then(Value::as_i64).unwrap_or_default()
            ),
        ),
        "timer.cancelled" => (
            "timer",
            format!(
                "Timer cancelled: {} ({})",
                text("transition"),
                text("reason")
            ),
        ),
        other => ("other", other.to_string()),
    };
    json!({
        "type": event.event_type,
        "kind": kind,
        "headline": headline,
        "version": event.stream_version,
        "recorded_at": when(&event.recorded_at),
        "excerpt": d.pointer("/response/excerpt").and_then(Value::as_str),
        "error": d.get("error").and_then(Value::as_str),
        "next_attempt_at": d.get("next_attempt_at").and_then(Value::as_str),
        "guard": d.get("guard").filter(|g| !g.is_null()).map(pretty),
        "data": pretty(d),
    })
}

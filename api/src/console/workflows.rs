//! `/admin/workflows` and `/admin/workflows/{name}`: the list with versions, and a
//! workflow drawn as a diagram with the designer around it. The designer edits a draft in
//! the browser and publishes it through `POST /api/v1/workflows`; this handler only reads.

use poem::web::{Data, Path, Query};
use poem::{handler, Request};
use serde::Deserialize;
use serde_json::{json, Value};
use switchyard_engine::connection::Connection;
use switchyard_engine::definition::WorkflowDefinition;
use switchyard_engine::sealed::SealedRow;
use switchyard_engine::workflow;

use super::diagram;
use super::render::{pretty, when};
use super::sections;
use super::visit::{Page, Visit};
use crate::state::AppState;

/// How many workflow names the list shows.
const LISTED: i64 = 500;

#[handler]
pub async fn list(req: &Request, Data(state): Data<&AppState>) -> Page {
    let visit = Visit::start(req, state, &sections::WORKFLOWS).await?;
    let items = workflow::list(&state.pool, visit.tenant(), None, LISTED).await?;
    let rows: Vec<Value> = items
        .iter()
        .map(|w| {
            json!({
                "name": w.name,
                "latest_version": w.latest_version,
                "updated_at": when(&w.updated_at),
            })
        })
        .collect();
    visit.page("Workflows", "workflows", json!({ "workflows": rows }))
}

#[derive(Deserialize)]
pub struct Shown {
    version: Option<i32>,
    published: Option<i32>,
}

#[handler]
pub async fn show(
    req: &Request,
    Data(state): Data<&AppState>,
    Path(name): Path<String>,
    Query(shown): Query<Shown>,
) -> Page {
    let visit = Visit::start(req, state, &sections::WORKFLOWS).await?;
    let tenant = visit.tenant();
    let Some(latest) = workflow::get(&state.pool, tenant, &name, None).await? else {
        return Err(visit.not_found("workflow"));
    };
    let shown_version = shown.version.unwrap_or(latest.version);
    let Some(published) = workflow::get(&state.pool, tenant, &name, Some(shown_version)).await?
    else {
        return Err(visit.not_found("workflow version"));
    };
    let Ok(def) = serde_json::from_value::<WorkflowDefinition>(published.definition.clone()) else {
        return Err(visit.refuse(
            poem::http::StatusCode::INTERNAL_SERVER_ERROR,
            "Unreadable definition",
            "This version's stored definition cannot be read; publish a new version as JSON.",
        ));
    };
    let connections = Connection::list(&state.pool, tenant, None, 500).await?;
    let choices: Vec<Value> = connections
        .iter()
        .map(|c| json!({"id": c.id, "name": c.connection_name, "provider": c.provider}))
        .collect();
    let sample = json!({
        "job": {
            "id": "00000000-0000-0000-0000-000000000000",
            "current_state": def.initial,
            "previous_state": null,
            "workflow": def.name,
            "workflow_version": published.version,
            "version": 1,
            "context": {},
            "external_id": null,
        },
        "tenant": {"id": tenant.to_string(), "name": "your tenant"},
        "transition": {"data": {}},
        "last_actions": {},
    });
    let versions: Vec<Value> = (1..=latest.version)
        .rev()
        .map(|v| json!({"version": v, "current": v == shown_version}))
        .collect();
    let transitions: Vec<Value> = def
        .transitions
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "from": t.from.join(", "),
                "to": t.to,
                "actions": t.actions.len(),
            })
        })
        .collect();
    visit.page(
        &format!("Workflow {name}"),
        "workflow",
        json!({
            "name": def.name,
            "description": def.description,
            "version": published.version,
            "latest": shown_version == latest.version,
            "latest_version": latest.version,
            "published_now": shown.published,
            "created_at": when(&published.created_at),
            "versions": versions,
            "transitions": transitions,
            "diagram": diagram::draw(&def, None, true),
            "definition": published.definition.to_string(),
            "definition_pretty": pretty(&published.definition),
            "connections": Value::Array(choices).to_string(),
            "sample_context": pretty(&sample),
        }),
    )
}

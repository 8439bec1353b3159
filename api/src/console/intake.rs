//! `/admin/intake` and `/admin/intake/{id}`: intake endpoints (created with a scheme
//! picker, the made secret shown once, the public URL to copy), routes edited with a
//! preview against a pasted sample, and the receipts with their outcome and Replay.
//! Changes go through `/api/v1/intake`; these handlers only read.

use poem::web::{Data, Path};
use poem::{handler, Request};
use serde_json::{json, Value};
use switchyard_actions::intake::config::SCHEMES;
use switchyard_engine::intake::receipt;
use switchyard_engine::intake::Endpoint;
use switchyard_engine::sealed::SealedRow;
use uuid::Uuid;

use super::render::{pretty, when};
use super::sections;
use super::visit::{Page, Visit};
use crate::routes::public_base;
use crate::state::AppState;

/// Receipts shown on an endpoint's page.
const RECEIPTS: i64 = 100;

/// A starting point for new routes: one route, to be edited.
const EXAMPLE_ROUTES: &str = r#"[
  {
    "when": {"==": [{"var": "body.status"}, "done"]},
    "job": {"external_id": "{{body.id}}"},
    "transition": "complete",
    "data": {"by": "{{body.user}}"}
  }
]"#;

fn view(state: &AppState, req: &Request, e: &Endpoint) -> Value {
    let (refused, recent) = state.intake.refusals.of(e.id);
    json!({
        "id": e.id,
        "name": e.name,
        "scheme": e.scheme,
        "settings": e.settings.as_object().map(|s| s.iter()
            .map(|(k, v)| format!("{k} {}", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>().join(", ")),
        "url": format!("{}/in/{}", public_base(state, req), e.id),
        "routes": pretty(&e.routes),
        "route_count": e.routes.as_array().map_or(0, Vec::len),
        "refused": refused,
        "recent_refusals": recent.iter().map(|r| json!({"at": when(&r.at), "reason": r.reason})).collect::<Vec<_>>(),
        "created_at": when(&e.created_at),
    })
}

#[handler]
pub async fn list(req: &Request, Data(state): Data<&AppState>) -> Page {
    let visit = Visit::start(req, state, &sections::INTAKE).await?;
    let endpoints = Endpoint::list(&state.pool, visit.tenant(), None, 100).await?;
    visit.page(
        "Intake",
        "intake",
        json!({
            "endpoints": endpoints.iter().map(|e| view(state, req, e)).collect::<Vec<_>>(),
            "schemes": SCHEMES,
            "example_routes": EXAMPLE_ROUTES,
        }),
    )
}

#[handler]
pub async fn show(req: &Request, Data(state): Data<&AppState>, Path(id): Path<String>) -> Page {
    let visit = Visit::start(req, state, &sections::INTAKE).await?;
    let found = match Uuid::parse_str(&id) {
        Ok(id) => Endpoint::get(&state.pool, visit.tenant(), id).await?,
        Err(_) => None,
    };
    let Some(endpoint) = found else {
        return Err(visit.not_found("intake endpoint"));
    };
    let receipts = receipt::list(
        &state.pool,
        visit.tenant(),
        endpoint.id,
        None,
        None,
        RECEIPTS,
    )
    .await?;
    let now = chrono::Utc::now();
    let rows: Vec<Value> = receipts
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "endpoint_id": r.endpoint_id,
                "received_at": when(&r.received_at),
                "delivery_id": r.delivery_id,
                "outcome": r.outcome.as_str(),
                "route": r.route,
                "job_id": r.job_id,
                "reason": r.detail.as_ref().and_then(|d| d["reason"].as_str()),
                "replays": r.replays,
                "replayable": r.replayable(now),
                "body": String::from_utf8(r.body.clone()).ok(),
            })
        })
        .collect();
    visit.page(
        &format!("Intake endpoint {}", endpoint.name),
        "intake_endpoint",
        json!({
            "e": view(state, req, &endpoint),
            "receipts": rows,
            "limit": RECEIPTS,
        }),
    )
}

//! `/admin`: who is signed in, and what to do next: the sections this role may open with
//! what each is for, and the tenant's own workflows, jobs and intake endpoints to go on
//! from (the demo's, after `switchyard demo`).

use poem::web::Data;
use poem::{handler, Request};
use serde_json::{json, Value};
use switchyard_engine::intake::Endpoint;
use switchyard_engine::job::read::{self, JobFilter};
use switchyard_engine::sealed::SealedRow;
use switchyard_engine::workflow;

use super::render::when;
use super::sections::{self, Section};
use super::visit::{Page, Visit};
use crate::state::AppState;

/// How many of each kind of object the page links.
const SHOWN: i64 = 5;

/// What each section is for, in a line.
fn purpose(section: &Section) -> &'static str {
    match section.href {
        "/admin/integrations" => "Connect Twilio, SendGrid, a REST API or a Zapier catch hook: the targets of your actions.",
        "/admin/workflows" => "Draw and publish state machines, and attach WEBHOOK actions to their transitions.",
        "/admin/jobs" => "Follow jobs through their workflows, move them on, and read each one's timeline.",
        "/admin/subscriptions" => "Send the log's events to your systems as signed webhooks.",
        "/admin/intake" => "Let Twilio, Stripe, GitHub and others move jobs with their signed webhooks.",
        "/admin/audit" => "Page, verify and export the hash-chained event log, and see what was sent.",
        "/admin/users" => "Invite people and make API keys.",
        _ => "",
    }
}

#[handler]
pub async fn show(req: &Request, Data(state): Data<&AppState>) -> Page {
    landing(req, state).await
}

/// The page, for `/admin/` and for `/admin` (which the router hands to the fallback).
pub async fn landing(req: &Request, state: &AppState) -> Page {
    let visit = Visit::start(req, state, &sections::ACCOUNT).await?;
    let role = visit.user.role;
    let next: Vec<Value> = sections::NAVIGATION
        .iter()
        .filter(|s| s.opens_for(role))
        .map(|s| json!({"label": s.label, "href": s.href, "purpose": purpose(s)}))
        .collect();
    let pool = &state.pool;
    let tenant = visit.tenant();
    let mut workflows = Vec::new();
    if sections::WORKFLOWS.opens_for(role) {
        for w in workflow::list(pool, tenant, None, SHOWN).await? {
            workflows.push(json!({"name": w.name, "version": w.latest_version}));
        }
    }
    let mut jobs = Vec::new();
    if sections::JOBS.opens_for(role) {
        let newest = JobFilter {
            newest_first: true,
            ..JobFilter::default()
        };
        for j in read::list(pool, tenant, &newest, SHOWN).await? {
            jobs.push(
                json!({"id": j.id.to_string(), "workflow": j.workflow, "state": j.state,
                             "updated_at": when(&j.updated_at)}),
            );
        }
    }
    let mut endpoints = Vec::new();
    if sections::INTAKE.opens_for(role) {
        for e in Endpoint::list(pool, tenant, None, SHOWN).await? {
            endpoints.push(json!({"id": e.id, "name": e.name, "scheme": e.scheme}));
        }
    }
    let empty = workflows.is_empty() && jobs.is_empty() && endpoints.is_empty();
    visit.page(
        "Your account",
        "account",
        json!({"next": next, "workflows": workflows, "jobs": jobs, "endpoints": endpoints,
               "empty": empty, "designer": sections::WORKFLOWS.opens_for(role)}),
    )
}

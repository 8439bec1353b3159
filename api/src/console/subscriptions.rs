//! `/admin/subscriptions` and `/admin/subscriptions/{id}` (seed 002): the list with health
//! and enabled state, creating with the event-type picker, and one subscription's delivery
//! log with Redeliver. Changes go through `/api/hooks/webhooks`; this handler only reads.

use poem::web::{Data, Path};
use poem::{handler, Request};
use rand::distr::{Alphanumeric, SampleString};
use serde_json::{json, Value};
use switchyard_engine::sealed::SealedRow;
use switchyard_engine::subscription::delivery_log as delivery;
use switchyard_engine::subscription::event_types::subscribable_types;
use switchyard_engine::subscription::Subscription;
use uuid::Uuid;

use super::render::{when, when_opt};
use super::sections;
use super::visit::{Page, Visit};
use crate::state::AppState;

/// Deliveries shown on a subscription's page.
const DELIVERIES: i64 = 100;

fn view(s: &Subscription) -> Value {
    json!({
        "id": s.id,
        "name": s.name,
        "url_preview": s.url_preview,
        "event_types": s.event_types.join(", "),
        "enabled": s.enabled,
        "disabled_reason": s.disabled_reason,
        "has_secret": s.has_secret,
        "health": s.health,
        "last_delivery_at": when_opt(s.last_delivery_at.as_ref()),
        "limits": s.flow.limits,
    })
}

/// Patterns offered before the single types: everything, and each family.
const PATTERNS: [(&str, &str); 4] = [
    ("*", "Every event below, and any added later."),
    ("job.*", "Every job event."),
    ("action.*", "Every action event."),
    ("connection.*", "Every connection event."),
];

/// The event-type picker: the patterns, then every subscribable type, each ticked when
/// `chosen` lists it.
fn picker(chosen: &[String]) -> Vec<Value> {
    let patterns = PATTERNS
        .iter()
        .map(|(pattern, meaning)| (pattern.to_string(), meaning.to_string()));
    let types = subscribable_types().map(|t| {
        (
            t.as_str().to_string(),
            t.description().unwrap_or_default().to_string(),
        )
    });
    patterns
        .chain(types)
        .enumerate()
        .map(|(i, (name, meaning))| {
            json!({"index": i, "type": name, "meaning": meaning,
                   "checked": chosen.contains(&name)})
        })
        .collect()
}

#[handler]
pub async fn list(req: &Request, Data(state): Data<&AppState>) -> Page {
    let visit = Visit::start(req, state, &sections::SUBSCRIPTIONS).await?;
    let subscriptions = Subscription::list(&state.pool, visit.tenant(), None, 500).await?;
    // A fresh secret each time the form is shown; it is never shown again after creating.
    let secret = format!("whsec_{}", Alphanumeric.sample_string(&mut rand::rng(), 32));
    visit.page(
        "Subscriptions",
        "subscriptions",
        json!({
            "subscriptions": subscriptions.iter().map(view).collect::<Vec<_>>(),
            "picker": picker(&["job.transitioned".to_string()]),
            "secret": secret,
        }),
    )
}

#[handler]
pub async fn show(req: &Request, Data(state): Data<&AppState>, Path(id): Path<String>) -> Page {
    let visit = Visit::start(req, state, &sections::SUBSCRIPTIONS).await?;
    let found = match Uuid::parse_str(&id) {
        Ok(id) => Subscription::get(&state.pool, visit.tenant(), id).await?,
        Err(_) => None,
    };
    let Some(s) = found else {
        return Err(visit.not_found("subscription"));
    };
    let deliveries = delivery::list(&state.pool, visit.tenant(), s.id, None, DELIVERIES).await?;
    let rows: Vec<Value> = deliveries
        .iter()
        .map(|d| {
            json!({
                "id": d.id,
                "subscription_id": s.id,
                "event_id": d.event_id,
                "event_type": d.event_type,
                "status": d.progress.status,
                "attempts": d.progress.attempts,
                "last_status_code": d.progress.last_status_code,
                "last_error": d.progress.last_error,
                "created_at": when(&d.progress.created_at),
                "next_attempt_at": when_opt(d.progress.next_attempt_at.as_ref()),
                "finished": d.progress.status.is_final(),
                "attempt_log": d.attempt_log.iter().map(|a| json!({
                    "attempt": a.attempt,
                    "outcome": a.outcome,
                    "status_code": a.status_code,
                    "error": a.error,
                    "excerpt": a.response_excerpt,
                    "duration_ms": a.duration_ms,
                    "recorded_at": when(&a.recorded_at),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    visit.page(
        &format!("Subscription {}", s.name),
        "subscription",
        json!({
            "s": view(&s),
            "picker": picker(&s.event_types),
            "deliveries": rows,
            "limit": DELIVERIES,
            "limits_text": subscription_limits(&s.flow.limits, state.deliveries.per_minute),
            "state": super::integrations::flow_state(false, s.flow.held_until.as_ref(), s.flow.held_reason.as_deref()),
        }),
    )
}

/// A subscription's limits as shown: without a rate of its own, the server's per-minute
/// default applies, and the page says so.
fn subscription_limits(limits: &switchyard_engine::flow::Limits, per_minute: i32) -> String {
    let shown = super::integrations::limits_text(limits);
    match (limits.rate, shown.as_str()) {
        (Some(_), _) => shown,
        (None, "none") => format!("{per_minute}/m (the server's default)"),
        (None, _) => format!("{shown}, {per_minute}/m (the server's default)"),
    }
}

//! `/admin/integrations` (seeds 000 and 003): the catalogue as cards, the Webhook / Zapier
//! connector, New connection, and the tenant's connections with what uses them. Changes
//! go through the HTTP API from the page's forms; this handler only reads.

use poem::web::Data;
use poem::{handler, Request};
use serde_json::{json, Value};
use switchyard_actions::providers::Provider;
use switchyard_engine::api_key::Scope;
use switchyard_engine::connection::{self, Connection};
use switchyard_engine::sealed::SealedRow;

use chrono::{DateTime, Utc};
use switchyard_engine::flow::Limits;

use super::render::{when, when_opt};
use super::sections;
use super::visit::{Page, Visit};
use crate::state::AppState;

/// How many connections the page lists.
const LISTED: i64 = 500;

fn connection_view(c: &Connection, used_by: &[String], admin: bool) -> Value {
    let provider = Provider::parse(&c.provider);
    // The edit form's credential fields: a whole new set, in the provider's shape.
    let fields: Vec<Value> = provider
        .map(credential_fields)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, kind, required)| {
            json!({"name": name, "label": name.replace('_', " "), "optional": !required,
                   "secret": kind == "secret", "url": kind == "url"})
        })
        .collect();
    json!({
        "fields": fields,
        "edit_prefix": format!("edit-{}", c.id),
        // The test event goes to webhook connections, and takes an admin (seed 000).
        "can_test": admin && provider == Some(Provider::Webhook),
        "id": c.id,
        "name": c.connection_name,
        "provider": c.provider,
        "provider_name": provider.map_or(c.provider.as_str(), |p| p.describe().0),
        "health": c.health,
        "last_event_at": when_opt(c.last_event_at.as_ref()),
        "endpoint_preview": c.endpoint_preview,
        "used_by": used_by,
        "limits": c.flow.limits,
        "limits_text": limits_text(&c.flow.limits),
        "paused": c.paused_at.is_some(),
        "state": flow_state(c.paused_at.is_some(), c.flow.held_until.as_ref(), c.flow.held_reason.as_deref()),
    })
}

/// A destination's limits as the console shows them.
pub(super) fn limits_text(limits: &Limits) -> String {
    let mut parts = Vec::new();
    if let Some(rate) = limits.rate {
        parts.push(rate.to_string());
    }
    if let Some(n) = limits.concurrency {
        parts.push(format!("{n} at once"));
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

/// Whether a destination's requests flow, as the console shows it.
pub(super) fn flow_state(
    paused: bool,
    held_until: Option<&DateTime<Utc>>,
    reason: Option<&str>,
) -> String {
    if paused {
        return "Paused".into();
    }
    match (held_until, reason) {
        (Some(until), reason) => format!(
            "Held until {} ({})",
            when(until),
            match reason {
                Some("circuit") => "circuit open after failures",
                Some("probe") => "a probe request is deciding",
                Some("retry-after") => "the target asked to retry later",
                Some("rate") => "rate limit",
                Some("concurrency") => "all requests in flight",
                _ => "held",
            }
        ),
        (None, _) => "Active".into(),
    }
}

#[handler]
pub async fn show(req: &Request, Data(state): Data<&AppState>) -> Page {
    let visit = Visit::start(req, state, &sections::INTEGRATIONS).await?;
    let tenant = visit.tenant();
    let connections = Connection::list(&state.pool, tenant, None, LISTED).await?;
    let used_by = connection::used_by(&state.pool, tenant).await?;
    let connector = connections
        .iter()
        .filter(|c| c.provider == Provider::Webhook.as_str())
        .max_by_key(|c| c.created_at);
    let mut cards: Vec<Value> = Provider::ALL
        .iter()
        .map(|p| {
            let (name, description) = p.describe();
            let count = connections
                .iter()
                .filter(|c| c.provider == p.as_str())
                .count();
            json!({
                "provider": p.as_str(),
                "name": name,
                "description": description,
                "installed": count > 0,
                "connections": count,
            })
        })
        .collect();
    // The catalogue's first card is the Webhook / Zapier connector.
    let webhook_card = cards.remove(0);
    let providers: Vec<Value> = Provider::ALL
        .iter()
        .map(|p| {
            let (required, optional) = p.credential_fields();
            let example: serde_json::Map<String, Value> = required
                .iter()
                .map(|f| (f.to_string(), Value::String("…".into())))
                .collect();
            let fields: Vec<Value> = credential_fields(*p)
                .into_iter()
                .map(|(name, kind, required)| json!({"name": name, "kind": kind, "required": required}))
                .collect();
            json!({
                "provider": p.as_str(),
                "name": p.describe().0,
                "required": required.join(","),
                "optional": optional.join(","),
                "example": Value::Object(example).to_string(),
                "fields": Value::Array(fields).to_string(),
                "help": provider_help(*p),
            })
        })
        .collect();
    let empty = Vec::new();
    let admin = visit.may(&[Scope::Full]);
    let rows: Vec<Value> = connections
        .iter()
        .map(|c| connection_view(c, used_by.get(&c.id).unwrap_or(&empty), admin))
        .collect();
    visit.page(
        "Integrations",
        "integrations",
        json!({
            "webhook_card": webhook_card,
            "other_cards": cards,
            "providers": providers,
            "connections": rows,
            "connector": connector.map(|c| connection_view(c, used_by.get(&c.id).unwrap_or(&empty), admin)),
            // The card shows the newest in full, and lists every other one.
            "other_hooks": connections
                .iter()
                .filter(|c| c.provider == Provider::Webhook.as_str() && Some(c.id) != connector.map(|k| k.id))
                .map(|c| json!({"id": c.id, "name": c.connection_name, "health": c.health}))
                .collect::<Vec<_>>(),
            "can_connect": visit.may(&[Scope::Full]),
        }),
    )
}

/// A provider's credential fields, required ones first: `(name, kind, required)`.
fn credential_fields(provider: Provider) -> Vec<(&'static str, &'static str, bool)> {
    let (required, optional) = provider.credential_fields();
    let required = required.iter().map(|f| (*f, true));
    let optional = optional.iter().map(|f| (*f, false));
    required
        .chain(optional)
        .map(|(name, needed)| (name, credential_kind(name), needed))
        .collect()
}

/// How a credential field is typed in: secrets hidden, addresses as URLs.
fn credential_kind(field: &str) -> &'static str {
    match field {
        "auth_token" | "api_key" | "signing_secret" | "auth_header" => "secret",
        "base_url" | "webhook_url" => "url",
        _ => "text",
    }
}

/// What each provider's credentials are, where to find them.
fn provider_help(provider: Provider) -> &'static str {
    match provider {
        Provider::GenericRest => "base url: where requests go (https://api.example.com; an action's path is added to it). auth header: the Authorization header's whole value, such as Bearer <token> (optional).",
        Provider::Twilio => "account sid: your Account SID (AC followed by 32 characters) and auth token: its auth token, both on the Twilio console's dashboard.",
        Provider::Sendgrid => "api key: a SendGrid API key with the Mail Send permission (it starts with SG.), from Settings → API Keys.",
        Provider::Webhook => "webhook url: the catch hook's address (Zapier, Make or your own endpoint). signing secret: signs every request so the receiver can check it (optional).",
    }
}

//! Rendering pages: handlebars with HTML escaping on, so every value is text. Templates
//! are compiled into the binary; the layout draws the navigation for the signed-in role.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use handlebars::Handlebars;
use poem::http::{header, StatusCode};
use poem::Response;
use serde_json::{json, Value};
use switchyard_engine::user::session::SignedIn;
use switchyard_engine::user::Role;

/// Every page template, by name.
const TEMPLATES: &[(&str, &str)] = &[
    ("layout", include_str!("pages/layout.hbs")),
    ("sign_in", include_str!("pages/sign_in.hbs")),
    ("account", include_str!("pages/account.hbs")),
    ("message", include_str!("pages/message.hbs")),
    ("integrations", include_str!("pages/integrations.hbs")),
    ("pause_resume", include_str!("pages/pause_resume.hbs")),
    ("limits_fields", include_str!("pages/limits_fields.hbs")),
    ("workflows", include_str!("pages/workflows.hbs")),
    ("workflow", include_str!("pages/workflow.hbs")),
    ("jobs", include_str!("pages/jobs.hbs")),
    ("job", include_str!("pages/job.hbs")),
    ("timeline", include_str!("pages/timeline.hbs")),
    ("subscriptions", include_str!("pages/subscriptions.hbs")),
    ("subscription", include_str!("pages/subscription.hbs")),
    ("intake", include_str!("pages/intake.hbs")),
    ("intake_endpoint", include_str!("pages/intake_endpoint.hbs")),
    ("audit", include_str!("pages/audit.hbs")),
    ("users", include_str!("pages/users.hbs")),
];

fn engine() -> &'static Handlebars<'static> {
    static ENGINE: OnceLock<Handlebars<'static>> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(false);
        for (name, source) in TEMPLATES {
            hb.register_template_string(name, *source)
                .expect("the console's templates compile");
        }
        hb
    })
}

/// The navigation: the sections `role` may open, in order.
fn navigation(role: Role, active: &str) -> Value {
    super::sections::NAVIGATION
        .iter()
        .filter(|s| s.opens_for(role))
        .map(|s| json!({"label": s.label, "href": s.href, "current": s.href == active}))
        .collect()
}

/// Renders the fragment `template` with `data`, without the layout.
pub fn fragment(template: &str, data: &Value) -> String {
    engine().render(template, data).unwrap_or_else(|err| {
        tracing::error!(error = %err, template, "a console template failed to render");
        String::new()
    })
}

/// Renders the page `template` with `data` inside the layout; `active` is the address of
/// the navigation link to mark as current.
pub fn render(
    status: StatusCode,
    title: &str,
    template: &str,
    data: Value,
    user: Option<&SignedIn>,
    active: &str,
) -> Response {
    let user = user.map(|u| {
        json!({
            "email": u.email,
            "role": u.role.as_str(),
            "tenant_id": u.tenant_id.to_string(),
            "nav": navigation(u.role, active),
        })
    });
    let mut data = data;
    data["user"] = user.clone().unwrap_or(Value::Null);
    let body = fragment(template, &data);
    let html = fragment(
        "layout",
        &json!({"title": title, "body": body, "user": user}),
    );
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(html)
}

/// A time as the console shows it, e.g. `2026-11-23 13:40:01 UTC`.
pub fn when(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// [`when`] for a time that may not exist.
pub fn when_opt(at: Option<&DateTime<Utc>>) -> Value {
    at.map(|a| Value::String(when(a))).unwrap_or(Value::Null)
}

/// `value` as indented JSON, for `<pre>` blocks.
pub fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

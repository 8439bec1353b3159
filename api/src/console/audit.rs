//! `/admin/audit`: the tenant's event log with filters and cursor paging, Verify (through
//! `GET /api/v1/events/verify`), Export (a link to `GET /api/v1/events/export` with the
//! same selection), `WebhookEgress` per day as a chart, and the ledger rows.

use std::fmt::Write;

use chrono::{Duration, NaiveDate, Utc};
use poem::web::{Data, Query};
use poem::{handler, Request};
use serde::Deserialize;
use serde_json::{json, Value};
use switchyard_engine::ledger::{self, UsageDay, WEBHOOK_EGRESS};
use switchyard_engine::log::{self, Cursor, EventFilter};
use uuid::Uuid;

use super::diagram::esc;
use super::filters::{between, day, given};
use super::render::{pretty, when};
use super::sections;
use super::visit::{Page, Visit};
use crate::state::AppState;

/// Events per page.
const PAGE: i64 = 50;
/// Ledger rows per page.
const LEDGER_PAGE: i64 = 50;
/// Days the usage chart covers.
const CHART_DAYS: i64 = 30;

#[derive(Deserialize, Default)]
pub struct Filters {
    #[serde(rename = "type")]
    event_type: Option<String>,
    stream_id: Option<String>,
    since: Option<String>,
    until: Option<String>,
    after: Option<String>,
    ledger_after: Option<i64>,
}

fn encode(pairs: &[(&str, Option<String>)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if let Some(v) = v {
            query.append_pair(k, v);
        }
    }
    query.finish()
}

#[handler]
pub async fn show(req: &Request, Data(state): Data<&AppState>, Query(f): Query<Filters>) -> Page {
    let visit = Visit::start(req, state, &sections::AUDIT).await?;
    let mut errors = Vec::new();
    let since = day("From", &f.since, &mut errors);
    let until = day("To", &f.until, &mut errors);
    let (since, until) = between(since, until);
    let stream_id = given(&f.stream_id).and_then(|s| match Uuid::parse_str(s) {
        Ok(id) => Some(id),
        Err(_) => {
            errors.push(format!("Stream: '{s}' is not a stream id (a UUID)"));
            None
        }
    });
    let after = given(&f.after).and_then(|c| c.parse::<Cursor>().ok());
    let filter = EventFilter {
        tenant_id: Some(visit.tenant()),
        after,
        event_type: given(&f.event_type).map(str::to_string),
        stream_id,
        since,
        until,
        below_tx: None,
    };
    let client = state
        .pool
        .get()
        .await
        .map_err(switchyard_engine::StoreError::from)?;
    let page = log::read::page(&client, &filter, PAGE).await?;
    drop(client);
    let events: Vec<Value> = page
        .items
        .iter()
        .map(|e| {
            json!({
                "position": e.position,
                "type": e.event_type,
                "stream_id": e.stream_id,
                "stream_version": e.stream_version,
                "recorded_at": when(&e.recorded_at),
                "data": pretty(&e.data),
                "metadata": pretty(&e.metadata),
                "hash": e.hash,
            })
        })
        .collect();
    let selection = [
        ("type", given(&f.event_type).map(str::to_string)),
        ("stream_id", stream_id.map(|s| s.to_string())),
        ("since", filter.since.map(|s| s.to_rfc3339())),
        ("until", filter.until.map(|u| u.to_rfc3339())),
    ];
    let export = format!("/api/v1/events/export?{}", encode(&selection));
    let next = (page.items.len() as i64 == PAGE)
        .then_some(page.next_cursor)
        .flatten()
        .map(|c| {
            format!(
                "/admin/audit?{}",
                encode(&[
                    ("type", f.event_type.clone()),
                    ("stream_id", f.stream_id.clone()),
                    ("since", f.since.clone()),
                    ("until", f.until.clone()),
                    ("after", Some(c.to_string())),
                ])
            )
        });
    let today = Utc::now().date_naive();
    let from = today - Duration::days(CHART_DAYS - 1);
    let usage = ledger::usage(&state.pool, visit.tenant(), Some(from), Some(today)).await?;
    let rows = ledger::list(&state.pool, visit.tenant(), f.ledger_after, LEDGER_PAGE).await?;
    let ledger_next = (rows.len() as i64 == LEDGER_PAGE)
        .then(|| {
            rows.last()
                .map(|r| format!("/admin/audit?ledger_after={}", r.id))
        })
        .flatten();
    let egress_total: i64 = usage
        .iter()
        .filter(|u| u.kind == WEBHOOK_EGRESS)
        .map(|u| u.requests)
        .sum();
    visit.page(
        "Audit",
        "audit",
        json!({
            "events": events,
            "type": f.event_type,
            "stream_id": f.stream_id,
            "since": f.since,
            "until": f.until,
            "errors": errors,
            "paged": after.is_some(),
            "next": next,
            "export": export,
            "chart": chart(&usage, from, today),
            "egress_total": egress_total,
            "chart_days": CHART_DAYS,
            "ledger": rows.iter().map(|r| json!({
                "id": r.id,
                "kind": r.kind,
                "job_id": r.job_id,
                "attempt": r.attempt,
                "status_code": r.status_code,
                "outcome": r.outcome,
                "bytes_out": r.bytes_out,
                "bytes_in": r.bytes_in,
                "duration_ms": r.duration_ms,
                "recorded_at": when(&r.recorded_at),
            })).collect::<Vec<_>>(),
            "ledger_next": ledger_next,
        }),
    )
}

/// `WebhookEgress` requests per day from `from` to `to` as an SVG bar chart.
fn chart(usage: &[UsageDay], from: NaiveDate, to: NaiveDate) -> String {
    const W: i64 = 720;
    const H: i64 = 200;
    const BOTTOM: i64 = 24;
    let days: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= to).collect();
    let count = |d: &NaiveDate| {
        usage
            .iter()
            .filter(|u| u.kind == WEBHOOK_EGRESS && u.day == *d)
            .map(|u| u.requests)
            .sum::<i64>()
    };
    let most = days.iter().map(count).max().unwrap_or(0).max(1);
    let slot = W / days.len().max(1) as i64;
    let mut svg = format!(
        r#"<svg class="chart" role="img" aria-labelledby="chart-title" viewBox="0 0 {W} {H}" width="{W}" height="{H}" xmlns="http://www.w3.org/2000/svg"><title id="chart-title">WebhookEgress requests per day, most {most}</title><line class="axis" x1="0" y1="{y}" x2="{W}" y2="{y}"/>"#,
        y = H - BOTTOM
    );
    for (i, d) in days.iter().enumerate() {
        let n = count(d);
        let h = n * (H - BOTTOM - 16) / most;
        let x = i as i64 * slot + 2;
        let _ = write!(
            svg,
            r#"<rect class="bar" x="{x}" y="{}" width="{}" height="{h}"><title>{}: {n}</title></rect>"#,
            H - BOTTOM - h,
            slot - 4,
            esc(&d.to_string())
        );
        if i % 7 == 0 || i + 1 == days.len() {
            let _ = write!(
                svg,
                r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
                x + slot / 2,
                H - 6,
                esc(&d.format("%m-%d").to_string())
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

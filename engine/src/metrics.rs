//! The names of Switchyard's metrics and the helpers that record them, in one place so
//! that the README's list and the code agree. Recording goes through the `metrics` facade:
//! without an installed recorder (a library user, a unit test) it costs nothing.
//!
//! Labels take values from small fixed sets (outcomes, status classes, kinds, route
//! templates) or from names designers choose a few of (workflows, providers): never ids,
//! URLs or secrets, so that the number of series stays bounded.

use std::time::Duration;

use crate::outcome::Outcome;
use crate::queue::Status;
use crate::{Pool, StoreError, TenantId};

/// Transitions applied or refused, by `workflow` and `outcome`.
pub const TRANSITIONS: &str = "switchyard_transitions_total";
/// Action attempts, by `provider`, `outcome` and `status_class`.
pub const ACTION_ATTEMPTS: &str = "switchyard_action_attempts_total";
/// How long an action's request took, by `provider` and `outcome`.
pub const ACTION_DURATION: &str = "switchyard_action_attempt_duration_seconds";
/// Subscription delivery attempts, by `outcome` and `status_class`.
pub const DELIVERIES: &str = "switchyard_deliveries_total";
/// How long a delivery's request took, by `outcome`.
pub const DELIVERY_DURATION: &str = "switchyard_delivery_duration_seconds";
/// Timers fired, by `outcome` (`fired`, `cancelled`).
pub const TIMERS: &str = "switchyard_timers_total";
/// Requests to intake endpoints, by `outcome`: the receipt's (`applied`, `created`,
/// `unmatched`, `refused`, `pending`), `repeat` for a delivery seen before, `rejected`
/// for a signature that does not hold, `unknown` for an address that is no endpoint.
pub const INTAKE: &str = "switchyard_intake_requests_total";
/// HTTP requests answered, by `route` (its template), `method` and `status`.
pub const HTTP_REQUESTS: &str = "switchyard_http_requests_total";
/// How long answering took, by `route` and `method`.
pub const HTTP_DURATION: &str = "switchyard_http_request_duration_seconds";
/// Items due now and not yet claimed, by `kind` (`action_runs`, `deliveries`, `timers`).
pub const QUEUE_DUE: &str = "switchyard_queue_due";
/// Items held by a worker, by `kind`.
pub const QUEUE_RUNNING: &str = "switchyard_queue_running";
/// How long the oldest due item has waited past its due time, by `kind`; 0 when none.
pub const QUEUE_OLDEST_DUE_AGE: &str = "switchyard_queue_oldest_due_age_seconds";
/// Events in the log past the subscription dispatcher's cursor.
pub const DISPATCHER_LAG: &str = "switchyard_dispatcher_lag_events";
/// Database connections of this process's pool in use, and idle.
pub const DB_POOL_IN_USE: &str = "switchyard_db_pool_connections_in_use";
pub const DB_POOL_IDLE: &str = "switchyard_db_pool_connections_idle";
/// Checkouts waiting for a connection.
pub const DB_POOL_WAITING: &str = "switchyard_db_pool_waiting";

/// What a metric is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Every metric, its kind and what it means, for `# HELP` and `# TYPE` lines.
pub const ALL: [(&str, Kind, &str); 16] = [
    (
        TRANSITIONS,
        Kind::Counter,
        "Transitions applied or refused, by workflow and outcome.",
    ),
    (
        ACTION_ATTEMPTS,
        Kind::Counter,
        "Action attempts by provider, outcome and status class.",
    ),
    (
        ACTION_DURATION,
        Kind::Histogram,
        "Duration of action requests, by provider and outcome.",
    ),
    (
        DELIVERIES,
        Kind::Counter,
        "Subscription delivery attempts by outcome and status class.",
    ),
    (
        DELIVERY_DURATION,
        Kind::Histogram,
        "Duration of delivery requests, by outcome.",
    ),
    (TIMERS, Kind::Counter, "Timers that came due, by outcome."),
    (
        INTAKE,
        Kind::Counter,
        "Requests to intake endpoints, by outcome.",
    ),
    (
        HTTP_REQUESTS,
        Kind::Counter,
        "HTTP requests by route template, method and status.",
    ),
    (
        HTTP_DURATION,
        Kind::Histogram,
        "Duration of HTTP requests, by route template and method.",
    ),
    (
        QUEUE_DUE,
        Kind::Gauge,
        "Queued items due and not yet claimed, by kind.",
    ),
    (
        QUEUE_RUNNING,
        Kind::Gauge,
        "Queued items held by a worker, by kind.",
    ),
    (
        QUEUE_OLDEST_DUE_AGE,
        Kind::Gauge,
        "Seconds the oldest due item has waited, by kind.",
    ),
    (
        DISPATCHER_LAG,
        Kind::Gauge,
        "Events in the log past the subscription dispatcher's cursor.",
    ),
    (
        DB_POOL_IN_USE,
        Kind::Gauge,
        "Database connections in use in this process.",
    ),
    (
        DB_POOL_IDLE,
        Kind::Gauge,
        "Idle database connections in this process.",
    ),
    (
        DB_POOL_WAITING,
        Kind::Gauge,
        "Checkouts waiting for a database connection.",
    ),
];

/// `2xx` … `5xx`, or `none` when no answer came.
pub fn status_class(status: Option<u16>) -> &'static str {
    match status {
        Some(100..=199) => "1xx",
        Some(200..=299) => "2xx",
        Some(300..=399) => "3xx",
        Some(400..=499) => "4xx",
        Some(500..=599) => "5xx",
        Some(_) => "other",
        None => "none",
    }
}

/// The most workflow names of one tenant that get series of their own in one process;
/// the tenant's later ones are counted under `other`. Workflow names are chosen by
/// tenants: a tenant publishing thousands of names must not make every scrape (and
/// Prometheus) grow, nor use up the names another tenant's workflows would get.
pub const MAX_WORKFLOW_LABELS_PER_TENANT: usize = 50;

/// The most workflow names with series of their own in one process, across tenants: a
/// last bound for an installation with very many tenants.
pub const MAX_WORKFLOW_LABELS: usize = 10_000;

/// One transition, applied (`applied`, `replayed`) or refused (the reason).
pub fn transition(tenant: TenantId, workflow: &str, outcome: &'static str) {
    let workflow = workflow_label(tenant, workflow);
    ::metrics::counter!(TRANSITIONS, "workflow" => workflow, "outcome" => outcome).increment(1);
}

/// `workflow` if it is one of the first [`MAX_WORKFLOW_LABELS_PER_TENANT`] names seen of
/// `tenant` (and the process has room), else `other`.
fn workflow_label(tenant: TenantId, workflow: &str) -> String {
    use std::collections::{HashMap, HashSet};
    use std::sync::{Mutex, OnceLock, PoisonError};
    #[derive(Default)]
    struct Seen {
        by_tenant: HashMap<TenantId, HashSet<String>>,
        total: usize,
    }
    static SEEN: OnceLock<Mutex<Seen>> = OnceLock::new();
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let room = seen.total < MAX_WORKFLOW_LABELS;
    let names = seen.by_tenant.entry(tenant).or_default();
    if names.contains(workflow) {
        return workflow.to_string();
    }
    if room && names.len() < MAX_WORKFLOW_LABELS_PER_TENANT {
        names.insert(workflow.to_string());
        seen.total += 1;
        return workflow.to_string();
    }
    "other".to_string()
}

/// One action attempt; `duration` only when a request left.
pub fn action_attempt(
    provider: &'static str,
    outcome: Outcome,
    status: Option<u16>,
    duration: Option<Duration>,
) {
    ::metrics::counter!(ACTION_ATTEMPTS, "provider" => provider, "outcome" => outcome.as_str(),
        "status_class" => status_class(status))
    .increment(1);
    if let Some(duration) = duration {
        ::metrics::histogram!(ACTION_DURATION, "provider" => provider, "outcome" => outcome.as_str())
            .record(duration.as_secs_f64());
    }
}

/// One delivery attempt; `duration` only when a request left.
pub fn delivery_attempt(outcome: Outcome, status: Option<u16>, duration: Option<Duration>) {
    ::metrics::counter!(DELIVERIES, "outcome" => outcome.as_str(),
        "status_class" => status_class(status))
    .increment(1);
    if let Some(duration) = duration {
        ::metrics::histogram!(DELIVERY_DURATION, "outcome" => outcome.as_str())
            .record(duration.as_secs_f64());
    }
}

/// Makes every counter exist at zero from start-up, so that a rate or an alert over it
/// reads 0 rather than nothing before the first event: transitions (under workflow
/// `other`, as `applied`), each provider's successful action attempts, successful
/// deliveries, timers both fired and cancelled, and intake requests applied and rejected.
pub fn zero_counters(providers: &[&'static str]) {
    ::metrics::counter!(TRANSITIONS, "workflow" => "other", "outcome" => "applied").increment(0);
    for provider in providers {
        ::metrics::counter!(ACTION_ATTEMPTS, "provider" => *provider,
            "outcome" => Outcome::Succeeded.as_str(), "status_class" => "2xx")
        .increment(0);
    }
    ::metrics::counter!(DELIVERIES, "outcome" => Outcome::Succeeded.as_str(),
        "status_class" => "2xx")
    .increment(0);
    for outcome in ["fired", "cancelled"] {
        ::metrics::counter!(TIMERS, "outcome" => outcome).increment(0);
    }
    for outcome in ["applied", "rejected"] {
        ::metrics::counter!(INTAKE, "outcome" => outcome).increment(0);
    }
}

/// One request to an intake endpoint, by what came of it.
pub fn intake(outcome: &'static str) {
    ::metrics::counter!(INTAKE, "outcome" => outcome).increment(1);
}

/// One timer that came due: `fired`, or `cancelled` (its job had left the state).
pub fn timer(outcome: &'static str) {
    ::metrics::counter!(TIMERS, "outcome" => outcome).increment(1);
}

/// The queue kinds as the gauges name them, with their tables.
const KINDS: [(&str, &str); 3] = [
    ("action_runs", "action_runs"),
    ("deliveries", "deliveries"),
    ("timers", "timers"),
];

/// Sets the gauges that are read from the database and the pool: queue depth and the
/// oldest due item's age per kind, the dispatcher's lag, the pool's connections. Called
/// on each scrape, so a scrape shows the state at that moment.
pub async fn sample(pool: &Pool) -> Result<(), StoreError> {
    let status = pool.status();
    let in_use = status.size.saturating_sub(status.available);
    ::metrics::gauge!(DB_POOL_IN_USE).set(in_use as f64);
    ::metrics::gauge!(DB_POOL_IDLE).set(status.available as f64);
    ::metrics::gauge!(DB_POOL_WAITING).set(status.waiting as f64);

    let client = pool.get().await?;
    let per_kind = KINDS
        .iter()
        .map(|(kind, table)| {
            // Both conditions are covered by the tables' partial indexes on pending and
            // running rows.
            format!(
                "SELECT '{kind}'::text AS kind, \
                   count(*) FILTER (WHERE status = {pending} AND next_attempt_at <= now()) AS due, \
                   count(*) FILTER (WHERE status = {running}) AS running, \
                   COALESCE(EXTRACT(EPOCH FROM now() - min(next_attempt_at) \
                     FILTER (WHERE status = {pending} AND next_attempt_at <= now())), 0)::float8 \
                     AS oldest_due_age \
                 FROM {table} WHERE status IN ({pending}, {running})",
                pending = Status::Pending.literal(),
                running = Status::Running.literal(),
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let stmt = client.prepare_cached(&per_kind).await?;
    for row in client.query(&stmt, &[]).await? {
        let kind: String = row.try_get("kind")?;
        let due: i64 = row.try_get("due")?;
        let running: i64 = row.try_get("running")?;
        let age: f64 = row.try_get("oldest_due_age")?;
        ::metrics::gauge!(QUEUE_DUE, "kind" => kind.clone()).set(due as f64);
        ::metrics::gauge!(QUEUE_RUNNING, "kind" => kind.clone()).set(running as f64);
        ::metrics::gauge!(QUEUE_OLDEST_DUE_AGE, "kind" => kind).set(age.max(0.0));
    }
    let lag = client
        .prepare_cached(
            "SELECT (SELECT COALESCE(max(position), 0) FROM event_log) \
                  - (SELECT COALESCE(max(position), 0) FROM dispatch_cursor) AS lag",
        )
        .await?;
    let lag: i64 = client.query_one(&lag, &[]).await?.try_get("lag")?;
    ::metrics::gauge!(DISPATCHER_LAG).set(lag.max(0) as f64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_labels_are_bounded_per_tenant() {
        let noisy = TenantId(uuid::Uuid::now_v7());
        let quiet = TenantId(uuid::Uuid::now_v7());
        for n in 0..MAX_WORKFLOW_LABELS_PER_TENANT + 10 {
            workflow_label(noisy, &format!("flow-{n}"));
        }
        assert_eq!(workflow_label(noisy, "flow-0"), "flow-0");
        assert_eq!(workflow_label(noisy, "one-too-many"), "other");
        // The noisy tenant's names took nothing from the quiet one's.
        assert_eq!(workflow_label(quiet, "onboarding"), "onboarding");
    }

    #[test]
    fn status_classes() {
        assert_eq!(status_class(Some(204)), "2xx");
        assert_eq!(status_class(Some(429)), "4xx");
        assert_eq!(status_class(Some(503)), "5xx");
        assert_eq!(status_class(None), "none");
    }
}

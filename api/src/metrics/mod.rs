//! Prometheus metrics: one recorder per process, installed on first use; `GET /metrics` on
//! the API (and on the worker's own listener, [`listener`]) renders it after sampling the
//! gauges that live in the database. The names and labels are
//! [`switchyard_engine::metrics`]'s.
//!
//! - [`http`]: requests by route template, method and status, and their latency.
//! - [`listener`]: `switchyard worker --metrics-listen`.

pub mod http;
pub mod listener;

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use switchyard_actions::providers::Provider;
use switchyard_engine::metrics::{Kind, ALL};
use switchyard_engine::Pool;

/// Latency buckets in seconds: webhooks answer in milliseconds to tens of seconds, and an
/// action may wait up to its largest `timeout_ms` (120 s).
const BUCKETS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// How often histogram samples are folded into their buckets.
const UPKEEP: std::time::Duration = std::time::Duration::from_secs(5);

/// The process's recorder, installed as the global one on first call.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics stays empty");
        }
        // Histogram samples gather until an upkeep folds them into buckets: without a
        // scrape, nothing else would, and they would grow without bound.
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || loop {
                std::thread::sleep(UPKEEP);
                upkeep.run_upkeep();
            });
        if let Err(err) = spawned {
            tracing::warn!(error = %err, "could not start the metrics upkeep thread");
        }
        for (name, kind, help) in ALL {
            match kind {
                Kind::Counter => metrics::describe_counter!(name, help),
                Kind::Gauge => metrics::describe_gauge!(name, help),
                Kind::Histogram => {
                    metrics::describe_histogram!(name, metrics::Unit::Seconds, help)
                }
            }
        }
        let providers: Vec<&'static str> = Provider::ALL.iter().map(|p| p.as_str()).collect();
        switchyard_engine::metrics::zero_counters(&providers);
        // The liveness probe is the request every deployment makes first.
        metrics::counter!(switchyard_engine::metrics::HTTP_REQUESTS,
            "route" => "/healthz", "method" => "GET", "status" => "200")
        .increment(0);
        handle
    })
}

/// The metrics in Prometheus' text format, with the database gauges read now. If the
/// database cannot be read, those gauges keep their last values and the rest is served.
pub async fn render(pool: &Pool) -> String {
    let handle = handle();
    if let Err(err) = switchyard_engine::metrics::sample(pool).await {
        tracing::warn!(error = %err, "could not read the queue gauges for /metrics");
    }
    handle.render()
}

/// The content type Prometheus expects of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

//! `switchyard bench`: the server, a receiver and a load generator in one process (or the
//! server as `--processes N` processes of its own), on a fresh embedded database (or
//! `DATABASE_URL`), measuring side by side: transitions over HTTP at concurrency 1, 8 and
//! 32; signed intake requests that each move a job; actions delivered and recorded end to end (sustained, until the queue drains) and
//! their commit-to-arrival latency at half that rate; timer lateness at 200 timers/s; the
//! baselines of `baseline`; and last, `isolation`: a tenant's latency alone and next to a
//! tenant whose targets answer after five seconds.
//! Prints a table and can write the figures as JSON.

mod baseline;
mod intake;
mod isolation;
mod load;
mod processes;
mod receiver;
mod report;
mod setup;
mod stats;
mod timers;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::config::{BenchArgs, Cli};
use load::{closed_loop, open_loop};
use report::Report;
use setup::Bench;
use stats::Figures;

/// Timers due per second in the lateness measurement: a steady load of its own.
const TIMER_RATE: f64 = 200.0;

/// Runs every measurement; each takes `--seconds`.
pub async fn run(cli: &Cli, args: &BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=120).contains(&args.seconds),
        "--seconds must be from 1 to 120"
    );
    let duration = Duration::from_secs(args.seconds);
    anyhow::ensure!(args.processes <= 8, "--processes must be from 0 to 8");
    let bench = Bench::start(cli, args.processes).await?;
    let mut report = Report {
        processes: args.processes,
        ..Report::default()
    };

    for concurrency in [1, 8, 32] {
        eprintln!("measuring transitions at concurrency {concurrency}…");
        let figures = transitions(&bench, concurrency, duration).await;
        report.transitions.push(figures);
    }
    eprintln!("measuring intake at concurrency {}…", intake::CONCURRENCY);
    report.intake = Some(intake::measure(&bench, duration).await?);
    eprintln!("measuring end to end…");
    report.end_to_end = Some(end_to_end(&bench, duration).await?);
    let sustained = report.end_to_end.as_ref().map_or(0.0, |f| f.per_second);
    let rate = (sustained / 2.0).max(10.0);
    eprintln!("measuring commit-to-arrival latency at {rate:.0} actions/s…");
    report.latency = Some(latency(&bench, rate, duration).await?);
    eprintln!("measuring timer lateness at {TIMER_RATE:.0} timers/s…");
    report.timers = Some(timers::lateness(&bench, TIMER_RATE, duration).await?);
    eprintln!("measuring the baselines…");
    report.database = Some(baseline::database(&bench.pool, 32, duration).await?);
    report.http = Some(baseline::http(bench.receiver.url("/baseline"), 32, duration).await);
    // Last: the neighbour's slow actions are still outstanding when it ends.
    let slots = cli.worker.worker_concurrency * args.processes.max(1);
    report.isolation = Some(isolation::measure(&bench, slots, duration).await?);
    report.peak_rss_mib =
        peak_rss_mib_of("/proc/self/status").map(|own| own + bench.servers_peak_rss_mib());

    report.print();
    if let Some(path) = &args.out {
        std::fs::write(path, serde_json::to_string_pretty(&report.to_json())?)?;
        eprintln!("figures written to {}", path.display());
    }
    bench.stop().await;
    Ok(())
}

/// Closed-loop transitions without actions; each worker cycles through its own jobs.
async fn transitions(bench: &Bench, concurrency: usize, duration: Duration) -> Figures {
    let client = bench.client.clone();
    let urls = Arc::new(bench.transition_urls(&bench.tick_jobs));
    let per_worker = urls.len() / 32;
    closed_loop(
        &format!("transitions, concurrency {concurrency}"),
        concurrency,
        duration,
        move |w, n| {
            let (client, urls) = (client.clone(), urls.clone());
            let url = urls[w * per_worker + (n as usize % per_worker)].clone();
            async move { client.tick(&url).await.is_some() }
        },
    )
    .await
}

/// Transitions with one WEBHOOK action each at concurrency 32, then the time until every
/// action is delivered and recorded.
async fn end_to_end(bench: &Bench, duration: Duration) -> anyhow::Result<Figures> {
    let client = bench.client.clone();
    let urls = Arc::new(bench.transition_urls(&bench.notify_jobs));
    let per_worker = urls.len() / 32;
    let before = bench.finished_actions().await?;
    let started = Instant::now();
    let sent = closed_loop("end to end", 32, duration, move |w, n| {
        let (client, urls) = (client.clone(), urls.clone());
        let url = urls[w * per_worker + (n as usize % per_worker)].clone();
        async move { client.tick(&url).await.is_some() }
    })
    .await;
    bench.drain().await?;
    let elapsed = started.elapsed();
    let (succeeded, failed) = bench.finished_actions().await?;
    let delivered = succeeded - before.0;
    anyhow::ensure!(
        delivered as u64 == sent.ok,
        "{} transitions were accepted but {delivered} actions delivered",
        sent.ok
    );
    Ok(Figures::new(
        "end to end: actions delivered and recorded",
        32,
        delivered as u64,
        (failed - before.1) as u64 + sent.errors,
        elapsed,
        Vec::new(),
    ))
}

/// Transitions offered at `rate`; latency from the event's time to the action's arrival.
async fn latency(bench: &Bench, rate: f64, duration: Duration) -> anyhow::Result<Value> {
    let client = bench.client.clone();
    let urls = Arc::new(bench.transition_urls(&bench.notify_jobs));
    let committed: Arc<Mutex<Vec<Committed>>> = Arc::default();
    let sink = committed.clone();
    let (offered, failed) = open_loop(rate, duration, 512, move |n| {
        let (client, urls, sink) = (client.clone(), urls.clone(), sink.clone());
        async move {
            let url = &urls[n as usize % urls.len()];
            match client.tick(url).await {
                Some(answer) => {
                    if let Some(pair) = action_and_time(&answer) {
                        sink.lock().unwrap_or_else(|e| e.into_inner()).push(pair);
                    }
                    true
                }
                None => false,
            }
        }
    })
    .await;
    bench.drain().await?;
    let committed = std::mem::take(&mut *committed.lock().unwrap_or_else(|e| e.into_inner()));
    let latencies: Vec<Duration> = committed
        .iter()
        .filter_map(|(id, at)| {
            let arrived = bench.receiver.arrival(id)?;
            Some((arrived - *at).to_std().unwrap_or_default())
        })
        .collect();
    let figures = Figures::new(
        "commit to arrival",
        0,
        latencies.len() as u64,
        failed,
        duration,
        latencies,
    );
    Ok(json!({
        "offered_per_second": rate,
        "offered": offered,
        "failed": failed,
        "figures": figures,
    }))
}

/// An action run id (the request's Idempotency-Key) and its transition event's time.
type Committed = (String, DateTime<Utc>);

/// The action run id and the event's time in a transition response.
fn action_and_time(answer: &Value) -> Option<Committed> {
    let id = answer["actions"][0]["id"].as_str()?.to_string();
    let at = answer["event"]["recorded_at"].as_str()?.parse().ok()?;
    Some((id, at))
}

/// A process's peak resident memory, from its `/proc/…/status`.
fn peak_rss_mib_of(status: &str) -> Option<f64> {
    let status = std::fs::read_to_string(status).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

//! Load generators: closed loop (N workers, each sending its next request when the last
//! one answered) and open loop (requests started at a fixed rate whatever the answers).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::stats::Figures;

/// Runs `concurrency` workers for `seconds`; worker `w`'s `n`th request is `send(w, n)`,
/// which answers whether it succeeded.
pub async fn closed_loop<F, Fut>(
    name: &str,
    concurrency: usize,
    duration: Duration,
    send: F,
) -> Figures
where
    F: Fn(usize, u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
    let started = Instant::now();
    let deadline = started + duration;
    let workers = (0..concurrency).map(|w| {
        let send = send.clone();
        tokio::spawn(async move {
            let (mut ok, mut errors, mut latencies) = (0u64, 0u64, Vec::new());
            let mut n = 0u64;
            while Instant::now() < deadline {
                let t = Instant::now();
                if send(w, n).await {
                    ok += 1;
                    latencies.push(t.elapsed());
                } else {
                    errors += 1;
                }
                n += 1;
            }
            (ok, errors, latencies)
        })
    });
    let (mut ok, mut errors, mut latencies) = (0, 0, Vec::new());
    for worker in futures_util::future::join_all(workers).await {
        let (o, e, l) = worker.unwrap_or_default();
        ok += o;
        errors += e;
        latencies.extend(l);
    }
    Figures::new(name, concurrency, ok, errors, started.elapsed(), latencies)
}

/// Starts `send(n)` at `rate` per second for `duration`, with at most `max_in_flight`
/// outstanding; returns how many were started and how many failed.
pub async fn open_loop<F, Fut>(
    rate: f64,
    duration: Duration,
    max_in_flight: usize,
    send: F,
) -> (u64, u64)
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = bool> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(max_in_flight));
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    let mut n = 0u64;
    while started.elapsed() < duration {
        let due = started + interval.mul_f64(n as f64);
        tokio::time::sleep_until(due.into()).await;
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            // The server is behind: the offered load is over what it takes; skip this one.
            n += 1;
            continue;
        };
        let send = send.clone();
        tasks.push(tokio::spawn(async move {
            let ok = send(n).await;
            drop(permit);
            ok
        }));
        n += 1;
    }
    let started_count = tasks.len() as u64;
    let mut failed = 0;
    for task in tasks {
        if !task.await.unwrap_or(false) {
            failed += 1;
        }
    }
    (started_count, failed)
}

//! Timer lateness: timers due at a steady rate, spread over the bench's jobs, each firing
//! a transition without actions; lateness is each `timer.fired` event's time minus its
//! due time (which includes applying the transition).

use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use serde_json::{json, Value};
use switchyard_engine::timer::{self, Scheduled};
use switchyard_engine::{Actor, JobId};

use super::setup::Bench;
use super::stats::Figures;

/// How far ahead the first timer is due: scheduling them all takes a moment.
const LEAD: Duration = Duration::from_secs(3);

/// Schedules `rate` timers a second for `duration`, waits until every one has fired (at
/// most a minute after the last is due), and measures how late each fired.
pub async fn lateness(bench: &Bench, rate: f64, duration: Duration) -> anyhow::Result<Value> {
    let jobs: Vec<JobId> = bench
        .tick_jobs
        .iter()
        .map(|id| id.parse().map(JobId))
        .collect::<Result<_, _>>()?;
    let count = (rate * duration.as_secs_f64()).round() as usize;
    let start = chrono::Utc::now() + chrono::Duration::from_std(LEAD)?;
    let actor = Actor::operator(bench.tenant_id());
    let scheduled: Vec<Scheduled> = (0..count)
        .map(|i| Scheduled {
            job_id: jobs[i % jobs.len()],
            transition: "tick".into(),
            data: json!({}),
            expected_version: None,
            due_at: start + chrono::Duration::microseconds((i as f64 / rate * 1e6) as i64),
        })
        .collect();
    let failures: usize = stream::iter(scheduled)
        .map(|s| {
            let (pool, actor) = (&bench.pool, &actor);
            async move {
                timer::schedule_transition(pool, actor, &s, None)
                    .await
                    .is_err()
            }
        })
        .buffer_unordered(32)
        .filter(|failed| std::future::ready(*failed))
        .count()
        .await;
    anyhow::ensure!(failures == 0, "{failures} timers could not be scheduled");
    let client = bench.pool.get().await?;
    let deadline = tokio::time::Instant::now() + LEAD + duration + Duration::from_secs(60);
    loop {
        let open: i64 = client
            .query_one(
                "SELECT count(*) FROM timers WHERE tenant_id = $1 AND status IN ('pending', 'running')",
                &[&bench.tenant_id().0],
            )
            .await?
            .get(0);
        if open == 0 {
            break;
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "{open} timers had not fired a minute after the last was due"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rows = client
        .query(
            "SELECT extract(epoch FROM recorded_at - (data->>'due_at')::timestamptz)::float8 \
             FROM event_log WHERE tenant_id = $1 AND type = 'timer.fired'",
            &[&bench.tenant_id().0],
        )
        .await?;
    let late: Vec<Duration> = rows
        .iter()
        .map(|r| Duration::from_secs_f64(r.get::<_, f64>(0).max(0.0)))
        .collect();
    let fired = late.len() as u64;
    let figures = Figures::new(
        "timer lateness",
        0,
        fired,
        count as u64 - fired.min(count as u64),
        duration,
        late,
    );
    Ok(json!({ "due_per_second": rate, "timers": count, "figures": figures }))
}

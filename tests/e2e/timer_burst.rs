//! A burst of timers: 10,000 due at one instant are all fired, in batches, exactly once.

use std::time::Duration;

use serde_json::json;
use switchyard_engine::timer;

use crate::support::{eventually, TestApp};

/// Jobs, and timers per job, of the burst below: 10,000 timers due at one instant.
const BURST_JOBS: usize = 100;
const BURST_PER_JOB: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_timers_due_at_once_all_fire_exactly_once() {
    use futures_util::stream::{self, StreamExt};
    use switchyard_engine::timer::Scheduled;
    use switchyard_engine::{Actor, JobId};

    let app = TestApp::spawn().await;
    app.publish(json!({
        "name": "counter", "initial": "open",
        "states": [{"name": "open"}],
        "transitions": [{"name": "tick", "from": ["open"], "to": "open"}]
    }))
    .await;
    let mut jobs = Vec::new();
    for _ in 0..BURST_JOBS {
        let id = app.create_job("counter").await["id"]
            .as_str()
            .unwrap()
            .to_string();
        jobs.push(JobId(id.parse().unwrap()));
    }
    // Scheduled straight through the engine (the API's path without HTTP) an hour ahead;
    // then the clock "jumps": every one is made due at the same instant.
    let due = chrono::Utc::now() + chrono::Duration::hours(1);
    let actor = Actor::operator(app.tenant_id);
    let requests: Vec<Scheduled> = jobs
        .iter()
        .flat_map(|job| {
            (0..BURST_PER_JOB).map(|_| Scheduled {
                job_id: *job,
                transition: "tick".into(),
                data: json!({}),
                expected_version: None,
                due_at: due,
            })
        })
        .collect();
    stream::iter(requests)
        .for_each_concurrent(32, |s| {
            let (pool, actor) = (&app.pool, &actor);
            async move {
                timer::schedule_transition(pool, actor, &s, None)
                    .await
                    .unwrap();
            }
        })
        .await;
    let client = app.pool.get().await.unwrap();
    let moved = client
        .execute(
            "UPDATE timers SET due_at = now(), next_attempt_at = now() WHERE status = 'pending'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(moved as usize, BURST_JOBS * BURST_PER_JOB);
    let total = (BURST_JOBS * BURST_PER_JOB) as i64;
    eventually("every timer to fire", Duration::from_secs(300), || async {
        let row = client
            .query_one(
                "SELECT count(*) FROM timers WHERE status = 'succeeded'",
                &[],
            )
            .await
            .ok()?;
        (row.get::<_, i64>(0) == total).then_some(())
    })
    .await;
    app.idle().await;
    // Exactly once: each job took exactly its hundred ticks, and each timer fired once.
    let row = client
        .query_one(
            "SELECT count(*) FILTER (WHERE version <> $1), \
                    (SELECT count(*) FROM event_log WHERE type = 'timer.fired'), \
                    (SELECT count(DISTINCT data->>'timer_id') FROM event_log WHERE type = 'timer.fired') \
             FROM jobs WHERE workflow_name = 'counter'",
            &[&(BURST_PER_JOB as i64)],
        )
        .await
        .unwrap();
    assert_eq!(
        row.get::<_, i64>(0),
        0,
        "every job moved exactly {BURST_PER_JOB} times"
    );
    assert_eq!(row.get::<_, i64>(1), total);
    assert_eq!(row.get::<_, i64>(2), total);
}

//! The baselines the server is judged against, measured in the same run:
//! (a) a transition's database work done directly with tokio-postgres, no HTTP, and
//! (b) plain POSTs of an action's body to the same receiver.

use std::time::Duration;

use serde_json::json;
use switchyard_engine::Pool;
use uuid::Uuid;

use super::load::closed_loop;
use super::stats::Figures;

/// Tables shaped like the engine's, with the same indexes and the same durability.
const SETUP: &str = "
DROP TABLE IF EXISTS bench_runs, bench_events, bench_jobs;
CREATE TABLE bench_jobs (id uuid PRIMARY KEY, state text NOT NULL, version integer NOT NULL,
    context jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE bench_events (position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(), event_id uuid NOT NULL UNIQUE,
    stream_id uuid NOT NULL, stream_version bigint NOT NULL, type text NOT NULL,
    data jsonb NOT NULL, metadata jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now(),
    prev_hash bytea NOT NULL, hash bytea NOT NULL, UNIQUE (stream_id, stream_version));
CREATE INDEX ON bench_events (tx_id, position);
CREATE TABLE bench_runs (id uuid PRIMARY KEY, job_id uuid NOT NULL, status text NOT NULL,
    spec jsonb NOT NULL, context jsonb NOT NULL, next_attempt_at timestamptz);
CREATE INDEX ON bench_runs (next_attempt_at) WHERE status = 'pending';
";

/// (a): lock the job, append an event, update the job, insert an action run, commit.
pub async fn database(
    pool: &Pool,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<Figures> {
    let client = pool.get().await?;
    client.batch_execute(SETUP).await?;
    let jobs: Vec<Uuid> = (0..concurrency).map(|_| Uuid::now_v7()).collect();
    for id in &jobs {
        client
            .execute(
                "INSERT INTO bench_jobs (id, state, version, context) VALUES ($1, 'open', 0, '{}')",
                &[id],
            )
            .await?;
    }
    drop(client);
    let shared = pool.clone();
    let figures = closed_loop(
        "baseline (a): database only",
        concurrency,
        duration,
        move |w, _| {
            let pool = shared.clone();
            let job = jobs[w];
            async move { transition_work(&pool, job).await.is_ok() }
        },
    )
    .await;
    pool.get()
        .await?
        .batch_execute("DROP TABLE bench_runs, bench_events, bench_jobs")
        .await?;
    Ok(figures)
}

async fn transition_work(pool: &Pool, job: Uuid) -> anyhow::Result<()> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let lock = tx
        .prepare_cached("SELECT version FROM bench_jobs WHERE id = $1 FOR UPDATE")
        .await?;
    let version: i32 = tx.query_one(&lock, &[&job]).await?.get(0);
    let append = tx
        .prepare_cached(
            "INSERT INTO bench_events (event_id, stream_id, stream_version, type, data, metadata, prev_hash, hash) \
             VALUES ($1, $2, $3, 'job.transitioned', $4, '{}', $5, $6)",
        )
        .await?;
    let data =
        json!({"from": "open", "to": "open", "transition": "tick", "job_version": version + 1});
    tx.execute(
        &append,
        &[
            &Uuid::now_v7(),
            &job,
            &i64::from(version + 1),
            &data,
            &vec![0u8; 32],
            &vec![1u8; 32],
        ],
    )
    .await?;
    let update = tx
        .prepare_cached(
            "UPDATE bench_jobs SET version = version + 1, updated_at = now() WHERE id = $1",
        )
        .await?;
    tx.execute(&update, &[&job]).await?;
    let run = tx
        .prepare_cached(
            "INSERT INTO bench_runs (id, job_id, status, spec, context, next_attempt_at) \
             VALUES ($1, $2, 'pending', '{}', '{}', now())",
        )
        .await?;
    tx.execute(&run, &[&Uuid::now_v7(), &job]).await?;
    tx.commit().await?;
    Ok(())
}

/// (b): POST an action's body to the receiver with a plain client.
pub async fn http(url: String, concurrency: usize, duration: Duration) -> Figures {
    let client = reqwest::Client::new();
    closed_loop(
        "baseline (b): plain HTTP POSTs",
        concurrency,
        duration,
        move |_, n| {
            let (client, url) = (client.clone(), url.clone());
            async move {
                client
                    .post(&url)
                    .header("idempotency-key", format!("baseline-{n}"))
                    .json(&json!({"job_id": Uuid::now_v7(), "n": n}))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        },
    )
    .await
}

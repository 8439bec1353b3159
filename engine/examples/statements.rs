//! Counts the SQL statements one transition into a timed state sends, with nothing else
//! running: `scripts/statements.sh` starts a PostgreSQL with pg_stat_statements and runs
//! this against it. N jobs are created, the statistics reset, then each job takes one
//! transition into a state with a timeout; every statement run N times or more is
//! printed with its count, then the count per transition.

use serde_json::json;
use switchyard_engine::job::create::{self, CreateJob};
use switchyard_engine::job::transition::{self, TransitionRequest};
use switchyard_engine::{store, tenant, workflow, Actor};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL")?;
    let n: i64 = std::env::args().nth(1).map_or(Ok(200), |a| a.parse())?;
    let pool = store::connect(&url, 2)?;
    store::migrate(&pool).await?;
    let actor = Actor::operator(tenant::create(&pool, "counting").await?);
    let doc = json!({"name": "timed", "initial": "a",
        "states": [{"name": "a"}, {"name": "b", "timeout": {"after": "1h", "transition": "back"}}],
        "transitions": [{"name": "go", "from": ["a"], "to": "b"}, {"name": "back", "from": ["b"], "to": "a"}]});
    workflow::publish(&pool, &actor, &doc).await?;
    let mut jobs = Vec::new();
    for _ in 0..n {
        let cmd = CreateJob {
            workflow: "timed".into(),
            workflow_version: None,
            context: json!({}),
            external_id: None,
        };
        let (created, _) = create::create(&pool, &actor, &cmd, None).await?;
        jobs.push(match created {
            create::Created::New(job) | create::Created::Existing(job) => job.id,
        });
    }
    let client = pool.get().await?;
    client
        .batch_execute("SELECT pg_stat_statements_reset()")
        .await?;
    for job_id in jobs {
        let req = TransitionRequest {
            job_id,
            transition: Some("go".into()),
            to: None,
            data: json!({}),
            expected_version: None,
        };
        transition::apply(&pool, &actor, &req, None).await?;
    }
    let rows = client
        .query(
            "SELECT calls, regexp_replace(left(query, 100), '\\s+', ' ', 'g') FROM pg_stat_statements \
             WHERE calls >= $1 AND query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC, query",
            &[&n],
        )
        .await?;
    let mut total = 0;
    for row in &rows {
        let calls: i64 = row.get(0);
        total += calls;
        println!("{calls:>6}  {}", row.get::<_, String>(1));
    }
    println!(
        "statements per transition into a timed state: {:.2}",
        total as f64 / n as f64
    );
    Ok(())
}

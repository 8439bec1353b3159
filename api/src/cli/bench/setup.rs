//! The benchmark's world: a fresh database, the API and a worker in this process, the
//! receiver, a tenant with a connection to it, two workflows and their jobs.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use switchyard_actions::vault::{EncryptionKey, Keyring};
use switchyard_engine::api_key::{self, Scope};
use switchyard_engine::{tenant, Actor, Pool, TenantId};
use tokio::sync::{oneshot, watch};

use super::receiver::Receiver;
use crate::cli::serve::spawn_worker;
use crate::config::Cli;
use crate::database::{self, Database};
use crate::server;
use crate::state::AppState;

/// Jobs per workflow: 32 workers × 8 jobs each, so workers never wait on each other's rows.
const JOBS: usize = 256;

/// An HTTP client holding the tenant's key.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    key: String,
}

impl Client {
    /// Posts the `tick` transition to `url`; the response on a 2xx.
    pub async fn tick(&self, url: &str) -> Option<Value> {
        let resp = self
            .http
            .post(url)
            .bearer_auth(&self.key)
            .json(&json!({"transition": "tick"}))
            .send()
            .await
            .ok()?;
        if !resp.status().is_success() {
            return None;
        }
        resp.json().await.ok()
    }
}

pub struct Bench {
    pub pool: Pool,
    pub client: Client,
    pub receiver: Receiver,
    pub tick_jobs: Vec<String>,
    pub notify_jobs: Vec<String>,
    base: String,
    tenant_id: TenantId,
    database: Database,
    temp_dir: Option<PathBuf>,
    stop_worker: watch::Sender<bool>,
    worker: tokio::task::JoinHandle<()>,
    stop_server: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Bench {
    pub async fn start(cli: &Cli) -> anyhow::Result<Bench> {
        let mut db_args = cli.database.clone();
        let temp_dir = db_args
            .database_url
            .is_none()
            .then(|| std::env::temp_dir().join(format!("switchyard-bench-{}", std::process::id())));
        if let Some(dir) = &temp_dir {
            db_args.data_dir = dir.clone();
        }
        eprintln!("starting the database…");
        let database = database::open(&db_args).await?;
        let pool = database.pool.clone();
        let mut worker_config = cli.worker.config(&cli.providers)?;
        // The receiver is on 127.0.0.1.
        worker_config.policy.allow_private = true;
        worker_config.listen = Some(database.url.clone());
        let keyring = Keyring::single(EncryptionKey::generate().0);
        // The bench measures throughput, not the per-tenant limit.
        let state = AppState::new(pool.clone(), keyring, &worker_config)?
            .with_limits(crate::throttle::RequestLimits::OFF);
        let (stop_worker, worker) = spawn_worker(&state, worker_config)?;
        let (acceptor, addr) = server::bind("127.0.0.1:0").await?;
        let (stop_server, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(server::run(acceptor, state, async {
            let _ = stopped.await;
        }));
        let receiver = Receiver::start().await?;

        let tenant_id = tenant::create(&pool, &format!("bench-{}", uuid::Uuid::new_v4())).await?;
        let (_, key) =
            api_key::create(&pool, &Actor::operator(tenant_id), "bench", &[Scope::Full]).await?;
        let client = Client {
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()?,
            key: key.expose().to_string(),
        };
        let base = format!("http://{addr}");
        let mut bench = Bench {
            pool,
            client,
            receiver,
            tick_jobs: Vec::new(),
            notify_jobs: Vec::new(),
            base,
            tenant_id,
            database,
            temp_dir,
            stop_worker,
            worker,
            stop_server,
            server,
        };
        eprintln!("creating workflows and jobs…");
        let connection = bench
            .post(
                "/api/v1/tenant/connections",
                json!({"provider": "generic_rest", "connection_name": "bench receiver",
                       "credentials": {"base_url": bench.receiver.url("")}}),
            )
            .await?;
        let connection_id = connection["id"].as_str().unwrap_or_default().to_string();
        bench
            .post("/api/v1/workflows", workflow("bench_tick", json!([])))
            .await?;
        let action = json!([{"name": "notify", "action_type": "WEBHOOK",
            "payload_template": {"connection_id": connection_id, "path": "/hook",
                                 "body": {"job_id": "{{job.id}}", "version": "{{job.version}}"}}}]);
        bench
            .post("/api/v1/workflows", workflow("bench_notify", action))
            .await?;
        bench.tick_jobs = bench.jobs("bench_tick").await?;
        bench.notify_jobs = bench.jobs("bench_notify").await?;
        Ok(bench)
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let resp = self
            .client
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.client.key)
            .json(&body)
            .send()
            .await?;
        let status = resp.status();
        let body: Value = resp.json().await?;
        anyhow::ensure!(status.is_success(), "{path}: {status} {body}");
        Ok(body)
    }

    async fn jobs(&self, workflow: &str) -> anyhow::Result<Vec<String>> {
        let mut ids = Vec::with_capacity(JOBS);
        for _ in 0..JOBS {
            let job = self
                .post("/api/v1/jobs", json!({"workflow": workflow}))
                .await?;
            ids.push(job["id"].as_str().unwrap_or_default().to_string());
        }
        Ok(ids)
    }

    /// The transition URL of each job.
    pub fn transition_urls(&self, jobs: &[String]) -> Vec<String> {
        jobs.iter()
            .map(|id| format!("{}/api/v1/jobs/{id}/transitions", self.base))
            .collect()
    }

    /// Action runs that succeeded, and that failed or were skipped.
    pub async fn finished_actions(&self) -> anyhow::Result<(i64, i64)> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                "SELECT count(*) FILTER (WHERE status = 'succeeded'), \
                        count(*) FILTER (WHERE status IN ('failed', 'skipped')) \
                 FROM action_runs WHERE tenant_id = $1",
                &[&self.tenant_id.0],
            )
            .await?;
        Ok((row.get(0), row.get(1)))
    }

    /// Waits until no action run is waiting, pending or running (at most five minutes).
    pub async fn drain(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let client = self.pool.get().await?;
            let open: i64 = client
                .query_one(
                    "SELECT count(*) FROM action_runs WHERE tenant_id = $1 \
                     AND status IN ('waiting', 'pending', 'running')",
                    &[&self.tenant_id.0],
                )
                .await?
                .get(0);
            if open == 0 {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "{open} actions still open after 5 minutes"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Stops the server, the worker and the database, and removes a throwaway data dir.
    pub async fn stop(self) {
        let _ = self.stop_server.send(());
        let _ = self.server.await;
        let _ = self.stop_worker.send(true);
        let _ = self.worker.await;
        // Close our connections before the cluster stops, rather than have it cut them.
        self.pool.close();
        drop(self.database);
        if let Some(dir) = self.temp_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// `open --tick--> open` (and `open --close--> closed`), with `actions` on `tick`.
fn workflow(name: &str, actions: Value) -> Value {
    json!({
        "name": name,
        "initial": "open",
        "states": [{"name": "open"}, {"name": "closed", "terminal": true}],
        "transitions": [
            {"name": "tick", "from": ["open"], "to": "open", "actions": actions},
            {"name": "close", "from": ["open"], "to": "closed"}
        ]
    })
}

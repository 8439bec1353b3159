//! The benchmark's world: a fresh database, the API and a worker (in this process, or as
//! `--processes N` server processes), the receiver, a tenant with a connection to it, two
//! workflows and their jobs.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use switchyard_actions::vault::{EncryptionKey, Keyring};
use switchyard_engine::api_key::{self, Scope};
use switchyard_engine::{tenant, Actor, Pool, TenantId};
use tokio::sync::{oneshot, watch};

use super::processes::Servers;
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

/// Where the API and the worker run.
enum Serving {
    /// In this process, as tasks.
    Here {
        stop_worker: watch::Sender<bool>,
        worker: tokio::task::JoinHandle<()>,
        stop_server: oneshot::Sender<()>,
        server: tokio::task::JoinHandle<std::io::Result<()>>,
    },
    /// As server processes of their own.
    Apart(Servers),
}

pub struct Bench {
    pub pool: Pool,
    pub client: Client,
    pub receiver: Receiver,
    pub tick_jobs: Vec<String>,
    pub notify_jobs: Vec<String>,
    /// Each server's base URL; the load is spread over them.
    bases: Vec<String>,
    tenant_id: TenantId,
    database: Database,
    temp_dir: Option<PathBuf>,
    serving: Serving,
}

impl Bench {
    /// Sets everything up; `processes` 0 serves in this process.
    pub async fn start(cli: &Cli, processes: usize) -> anyhow::Result<Bench> {
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
        let (key, encoded_key) = EncryptionKey::generate();
        let (serving, bases) = if processes == 0 {
            // The bench measures throughput, not the per-tenant limit.
            let state = AppState::new(pool.clone(), Keyring::single(key), &worker_config)?
                .with_limits(crate::throttle::RequestLimits::OFF);
            let (stop_worker, worker) = spawn_worker(&state, worker_config)?;
            let (acceptor, addr) = server::bind("127.0.0.1:0").await?;
            let (stop_server, stopped) = oneshot::channel::<()>();
            let server = tokio::spawn(server::run(acceptor, state, async {
                let _ = stopped.await;
            }));
            let serving = Serving::Here {
                stop_worker,
                worker,
                stop_server,
                server,
            };
            (serving, vec![format!("http://{addr}")])
        } else {
            eprintln!("starting {processes} server processes…");
            let servers = Servers::start(processes, &database.url, &encoded_key).await?;
            let bases = servers.bases.clone();
            (Serving::Apart(servers), bases)
        };
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
        let mut bench = Bench {
            pool,
            client,
            receiver,
            tick_jobs: Vec::new(),
            notify_jobs: Vec::new(),
            bases,
            tenant_id,
            database,
            temp_dir,
            serving,
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
        self.post_as(&self.client.key, path, body).await
    }

    /// Posts `body` to `path` with the bench tenant's key; the answer.
    pub async fn post_json(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.post(path, body).await
    }

    /// `path` on each server.
    pub fn urls(&self, path: &str) -> Vec<String> {
        self.bases.iter().map(|b| format!("{b}{path}")).collect()
    }

    /// The bench's HTTP client, without a key.
    pub fn http(&self) -> reqwest::Client {
        self.client.http.clone()
    }

    /// Posts `body` to `path` with another tenant's `key`.
    pub async fn post_as(&self, key: &str, path: &str, body: Value) -> anyhow::Result<Value> {
        let resp = self
            .client
            .http
            .post(format!("{}{path}", self.bases[0]))
            .bearer_auth(key)
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

    /// The bench's tenant.
    pub fn tenant_id(&self) -> TenantId {
        self.tenant_id
    }

    /// The transition URL of each job, the jobs spread over the servers.
    pub fn transition_urls(&self, jobs: &[String]) -> Vec<String> {
        jobs.iter()
            .enumerate()
            .map(|(i, id)| {
                let base = &self.bases[i % self.bases.len()];
                format!("{base}/api/v1/jobs/{id}/transitions")
            })
            .collect()
    }

    /// The peak resident memory of the server processes (none when serving here).
    pub fn servers_peak_rss_mib(&self) -> f64 {
        match &self.serving {
            Serving::Here { .. } => 0.0,
            Serving::Apart(servers) => servers.peak_rss_mib(),
        }
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
        match self.serving {
            Serving::Here {
                stop_worker,
                worker,
                stop_server,
                server,
            } => {
                let _ = stop_server.send(());
                let _ = server.await;
                let _ = stop_worker.send(true);
                let _ = worker.await;
            }
            Serving::Apart(servers) => servers.stop().await,
        }
        // Close our connections before the cluster stops, rather than have it cut them.
        self.pool.close();
        drop(self.database);
        if let Some(dir) = self.temp_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// `open --tick--> open` (and `open --close--> closed`), with `actions` on `tick`.
pub fn workflow(name: &str, actions: Value) -> Value {
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

//! A running app for one test, and small HTTP helpers.

use reqwest::StatusCode;
use serde_json::{json, Value};
use switchyard_actions::providers::ProviderEndpoints;
use switchyard_actions::vault::{EncryptionKey, Keyring};
use switchyard_actions::worker::WorkerConfig;
use switchyard_api::server;
use switchyard_api::state::AppState;
use switchyard_api::throttle::RequestLimits;
use switchyard_engine::api_key::{self, Scope};
use switchyard_engine::{store, tenant, Actor, Pool, TenantId};

use super::cluster::fresh_database;
pub use super::worker::test_worker;

/// The token the test apps serve `/metrics` to.
pub const METRICS_TOKEN: &str = "test-metrics-token";

/// The API on a random port over a fresh database, with one tenant and its `full` key.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub pool: Pool,
    pub tenant_id: TenantId,
    pub key: String,
}

impl TestApp {
    /// Starts the app and a worker that may reach 127.0.0.1; they stop with the test's
    /// runtime.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(test_worker(ProviderEndpoints::default(), true)).await
    }

    /// Starts the app with a worker configured as given.
    pub async fn spawn_with(worker: WorkerConfig) -> TestApp {
        Self::spawn_on(&fresh_database().await, worker).await
    }

    /// Starts the app on the migrated database at `db_url`. Suites that load the API run
    /// without request limits; the hostile suite sets its own with [`Self::spawn_limited`].
    pub async fn spawn_on(db_url: &str, worker: WorkerConfig) -> TestApp {
        Self::spawn_limited(db_url, worker, RequestLimits::OFF).await
    }

    /// Starts the app on a fresh database under request `limits`.
    pub async fn spawn_with_limits(limits: RequestLimits) -> TestApp {
        let worker = test_worker(ProviderEndpoints::default(), true);
        Self::spawn_limited(&fresh_database().await, worker, limits).await
    }

    /// Starts the app on `db_url` under request `limits`.
    pub async fn spawn_limited(
        db_url: &str,
        mut worker: WorkerConfig,
        limits: RequestLimits,
    ) -> TestApp {
        // Like `serve`, the worker listens for work other processes commit.
        worker.listen.get_or_insert_with(|| db_url.to_string());
        super::logs::capture();
        let pool = store::connect(db_url, 16).expect("pool");
        let keyring = Keyring::single(EncryptionKey::generate().0);
        let state = AppState::new(pool.clone(), keyring, &worker)
            .expect("state")
            .with_limits(limits)
            .with_metrics_token(Some(METRICS_TOKEN.to_string()));
        let (stop, _handle) =
            switchyard_api::cli::serve::spawn_worker(&state, worker).expect("worker");
        // The worker runs until the test's runtime ends.
        std::mem::forget(stop);
        Self::serve(pool, state).await
    }

    /// The API alone on the migrated database at `db_url`, sealing credentials with
    /// `keyring`: no worker in this process.
    pub async fn spawn_api_only(db_url: &str, keyring: Keyring) -> TestApp {
        super::logs::capture();
        let pool = store::connect(db_url, 16).expect("pool");
        let config = test_worker(ProviderEndpoints::default(), true);
        let state = AppState::new(pool.clone(), keyring, &config)
            .expect("state")
            .with_limits(RequestLimits::OFF);
        Self::serve(pool, state).await
    }

    async fn serve(pool: Pool, state: AppState) -> TestApp {
        let (acceptor, addr) = server::bind("127.0.0.1:0").await.expect("bind");
        tokio::spawn(server::run(acceptor, state, std::future::pending()));
        let (tenant_id, key) = new_tenant(&pool, "acme").await;
        TestApp {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            pool,
            tenant_id,
            key,
        }
    }

    /// Waits (at most 30 s) until the workers have nothing due or in flight and every
    /// committed event is fanned out: the way to wait for the worker without sleeping.
    pub async fn idle(&self) {
        super::eventually(
            "the workers to be idle",
            std::time::Duration::from_secs(30),
            || async {
                switchyard_engine::idle::idle(&self.pool)
                    .await
                    .ok()
                    .filter(|idle| *idle)
            },
        )
        .await;
    }

    /// Another tenant with its own `full` key.
    pub async fn other_tenant(&self, name: &str) -> (TenantId, String) {
        new_tenant(&self.pool, name).await
    }

    /// The same server, seen by another tenant (its helpers use that tenant's key).
    pub async fn neighbour(&self, name: &str) -> TestApp {
        let (tenant_id, key) = new_tenant(&self.pool, name).await;
        TestApp {
            base: self.base.clone(),
            http: self.http.clone(),
            pool: self.pool.clone(),
            tenant_id,
            key,
        }
    }

    /// A key of the main tenant with exactly `scopes`, created through the API.
    pub async fn key_with(&self, scopes: &[&str]) -> String {
        let (status, body) = self
            .post(
                "/api/v1/api-keys",
                &self.key,
                json!({"name": "test", "scopes": scopes}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["key"].as_str().expect("key").to_string()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(self.url(path))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .expect("send");
        read(resp).await
    }

    pub async fn post_keyed(
        &self,
        path: &str,
        key: &str,
        idempotency_key: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(self.url(path))
            .bearer_auth(key)
            .header("Idempotency-Key", idempotency_key)
            .json(&body)
            .send()
            .await
            .expect("send");
        read(resp).await
    }

    /// A GET whose response the caller reads (headers, a stream).
    pub async fn get_response(&self, path: &str, key: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .expect("send")
    }

    pub async fn get(&self, path: &str, key: &str) -> (StatusCode, Value) {
        let resp = self
            .http
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .expect("send");
        read(resp).await
    }

    pub async fn patch(&self, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
        let resp = self
            .http
            .patch(self.url(path))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .expect("send");
        read(resp).await
    }

    pub async fn delete(&self, path: &str, key: &str) -> StatusCode {
        let resp = self
            .http
            .delete(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .expect("send");
        resp.status()
    }
}

async fn new_tenant(pool: &Pool, name: &str) -> (TenantId, String) {
    let tenant_id = tenant::create(pool, name).await.expect("tenant");
    let (_, secret) = api_key::create(
        pool,
        &Actor::operator(tenant_id),
        "test full",
        &[Scope::Full],
    )
    .await
    .expect("key");
    (tenant_id, secret.expose().to_string())
}

/// Status and JSON body; asserts that error bodies are problem+json.
pub async fn read(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = resp.text().await.expect("body");
    if !status.is_success() {
        assert!(
            content_type.starts_with("application/problem+json"),
            "a {status} answered {content_type}: {text}"
        );
    }
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

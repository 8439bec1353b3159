//! Receiving a request at `/in/{id}`: find the endpoint, check the signature, record the
//! receipt, choose a route and apply it, and answer within a bound whatever the routes do.
//!
//! Nothing is written before the signature holds. A repeat of a delivery answers as the
//! first did. The route runs in a task of its own: when it takes longer than the answer
//! may wait, the answer says `pending` and the task finishes the receipt.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use serde_json::Value;
use switchyard_engine::intake::apply::{self, Committed};
use switchyard_engine::intake::receipt::{self, NewReceipt, Outcome, Receipt};
use switchyard_engine::intake::route::{self, Route};
use switchyard_engine::intake::{self as stored, Endpoint};
use switchyard_engine::{Pool, StoreError, TenantId};
use uuid::Uuid;

use super::config;
use super::refusals::Refusals;
use super::request::{body_value, kept_headers, query_value};
use super::verify::{self, Inbound, Refusal, Scheme, Verified};
use crate::vault::{Keyring, Secret};

/// How long an endpoint read from the database is used before it is read again: a change
/// made through another process reaches this one within it.
const CACHE_FOR: Duration = Duration::from_secs(2);
/// The most endpoints (and unknown ids) remembered.
const CACHE_MAX: usize = 10_000;

/// An endpoint ready to verify and route.
pub struct Loaded {
    pub endpoint: Endpoint,
    scheme: Result<Scheme, String>,
    secret: Secret<String>,
    routes: Arc<Vec<Route>>,
}

/// An endpoint read at a time (`None`: no endpoint has the id).
type Cached = (Instant, Option<Arc<Loaded>>);

/// Called once a route's writes are committed, to wake the workers.
pub type OnCommit = Arc<dyn Fn(Committed) + Send + Sync>;

/// Receiving, for one process.
pub struct Intake {
    pool: Pool,
    keyring: Arc<Keyring>,
    cache: Mutex<HashMap<Uuid, Cached>>,
    pub refusals: Refusals,
    /// How long an answer waits for the route before it says `pending`.
    pub answer_within: Duration,
}

impl std::fmt::Debug for Intake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Intake").finish_non_exhaustive()
    }
}

/// The request as received.
pub struct Request<'a> {
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// The query string, without `?`.
    pub query: &'a str,
    /// The address the sender called, as it knows it (Twilio signs it).
    pub url: &'a str,
}

/// What came of a request.
pub enum Reception {
    /// The signature does not hold: nothing was written.
    Refused(Refusal),
    /// The endpoint was deleted (through another process) while this was received.
    Gone,
    /// The receipt (`repeat`: this delivery was received before, and nothing was applied
    /// now).
    Received { receipt: Box<Receipt>, repeat: bool },
}

/// Why a replay did not run.
pub enum ReplayError {
    NotFound,
    /// Only `unmatched` and `refused` receipts run again (and `pending` ones whose run
    /// ended with its process): the others did what they could.
    NotReplayable(Outcome),
    Store(StoreError),
}

impl From<StoreError> for ReplayError {
    fn from(err: StoreError) -> Self {
        ReplayError::Store(err)
    }
}

impl Intake {
    pub fn new(pool: Pool, keyring: Arc<Keyring>) -> Intake {
        Intake {
            pool,
            keyring,
            cache: Mutex::default(),
            refusals: Refusals::default(),
            answer_within: Duration::from_millis(900),
        }
    }

    /// The endpoint `id`, from the cache when read lately.
    pub async fn endpoint(&self, id: Uuid) -> Result<Option<Arc<Loaded>>, StoreError> {
        {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, found)) = cache.get(&id) {
                if at.elapsed() < CACHE_FOR {
                    return Ok(found.clone());
                }
            }
        }
        let found = stored::for_request(&self.pool, id)
            .await?
            .map(|(endpoint, sealed)| self.load(endpoint, sealed))
            .map(Arc::new);
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CACHE_MAX {
            cache.retain(|_, (at, _)| at.elapsed() < CACHE_FOR);
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
        }
        cache.insert(id, (Instant::now(), found.clone()));
        Ok(found)
    }

    /// Forgets `id`'s cached endpoint (it was changed or deleted here).
    pub fn forget(&self, id: Uuid) {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
    }

    fn load(&self, endpoint: Endpoint, sealed: switchyard_engine::sealed::Sealed) -> Loaded {
        let scheme = config::stored(&endpoint.scheme, &endpoint.settings)
            .map_err(|(field, why)| format!("the endpoint's {field} cannot be read: {why}"));
        let secret = self
            .keyring
            .decrypt(
                endpoint.tenant_id.0,
                endpoint.id,
                &sealed.ciphertext,
                &sealed.key_id,
            )
            .ok()
            .and_then(|bytes| String::from_utf8(bytes.expose().clone()).ok());
        let scheme = match (scheme, &secret) {
            (Ok(_), None) => {
                Err("the endpoint's secret cannot be opened with the configured keys".into())
            }
            (scheme, _) => scheme,
        };
        let routes = route::parse(&endpoint.routes).unwrap_or_else(|problems| {
            tracing::error!(endpoint.id = %endpoint.id, ?problems, "stored routes do not parse; none applies");
            Vec::new()
        });
        Loaded {
            endpoint,
            scheme,
            secret: Secret::new(secret.unwrap_or_default()),
            routes: Arc::new(routes),
        }
    }

    /// Checks `request`'s signature at `loaded`'s endpoint; a refusal is counted and
    /// writes nothing.
    pub fn check(&self, loaded: &Loaded, request: &Request<'_>) -> Result<Verified, Refusal> {
        let endpoint = &loaded.endpoint;
        let scheme = match &loaded.scheme {
            Ok(scheme) => scheme,
            Err(why) => {
                tracing::error!(endpoint.id = %endpoint.id, "{why}");
                self.refusals.add(endpoint.id, why.clone());
                return Err(Refusal::Mismatch);
            }
        };
        let inbound = Inbound {
            headers: request.headers,
            body: request.body,
            url: request.url,
            now: chrono::Utc::now().timestamp(),
        };
        verify::verify(scheme, loaded.secret.expose(), &inbound).inspect_err(|refusal| {
            switchyard_engine::metrics::intake("rejected");
            self.refusals.add(endpoint.id, refusal.to_string());
        })
    }

    /// Records `request`, verified by [`Intake::check`], and runs its route.
    pub async fn receive(
        &self,
        loaded: Arc<Loaded>,
        request: Request<'_>,
        verified: Verified,
        on_commit: OnCommit,
    ) -> Result<Reception, StoreError> {
        let endpoint = &loaded.endpoint;
        let Ok(scheme) = &loaded.scheme else {
            return Ok(Reception::Refused(Refusal::Mismatch));
        };
        let content_type = request
            .headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let headers = kept_headers(request.headers, scheme);
        let recorded = receipt::record(
            &self.pool,
            NewReceipt {
                tenant_id: endpoint.tenant_id,
                endpoint_id: endpoint.id,
                delivery_id: &verified.delivery_id,
                content_type,
                headers: &headers,
                query: request.query,
                body: request.body,
            },
        )
        .await?;
        let Some((first, repeat)) = recorded else {
            self.forget(endpoint.id);
            return Ok(Reception::Gone);
        };
        if repeat && first.outcome != Outcome::Pending {
            switchyard_engine::metrics::intake("repeat");
            return Ok(Reception::Received {
                receipt: Box::new(first),
                repeat: true,
            });
        }
        let seen = apply::request_value(
            body_value(content_type, request.body),
            headers,
            query_value(request.query),
        );
        let receipt = self.run(&loaded, first, seen, false, on_commit).await?;
        switchyard_engine::metrics::intake(receipt.outcome.as_str());
        Ok(Reception::Received {
            receipt: Box::new(receipt),
            repeat,
        })
    }

    /// Runs receipt `receipt_id` of the tenant's endpoint `endpoint_id` through the
    /// endpoint's current routes again.
    pub async fn replay(
        &self,
        tenant_id: TenantId,
        endpoint_id: Uuid,
        receipt_id: Uuid,
        on_commit: OnCommit,
    ) -> Result<Receipt, ReplayError> {
        let found = receipt::get(&self.pool, tenant_id, endpoint_id, receipt_id).await?;
        let first = found.ok_or(ReplayError::NotFound)?;
        if !first.replayable(chrono::Utc::now()) {
            return Err(ReplayError::NotReplayable(first.outcome));
        }
        self.forget(endpoint_id);
        let loaded = self.endpoint(endpoint_id).await?;
        let loaded = loaded.ok_or(ReplayError::NotFound)?;
        let seen = apply::request_value(
            body_value(first.content_type.as_deref(), &first.body),
            first.headers.clone(),
            query_value(&first.query),
        );
        Ok(self.run(&loaded, first, seen, true, on_commit).await?)
    }

    /// Chooses and applies a route for `first` in a task of its own; answers with the
    /// settled receipt, or `first` (pending) when that takes longer than
    /// `answer_within`.
    async fn run(
        &self,
        loaded: &Loaded,
        first: Receipt,
        seen: Value,
        replay: bool,
        on_commit: OnCommit,
    ) -> Result<Receipt, StoreError> {
        let pool = self.pool.clone();
        let routes = loaded.routes.clone();
        let (tenant_id, endpoint_id, receipt_id) =
            (loaded.endpoint.tenant_id, loaded.endpoint.id, first.id);
        let task = tokio::spawn(async move {
            let chosen = tokio::task::spawn_blocking(move || route::choose(&routes, &seen))
                .await
                .unwrap_or_else(|_| {
                    Err(route::NoPlan::Failed {
                        route: 0,
                        reason: "the routes could not be evaluated".into(),
                    })
                });
            let (settled, committed) =
                apply::apply(&pool, tenant_id, endpoint_id, receipt_id, chosen).await?;
            if committed != Committed::Nothing {
                on_commit(committed);
            }
            receipt::settle(&pool, receipt_id, &settled, replay).await
        });
        match tokio::time::timeout(self.answer_within, task).await {
            Ok(Ok(done)) => done,
            Ok(Err(join)) => {
                tracing::error!(error = %join, "an intake route's task failed");
                Ok(first)
            }
            Err(_) => Ok(first),
        }
    }
}

//! Sending one prepared request through the egress guard, and what came back. Actions,
//! subscription deliveries and connector test events all leave through here.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use switchyard_engine::ledger::LedgerEntry;
use switchyard_engine::outcome::Outcome;
use uuid::Uuid;

use crate::egress::{self, EgressPolicy, GuardedResolver};
use crate::providers::Outbound;
use crate::redact::Redactor;

/// The response body kept for logs.
pub const EXCERPT_BYTES: usize = 4096;
/// Response bytes read at most (the rest is not waited for).
const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// An HTTP client whose every connection passes the egress guard, following no redirects.
#[derive(Debug, Clone)]
pub struct Sender {
    http: reqwest::Client,
    policy: Arc<EgressPolicy>,
}

/// A request that left (or whose connection was attempted), and what came back.
#[derive(Debug, Clone)]
pub struct Response {
    pub method: String,
    pub status: Option<u16>,
    /// A network error or timeout, without the URL (it can carry secrets).
    pub error: Option<String>,
    pub timed_out: bool,
    pub duration: Duration,
    pub bytes_out: usize,
    pub bytes_in: usize,
    pub body_sha256: String,
    pub excerpt: String,
    pub retry_after: Option<Duration>,
}

impl Sender {
    /// A client under `policy`.
    pub fn new(policy: EgressPolicy) -> Result<Sender, reqwest::Error> {
        let policy = Arc::new(policy);
        let http = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver {
                policy: policy.clone(),
            }))
            .redirect(reqwest::redirect::Policy::none())
            // HTTP_PROXY and friends would send hostname targets to a proxy unresolved,
            // past the guard, with their credentials.
            .no_proxy()
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()?;
        Ok(Sender { http, policy })
    }

    /// Sends `outbound` with `timeout`. `Err` means nothing left: the guard refused the
    /// target, and the message says why.
    /// Runs in a span `outbound` (the method and host only: paths and queries can carry
    /// secrets) inside the caller's, which names the action or delivery.
    #[tracing::instrument(name = "outbound", skip_all, fields(
        http.method = %outbound.method,
        http.host = outbound.url.host_str().unwrap_or(""),
    ))]
    pub async fn send(&self, outbound: Outbound, timeout: Duration) -> Result<Response, String> {
        // A literal address never reaches the resolver, so it is checked here.
        self.policy
            .check_url(&outbound.url)
            .map_err(|blocked| blocked.to_string())?;
        let redactor = Redactor::new(&outbound.secrets);
        // Read a little past the excerpt so a credential at the cut is still recognised.
        let keep = EXCERPT_BYTES + redactor.longest();
        let body_sha256 = hex::encode(Sha256::digest(&outbound.body));
        let bytes_out = outbound.body.len();
        let method = outbound.method.to_string();
        let mut request = self
            .http
            .request(outbound.method, outbound.url)
            .timeout(timeout);
        for (name, value) in &outbound.headers {
            request = request.header(*name, value);
        }
        let started = Instant::now();
        let mut response = Response {
            method,
            status: None,
            error: None,
            timed_out: false,
            duration: Duration::ZERO,
            bytes_out,
            bytes_in: 0,
            body_sha256,
            excerpt: String::new(),
            retry_after: None,
        };
        match request.body(outbound.body).send().await {
            Ok(mut answer) => {
                response.status = Some(answer.status().as_u16());
                response.retry_after = answer
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(crate::worker::retry::parse_retry_after);
                let mut kept = Vec::new();
                // A body that stalls or errors after the status arrived still counts as answered.
                while let Ok(Some(chunk)) = answer.chunk().await {
                    response.bytes_in += chunk.len();
                    if kept.len() < keep {
                        kept.extend_from_slice(&chunk[..chunk.len().min(keep - kept.len())]);
                    }
                    if response.bytes_in >= MAX_RESPONSE_BYTES {
                        break;
                    }
                }
                response.excerpt = redactor.redact(&String::from_utf8_lossy(&kept), EXCERPT_BYTES);
            }
            Err(err) => {
                if let Some(blocked) = egress::blocked_in(&err) {
                    return Err(blocked.to_string());
                }
                response.timed_out = err.is_timeout();
                response.error = Some(if response.timed_out {
                    format!("no response within {} ms", timeout.as_millis())
                } else {
                    describe(&err)
                });
            }
        }
        response.duration = started.elapsed();
        tracing::debug!(
            status = response.status,
            duration_ms = response.duration.as_millis() as u64,
            "answered"
        );
        Ok(response)
    }
}

impl Response {
    /// A 2xx answer.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// A failure worth retrying: no answer, a timeout, 408, 429 or 5xx.
    pub fn transient(&self) -> bool {
        match self.status {
            None => true,
            Some(s) => s == 408 || s == 429 || s >= 500,
        }
    }

    /// The receiver's `Retry-After`, when its status gives it meaning (429, 503).
    pub fn retry_after(&self) -> Option<Duration> {
        self.status
            .filter(|s| *s == 429 || *s == 503)
            .and(self.retry_after)
    }

    /// How the request ended.
    pub fn outcome(&self) -> Outcome {
        match (self.succeeded(), self.timed_out, self.status) {
            (true, _, _) => Outcome::Succeeded,
            (false, true, _) => Outcome::Timeout,
            (false, false, None) => Outcome::NetworkError,
            _ => Outcome::Failed,
        }
    }

    /// What went wrong, for logs: the client error, or the status.
    pub fn problem(&self) -> Option<String> {
        self.error.clone().or_else(|| {
            (!self.succeeded())
                .then(|| format!("the target answered {}", self.status.unwrap_or_default()))
        })
    }

    pub fn duration_ms(&self) -> i32 {
        self.duration.as_millis().min(i32::MAX as u128) as i32
    }

    /// The metered row for this request.
    pub fn ledger_entry(&self, connection_id: Option<Uuid>) -> LedgerEntry {
        LedgerEntry {
            connection_id,
            status_code: self.status.map(i32::from),
            outcome: self.outcome(),
            bytes_out: self.bytes_out as i64,
            bytes_in: self.bytes_in as i64,
            duration_ms: self.duration_ms(),
        }
    }
}

/// A client error and its causes, without the URL.
fn describe(err: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = std::error::Error::source(err);
    while let Some(e) = source {
        parts.push(e.to_string());
        source = e.source();
    }
    let head = if err.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    if parts.is_empty() {
        head.to_string()
    } else {
        format!("{head}: {}", parts.join(": "))
    }
}

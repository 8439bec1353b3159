//! A local receiver on 127.0.0.1 that records every request and answers as scripted:
//! the fake provider, catch hook or customer endpoint of a test.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Body, Endpoint, Request, Response};

use super::eventually;

/// One request as received.
#[derive(Clone, Debug)]
pub struct Captured {
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Header names lowercased.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Captured {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// How to answer one request.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(String, String)>,
    pub delay: Duration,
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            body: format!("{{\"status\": {status}}}"),
            headers: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    pub fn body(mut self, body: &str) -> Reply {
        self.body = body.to_string();
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

type Script = dyn Fn(&Captured, usize) -> Reply + Send + Sync;

/// The running receiver; it stops with the test's runtime.
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    captured: Arc<Mutex<Vec<Captured>>>,
}

struct Handler {
    captured: Arc<Mutex<Vec<Captured>>>,
    script: Arc<Script>,
}

impl Endpoint for Handler {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let body = req.take_body().into_vec().await.unwrap_or_default();
        let captured = Captured {
            method: req.method().to_string(),
            path: req
                .uri()
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            headers: req
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_lowercase(),
                        v.to_str().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
            body,
            at: Instant::now(),
        };
        let nth = {
            let mut all = self.captured.lock().unwrap();
            all.push(captured.clone());
            all.iter().filter(|c| c.path == captured.path).count()
        };
        let reply = (self.script)(&captured, nth);
        if !reply.delay.is_zero() {
            tokio::time::sleep(reply.delay).await;
        }
        let mut resp = Response::builder().status(StatusCode::from_u16(reply.status).unwrap());
        for (k, v) in &reply.headers {
            resp = resp.header(k.as_str(), v.as_str());
        }
        Ok(resp.body(Body::from_string(reply.body)))
    }
}

impl Receiver {
    /// A receiver answering each request with `script(request, nth request to its path)`.
    pub async fn start(
        script: impl Fn(&Captured, usize) -> Reply + Send + Sync + 'static,
    ) -> Receiver {
        Self::start_at("127.0.0.1:0", script).await
    }

    /// As [`Receiver::start`], on `addr` (a port chosen earlier, e.g. after an outage).
    pub async fn start_at(
        addr: &str,
        script: impl Fn(&Captured, usize) -> Reply + Send + Sync + 'static,
    ) -> Receiver {
        let acceptor = TcpListener::bind(addr.to_string())
            .into_acceptor()
            .await
            .unwrap();
        let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
        let captured = Arc::new(Mutex::new(Vec::new()));
        let handler = Handler {
            captured: captured.clone(),
            script: Arc::new(script),
        };
        tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(handler));
        Receiver { addr, captured }
    }

    /// A receiver that answers 200 to everything.
    pub async fn ok() -> Receiver {
        Receiver::start(|_, _| Reply::status(200).body("{\"ok\": true}")).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> Vec<Captured> {
        self.captured.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Captured> {
        eventually(
            &format!("{n} requests at the receiver"),
            Duration::from_secs(30),
            || async {
                let all = self.requests();
                (all.len() >= n).then_some(all)
            },
        )
        .await
    }
}

//! The benchmark's receiver on 127.0.0.1: answers 200 at once (on `/slow`, after
//! [`super::isolation::SLOW`]) and notes when each `Idempotency-Key` first arrived.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Endpoint, Request, Response};

type Arrivals = Arc<Mutex<HashMap<String, DateTime<Utc>>>>;

/// The running receiver.
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    arrivals: Arrivals,
}

struct Handler {
    arrivals: Arrivals,
}

impl Endpoint for Handler {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let at = Utc::now();
        if let Some(key) = req
            .headers()
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
        {
            self.arrivals
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(key.to_string())
                .or_insert(at);
        }
        if req.uri().path().starts_with("/slow") {
            tokio::time::sleep(super::isolation::SLOW).await;
        }
        Ok(Response::builder().body("{\"ok\":true}"))
    }
}

impl Receiver {
    pub async fn start() -> std::io::Result<Receiver> {
        let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await?;
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .ok_or_else(|| std::io::Error::other("no local address"))?;
        let arrivals = Arrivals::default();
        tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(Handler {
            arrivals: arrivals.clone(),
        }));
        Ok(Receiver { addr, arrivals })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// When `key` first arrived.
    pub fn arrival(&self, key: &str) -> Option<DateTime<Utc>> {
        self.arrivals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .copied()
    }
}

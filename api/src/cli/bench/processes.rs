//! `bench --processes N`: the API and its worker as N `switchyard serve` processes of this
//! same binary, on the bench's database, so scaling out is measured rather than claimed.
//! Each listens on its own loopback port; the load is spread over them.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::process::{Child, Command};

/// The serving processes, stopped (SIGKILL) when dropped.
pub struct Servers {
    children: Vec<Child>,
    /// The base URL of each, in order.
    pub bases: Vec<String>,
}

impl Servers {
    /// Starts `count` servers on `database_url` sharing `encryption_key`, and waits until
    /// each answers `/healthz`.
    pub async fn start(
        count: usize,
        database_url: &str,
        encryption_key: &str,
    ) -> anyhow::Result<Servers> {
        let exe = std::env::current_exe().context("finding this binary")?;
        let mut servers = Servers {
            children: Vec::with_capacity(count),
            bases: Vec::with_capacity(count),
        };
        for _ in 0..count {
            let addr = free_port()?;
            let child = Command::new(&exe)
                .arg("serve")
                .env("DATABASE_URL", database_url)
                .env("INTEGRATION_SECRET_ENCRYPTION_KEY", encryption_key)
                .env("SWITCHYARD_LISTEN", &addr)
                // The bench measures throughput, not the per-tenant limit; its receiver is
                // on 127.0.0.1.
                .env("SWITCHYARD_TENANT_RATE_LIMIT", "0")
                .env("SWITCHYARD_ALLOW_PRIVATE_TARGETS", "true")
                .env(
                    "RUST_LOG",
                    std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
                )
                .stdin(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .context("starting a server process")?;
            servers.children.push(child);
            servers.bases.push(format!("http://{addr}"));
        }
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        for base in &servers.bases {
            loop {
                let up = http.get(format!("{base}/healthz")).send().await;
                if up.is_ok_and(|r| r.status().is_success()) {
                    break;
                }
                anyhow::ensure!(
                    Instant::now() < deadline,
                    "the server at {base} did not start within a minute"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(servers)
    }

    /// The peak resident memory of every server process, in MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        self.children
            .iter()
            .filter_map(|c| c.id())
            .filter_map(|pid| super::peak_rss_mib_of(&format!("/proc/{pid}/status")))
            .sum()
    }

    /// Stops every server.
    pub async fn stop(mut self) {
        for child in &mut self.children {
            let _ = child.kill().await;
        }
    }
}

/// A loopback address with a port that was free a moment ago.
fn free_port() -> anyhow::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.to_string())
}

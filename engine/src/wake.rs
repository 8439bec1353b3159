//! Wake-ups across processes: a process that committed new work announces it with
//! `NOTIFY switchyard_work` (after the commit, in its own statement, never inside the
//! transaction that made the work), and workers in every process `LISTEN` for it, so a
//! worker learns of work committed elsewhere without waiting for its poll.
//!
//! Announcements are hints and are coalesced: at most one is in flight per process and
//! they are at least [`MIN_GAP`] apart, so a busy API sends a few hundred a second at most
//! whatever its commit rate. A lost one costs only latency: workers still poll.
//!
//! The same listening connection hears connection changes
//! ([`crate::connection::cache::CHANNEL`]) and drops the changed row from this process's
//! cache.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio_postgres::AsyncMessage;

use crate::connection::cache;
use crate::Pool;

/// The channel every Switchyard process uses.
pub const CHANNEL: &str = "switchyard_work";

/// The least time between two announcements of one process.
pub const MIN_GAP: Duration = Duration::from_millis(2);

/// Announces committed work to the other processes on the database.
#[derive(Clone, Debug)]
pub struct Announcer(Arc<Notify>);

impl Announcer {
    /// Starts the announcing task on `pool`; it lives as long as the runtime.
    pub fn spawn(pool: Pool) -> Announcer {
        let pending = Arc::new(Notify::new());
        let wanted = pending.clone();
        tokio::spawn(async move {
            loop {
                wanted.notified().await;
                match pool.get().await {
                    Ok(client) => {
                        if let Err(err) = client
                            .execute("SELECT pg_notify($1, '')", &[&CHANNEL])
                            .await
                        {
                            tracing::debug!(error = %err, "could not announce new work");
                        }
                    }
                    Err(err) => tracing::debug!(error = %err, "could not announce new work"),
                }
                tokio::time::sleep(MIN_GAP).await;
            }
        });
        Announcer(pending)
    }

    /// Says that work was committed; call after the commit.
    pub fn announce(&self) {
        self.0.notify_one();
    }
}

/// Listens on [`CHANNEL`] over a connection of its own and calls `woken` for each
/// announcement, reconnecting after a second when the connection fails (and calling
/// `woken` once then, and forgetting every cached connection: announcements may have been
/// missed). Runs until dropped.
pub async fn listen(url: &str, woken: impl Fn() + Send + 'static) {
    let target = match crate::store::target(url) {
        Ok(target) => target,
        Err(err) => {
            tracing::warn!(error = %err, "cannot listen for work announcements; polling only");
            return;
        }
    };
    loop {
        match target.config.connect(target.tls.clone()).await {
            Ok((client, mut connection)) => {
                let mut messages =
                    futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                let statement = format!("LISTEN {CHANNEL}; LISTEN {}", cache::CHANNEL);
                let listening = client.batch_execute(&statement);
                tokio::pin!(listening);
                // The LISTEN only completes while the connection is driven.
                let listened = loop {
                    tokio::select! {
                        done = &mut listening => break done.is_ok(),
                        message = messages.next() => {
                            if !matches!(message, Some(Ok(_))) { break false; }
                        }
                    }
                };
                if listened {
                    cache::forget_all();
                    woken();
                    while let Some(message) = messages.next().await {
                        match message {
                            Ok(AsyncMessage::Notification(n)) if n.channel() == cache::CHANNEL => {
                                match n.payload().parse() {
                                    Ok(id) => cache::forget(id),
                                    Err(_) => cache::forget_all(),
                                }
                            }
                            Ok(AsyncMessage::Notification(_)) => woken(),
                            Ok(_) => {}
                            Err(_) => break,
                        }
                    }
                }
                tracing::debug!("the work-announcement connection closed; reconnecting");
            }
            Err(err) => {
                tracing::debug!(error = %err, "cannot listen for work announcements yet");
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

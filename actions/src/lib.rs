//! The action worker's side of Switchyard.
//!
//! For now this crate holds [`WorkerSignal`], the in-process channel through which the API
//! wakes the worker right after a transition with actions commits. The worker loop,
//! templates rendering for sends, the credential vault, providers, the egress guard,
//! signing, retries and the ledger live here as they are built.

use std::sync::Arc;

use tokio::sync::Notify;

/// Wakes a local worker after a commit. Waking is a hint: the worker also polls, so a wake
/// that nobody hears loses nothing. It is deliberately not a database NOTIFY, which would
/// serialise every commit.
#[derive(Clone, Debug, Default)]
pub struct WorkerSignal(Arc<Notify>);

impl WorkerSignal {
    /// Tells the worker there may be new due work.
    pub fn wake(&self) {
        self.0.notify_one();
    }

    /// Waits until woken (a wake that arrived earlier counts once).
    pub async fn woken(&self) {
        self.0.notified().await;
    }
}

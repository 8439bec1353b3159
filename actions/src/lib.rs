//! The action worker's side of Switchyard: everything that talks to the outside world.
//!
//! How the three crates fit together, and the path of a transition, an action and a
//! delivery through them: `ARCHITECTURE.md` at the repository root.
//!
//! - [`vault`]: AES-256-GCM credential encryption, key loading and rotation.
//! - [`providers`]: credential shapes, endpoint previews, and the exact request each
//!   provider (`generic_rest`, `twilio`, `sendgrid`, `webhook`) gets.
//! - [`connections`]: creating and changing connections (validate, seal, store), and
//!   the webhook connector's test event.
//! - [`deliveries`]: event subscriptions and the signed deliveries of their events.
//! - [`sender`]: one request out through the egress guard, and what came back.
//! - [`redact`]: credentials removed from the response excerpts that are kept.
//! - [`signing`]: Standard Webhooks and the seeds' signature headers.
//! - [`intake`]: verifying signed webhooks that other systems send in.
//! - [`rotation`]: a replaced signing secret keeps signing beside the new one for a while.
//! - [`WorkerSignal`]: how the API wakes the local worker right after a commit.

pub mod connections;
pub mod connector_test;
pub mod deliveries;
pub mod egress;
pub mod intake;
pub mod providers;
pub mod redact;
pub mod rotation;
pub mod sender;
pub mod signing;
pub mod trace;
pub mod vault;
pub mod worker;

use std::sync::Arc;

use tokio::sync::Notify;

/// Wakes a local worker after a commit. Waking is a hint: the worker also polls, so a wake
/// that nobody hears loses nothing. Workers of other processes hear of commits through
/// [`switchyard_engine::wake`] (a NOTIFY after the commit, coalesced), never through a
/// NOTIFY inside the committing transaction, which would serialise every commit.
///
/// Two things listen: the claiming loop (new due work) and the fan-out of events to
/// subscriptions (every commit appends events, not every commit makes work).
#[derive(Clone, Debug, Default)]
pub struct WorkerSignal(Arc<Signals>);

#[derive(Debug, Default)]
struct Signals {
    work: Notify,
    events: Notify,
}

impl WorkerSignal {
    /// Tells the worker there may be new due work (and new events).
    pub fn wake(&self) {
        self.0.work.notify_one();
        self.0.events.notify_one();
    }

    /// Tells the worker there are new events, but no new work to claim.
    pub fn events(&self) {
        self.0.events.notify_one();
    }

    /// Waits until woken for work (a wake that arrived earlier counts once).
    pub async fn woken(&self) {
        self.0.work.notified().await;
    }

    /// Waits until woken for events (a wake that arrived earlier counts once).
    pub async fn events_woken(&self) {
        self.0.events.notified().await;
    }
}

/// Whether this process should get work. A worker loop that ended without being asked to
/// (a bug that escaped its guards) makes `/readyz` answer 503, so an orchestrator restarts
/// the process instead of routing work to a server whose actions no longer move; a
/// process draining after SIGTERM answers 503 too, so load balancers stop sending to it.
#[derive(Clone, Debug, Default)]
pub struct WorkerHealth {
    dead: Arc<std::sync::atomic::AtomicBool>,
    draining: Arc<std::sync::atomic::AtomicBool>,
}

impl WorkerHealth {
    /// Records that the loop has died.
    pub fn mark_dead(&self) {
        self.dead.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// False once the loop has died.
    pub fn alive(&self) -> bool {
        !self.dead.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Records that the process is shutting down.
    pub fn mark_draining(&self) {
        self.draining
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// True once shutdown has begun.
    pub fn draining(&self) -> bool {
        self.draining.load(std::sync::atomic::Ordering::SeqCst)
    }
}

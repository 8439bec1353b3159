//! The Switchyard engine: it decides, it does not act.
//!
//! How the three crates fit together, and the path of a transition, an action and a
//! delivery through them: `ARCHITECTURE.md` at the repository root.
//!
//! - [`definition`]: workflow definitions and their validation (every problem, with its path).
//! - [`guard`] and [`template`]: JSONLogic guards and handlebars payload templates.
//! - [`workflow`]: publishing immutable workflow versions and reading them back.
//! - [`job`]: creating jobs and applying transitions; a transition appends its event,
//!   updates the job and writes its outbox rows in one database transaction.
//! - [`log`]: the append-only event log: appends with a per-stream hash chain, gap-safe
//!   reads with a `(tx_id, position)` cursor, and chain verification.
//! - [`connection`]: provider connections as stored: metadata and sealed credentials.
//! - [`subscription`]: event subscriptions, the dispatcher that fans the log out into
//!   deliveries, and the deliveries themselves.
//! - [`intake`]: signed webhooks from other systems, their routes onto jobs, and receipts.
//! - [`idempotency`], [`tenant`], [`api_key`]: stored responses, tenants and keys.
//! - [`user`]: console accounts (argon2id passwords, roles) and their sessions.
//! - [`store`] and [`embedded`]: the PostgreSQL pool, migrations, and the private cluster
//!   used when no `DATABASE_URL` is given.
//!
//! Nothing here speaks HTTP or sends a request: the API crate maps results to responses and
//! the actions crate performs the side effects recorded in `action_runs`.

pub mod actor;
pub mod api_key;
pub mod budget;
pub mod connection;
pub mod context;
pub mod definition;
pub mod embedded;
pub mod error;
pub mod events;
pub mod flow;
pub mod guard;
pub mod health;
pub mod idempotency;
pub mod idle;
pub mod ids;
pub mod input_rule;
pub mod intake;
pub mod job;
pub mod json_path;
pub mod ledger;
pub mod log;
pub mod metrics;
pub mod outcome;
pub mod queue;
pub mod sealed;
pub mod store;
pub mod stored_json;
pub mod subscription;
pub mod template;
pub mod tenant;
pub mod timer;
pub mod user;
pub mod wake;
pub mod workflow;

pub use actor::Actor;
pub use error::StoreError;
pub use ids::{ApiKeyId, EventId, JobId, TenantId, UserId};
pub use store::Pool;

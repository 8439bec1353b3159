//! The Switchyard HTTP API and the `switchyard` binary.
//!
//! How the three crates fit together, and the path of a transition, an action and a
//! delivery through them: `ARCHITECTURE.md` at the repository root.
//!
//! - [`routes`]: poem-openapi routes, one file per resource; thin handlers over the engine.
//! - [`problem`]: `application/problem+json` errors, for routes and for everything around
//!   them (unknown routes, malformed JSON, missing keys, oversized bodies).
//! - [`auth`]: API keys as bearer tokens, scopes.
//! - [`app`]: the routes with their middleware, the OpenAPI document and Swagger UI.
//! - [`config`] and [`cli`]: flags and environment variables; one file per subcommand.
//! - [`database`]: `DATABASE_URL` or the embedded cluster, plus migrations.

pub mod allow;
pub mod app;
pub mod auth;
pub mod body_limit;
pub mod cli;
pub mod config;
pub mod console;
pub mod database;
pub mod heavy;
pub mod idempotency;
pub mod json_body;
pub mod metrics;
pub mod newline;
pub mod openapi;
pub mod problem;
pub mod request_rule;
pub mod routes;
pub mod schema;
pub mod server;
pub mod state;
pub mod throttle;

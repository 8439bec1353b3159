//! End-to-end tests: real PostgreSQL (a fresh database per test), the real HTTP server on
//! port 0, and the real `switchyard` binary where a process must die.

mod access;
mod browser;
mod concurrency;
mod connections;
mod console;
mod delayed_actions;
mod delivery;
mod demo;
mod embedded;
mod event_log;
mod failures;
mod fan_out;
mod faults;
mod hostile;
mod idempotency;
mod intake;
mod integrations;
mod isolation;
mod log_fixture;
mod log_order;
mod metrics;
mod observability;
mod postgres_tls;
mod providers;
mod recording;
mod requests;
mod subscriptions;
mod support;
mod timer_burst;
mod timers;
mod transitions;
mod users;
mod wakeups;
mod workflows;
mod zapier;

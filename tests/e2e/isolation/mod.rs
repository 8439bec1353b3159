//! Tenants are neighbours: a noisy tenant's slow targets or held-back backlog take at most
//! its own share of the worker, and the other tenant's work still flows.

mod held_deliveries;
mod slow_targets;

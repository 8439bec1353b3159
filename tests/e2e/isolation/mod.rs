//! Tenants are neighbours: a noisy tenant's slow targets or held-back backlog take at most
//! its own share of the worker, a destination's limits, holds and open circuit keep its
//! items waiting without attempts, a sign-in flood stays within its bounds, and the other
//! tenant's work still flows.

mod accounts;
mod breaker;
mod flow_limits;
mod held_deliveries;
mod quotas;
mod sign_in_flood;
mod slow_targets;
mod subscription_delete;

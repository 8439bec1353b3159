//! Signed webhooks from other systems (Twilio's status callbacks, Stripe, GitHub, Shopify,
//! Slack, anything that signs with Standard Webhooks or a plain HMAC header), made into
//! job transitions by the endpoint's routes (`switchyard_engine::intake`).
//!
//! - [`verify`]: each sender's signature checked the way that sender signs it.
//! - [`config`]: an endpoint's `verify` (scheme, secret, settings) checked and read back.
//! - [`endpoints`]: creating and changing endpoints: check, seal, store.
//! - [`receive`]: a request at `/in/{id}` verified, recorded and routed; replays.
//! - [`request`]: the request as routes read it (body, query, headers).
//! - [`refusals`]: what was refused, counted in memory (refusals write nothing).

pub mod config;
pub mod endpoints;
pub mod receive;
pub mod refusals;
pub mod request;
pub mod verify;

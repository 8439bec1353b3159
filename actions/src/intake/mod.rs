//! Signed webhooks from other systems (Twilio's status callbacks, Stripe, GitHub, Shopify,
//! Slack, anything that signs with Standard Webhooks or a plain HMAC header).
//!
//! - [`verify`]: each sender's signature checked the way that sender signs it.

pub mod verify;

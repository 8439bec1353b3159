//! Checking an inbound webhook's signature the way its sender signs it.
//!
//! | scheme | header(s) | signed | key |
//! |---|---|---|---|
//! | `standard_webhooks` | `webhook-id`, `webhook-timestamp`, `webhook-signature` (`v1,<base64>`, several) | `id.timestamp.body` | `whsec_<base64>` decoded, else the secret's bytes |
//! | `stripe` | `Stripe-Signature: t=…,v1=<hex>[,v1=…]` | `timestamp.body` | the secret's bytes |
//! | `github` | `X-Hub-Signature-256: sha256=<hex>` | the body | the secret's bytes |
//! | `twilio` | `X-Twilio-Signature: <base64>` (HMAC-SHA1) | the public URL, then each form field's name and value, names sorted | the auth token |
//! | `shopify` | `X-Shopify-Hmac-Sha256: <base64>` | the body | the secret's bytes |
//! | `slack` | `X-Slack-Request-Timestamp`, `X-Slack-Signature: v0=<hex>` | `v0:timestamp:body` | the signing secret |
//! | `hmac_sha256` | a named header, hex or base64, optional prefix (`sha256=`) | the body | the secret's bytes |
//!
//! Every comparison is constant-time (`Mac::verify_slice`). Schemes that sign a timestamp
//! refuse one outside the tolerance either way. Each verified request gets a delivery id,
//! the sender's own where it sends one, so that a repeat can be recognised.

use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use reqwest::header::HeaderMap;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use thiserror::Error;

/// How an intake endpoint's requests are signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scheme {
    StandardWebhooks {
        tolerance: Duration,
    },
    Stripe {
        tolerance: Duration,
    },
    Github,
    Twilio,
    Shopify,
    Slack {
        tolerance: Duration,
    },
    HmacSha256 {
        header: String,
        encoding: Encoding,
        prefix: Option<String>,
    },
}

/// How a signature's bytes are written in its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Hex,
    Base64,
}

/// The request as received.
pub struct Inbound<'a> {
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// The address the sender called, as it knows it (the public URL, with its query):
    /// Twilio signs it.
    pub url: &'a str,
    /// Seconds since the epoch, now.
    pub now: i64,
}

/// A request whose signature holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The sender's id for this delivery (`webhook-id`, Stripe's event id,
    /// `X-GitHub-Delivery`, …), or the body's SHA-256 when the sender gives none.
    pub delivery_id: String,
}

/// Why a request is refused. The messages name what is wrong, never a secret or the
/// expected signature.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum Refusal {
    #[error("the {0} header is missing")]
    Missing(String),
    #[error("the {0} header is not in the scheme's form")]
    Malformed(String),
    #[error("the signature does not match")]
    Mismatch,
    #[error("the signed timestamp is {0} s away from now, beyond the tolerance")]
    Stale(i64),
}

/// Checks `request` against `scheme` and `secret`.
pub fn verify(scheme: &Scheme, secret: &str, request: &Inbound) -> Result<Verified, Refusal> {
    let body = request.body;
    match scheme {
        Scheme::StandardWebhooks { tolerance } => {
            let id = header(request, "webhook-id")?;
            let timestamp = timestamp(request, "webhook-timestamp", *tolerance)?;
            let key = secret
                .strip_prefix("whsec_")
                .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
                .unwrap_or_else(|| secret.as_bytes().to_vec());
            let signed = [id.as_bytes(), b".", timestamp.as_bytes(), b".", body];
            let signatures = header(request, "webhook-signature")?
                .split_whitespace()
                .filter_map(|s| s.strip_prefix("v1,"))
                .filter_map(|s| base64::engine::general_purpose::STANDARD.decode(s).ok());
            any_matches(sha256(&key), &signed, signatures)?;
            Ok(delivery(id))
        }
        Scheme::Stripe { tolerance } => {
            let value = header(request, "stripe-signature")?;
            let mut t = None;
            let mut signatures = Vec::new();
            for part in value.split(',') {
                match part.trim().split_once('=') {
                    Some(("t", v)) => t = Some(v),
                    Some(("v1", v)) => signatures.extend(hex::decode(v).ok()),
                    _ => {}
                }
            }
            let t = t.ok_or_else(|| Refusal::Malformed("Stripe-Signature".into()))?;
            within(t, "Stripe-Signature", request.now, *tolerance)?;
            let signed = [t.as_bytes(), b".", body];
            any_matches(sha256(secret.as_bytes()), &signed, signatures.into_iter())?;
            let id = serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v["id"].as_str().map(str::to_string));
            Ok(delivery(id.unwrap_or_else(|| body_hash(body))))
        }
        Scheme::Github => {
            let given = prefixed_hex(request, "x-hub-signature-256", "sha256=")?;
            any_matches(sha256(secret.as_bytes()), &[body], std::iter::once(given))?;
            Ok(optional_id(request, "x-github-delivery", body))
        }
        Scheme::Twilio => {
            let given = base64_header(request, "x-twilio-signature")?;
            let signed = twilio_signed(request.url, body);
            any_matches(sha1(secret.as_bytes()), &[&signed], std::iter::once(given))?;
            Ok(optional_id(request, "i-twilio-idempotency-token", body))
        }
        Scheme::Shopify => {
            let given = base64_header(request, "x-shopify-hmac-sha256")?;
            any_matches(sha256(secret.as_bytes()), &[body], std::iter::once(given))?;
            Ok(optional_id(request, "x-shopify-webhook-id", body))
        }
        Scheme::Slack { tolerance } => {
            let timestamp = timestamp(request, "x-slack-request-timestamp", *tolerance)?;
            let given = prefixed_hex(request, "x-slack-signature", "v0=")?;
            let signed = [b"v0:", timestamp.as_bytes(), b":", body];
            any_matches(sha256(secret.as_bytes()), &signed, std::iter::once(given))?;
            Ok(delivery(body_hash(body)))
        }
        Scheme::HmacSha256 {
            header: name,
            encoding,
            prefix,
        } => {
            let value = header(request, name)?;
            let value = match prefix {
                Some(prefix) => value
                    .strip_prefix(prefix.as_str())
                    .ok_or_else(|| Refusal::Malformed(name.clone()))?,
                None => value,
            };
            let given = match encoding {
                Encoding::Hex => hex::decode(value).ok(),
                Encoding::Base64 => base64::engine::general_purpose::STANDARD.decode(value).ok(),
            }
            .ok_or_else(|| Refusal::Malformed(name.clone()))?;
            any_matches(sha256(secret.as_bytes()), &[body], std::iter::once(given))?;
            Ok(delivery(body_hash(body)))
        }
    }
}

/// What Twilio signs: the URL it called, then each form field's name and value, sorted.
fn twilio_signed(url: &str, form: &[u8]) -> Vec<u8> {
    let mut fields: Vec<(String, String)> = url::form_urlencoded::parse(form)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    fields.sort();
    fields.dedup();
    let mut signed = url.as_bytes().to_vec();
    for (name, value) in &fields {
        signed.extend_from_slice(name.as_bytes());
        signed.extend_from_slice(value.as_bytes());
    }
    signed
}

/// `X-Twilio-Signature` for a form posted to `url`, as Twilio makes it (the demo's
/// stand-in for Twilio signs its status callbacks with it).
pub fn twilio_signature(auth_token: &str, url: &str, form: &[u8]) -> String {
    let mut mac = sha1(auth_token.as_bytes());
    mac.update(&twilio_signed(url, form));
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether any of `signatures` is the HMAC (`mac`, keyed) of the concatenated `signed`
/// parts.
fn any_matches<M: Mac + Clone>(
    mut mac: M,
    signed: &[&[u8]],
    signatures: impl Iterator<Item = Vec<u8>>,
) -> Result<(), Refusal> {
    for part in signed {
        mac.update(part);
    }
    for signature in signatures {
        if mac.clone().verify_slice(&signature).is_ok() {
            return Ok(());
        }
    }
    Err(Refusal::Mismatch)
}

fn sha256(key: &[u8]) -> Hmac<Sha256> {
    Hmac::new_from_slice(key).expect("HMAC takes keys of any length")
}

fn sha1(key: &[u8]) -> Hmac<Sha1> {
    Hmac::new_from_slice(key).expect("HMAC takes keys of any length")
}

fn header<'a>(request: &'a Inbound, name: &str) -> Result<&'a str, Refusal> {
    let value = request
        .headers
        .get(name)
        .ok_or_else(|| Refusal::Missing(name.to_string()))?;
    value
        .to_str()
        .map(str::trim)
        .map_err(|_| Refusal::Malformed(name.to_string()))
}

fn prefixed_hex(request: &Inbound, name: &str, prefix: &str) -> Result<Vec<u8>, Refusal> {
    header(request, name)?
        .strip_prefix(prefix)
        .and_then(|h| hex::decode(h).ok())
        .ok_or_else(|| Refusal::Malformed(name.to_string()))
}

fn base64_header(request: &Inbound, name: &str) -> Result<Vec<u8>, Refusal> {
    base64::engine::general_purpose::STANDARD
        .decode(header(request, name)?)
        .map_err(|_| Refusal::Malformed(name.to_string()))
}

/// The header's timestamp (Unix seconds, as sent: it is part of what is signed), within
/// `tolerance` of now.
fn timestamp<'a>(
    request: &'a Inbound,
    name: &str,
    tolerance: Duration,
) -> Result<&'a str, Refusal> {
    let value = header(request, name)?;
    within(value, name, request.now, tolerance)?;
    Ok(value)
}

fn within(value: &str, name: &str, now: i64, tolerance: Duration) -> Result<(), Refusal> {
    let at: i64 = value
        .parse()
        .map_err(|_| Refusal::Malformed(name.to_string()))?;
    let off = now.saturating_sub(at);
    if off.unsigned_abs() > tolerance.as_secs() {
        return Err(Refusal::Stale(off));
    }
    Ok(())
}

fn optional_id(request: &Inbound, name: &str, body: &[u8]) -> Verified {
    match header(request, name) {
        Ok(id) if !id.is_empty() => delivery(id),
        _ => delivery(body_hash(body)),
    }
}

fn delivery(id: impl Into<String>) -> Verified {
    Verified {
        delivery_id: id.into(),
    }
}

fn body_hash(body: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(body)))
}

#[cfg(test)]
mod tests;

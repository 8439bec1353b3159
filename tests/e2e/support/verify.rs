//! Signature checks written from the specifications, independently of the code under test.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::receiver::Captured;

pub fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// Standard Webhooks: `v1,` + base64 HMAC of `id.timestamp.body` (a `whsec_` secret is
/// base64-decoded first).
pub fn standard_webhooks_ok(req: &Captured, secret: &str) -> bool {
    let key = match secret.strip_prefix("whsec_") {
        Some(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
        None => secret.as_bytes().to_vec(),
    };
    let mut signed = format!(
        "{}.{}.",
        req.header("webhook-id"),
        req.header("webhook-timestamp")
    )
    .into_bytes();
    signed.extend_from_slice(&req.body);
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(hmac_sha256(&key, &signed))
    );
    req.header("webhook-signature")
        .split(' ')
        .any(|sig| sig == expected)
}

/// Seed 000: `x-opensend-signature` = hex HMAC-SHA256 of `<x-opensend-timestamp>.<raw body>`.
pub fn opensend_ok(req: &Captured, secret: &str) -> bool {
    let mut signed = format!("{}.", req.header("x-opensend-timestamp")).into_bytes();
    signed.extend_from_slice(&req.body);
    req.header("x-opensend-signature") == hex::encode(hmac_sha256(secret.as_bytes(), &signed))
}

/// Seed 002's Node example: `sha256=` + hex HMAC of `JSON.stringify(req.body)`, i.e. of the
/// parsed body serialised again as compact JSON.
pub fn hook_signature_ok(req: &Captured, secret: &str) -> bool {
    let parsed: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    let compact = serde_json::to_vec(&parsed).unwrap();
    let expected = format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret.as_bytes(), &compact))
    );
    req.header("x-hook-signature") == expected
}

//! Signatures on outbound requests, each checkable by a receiver with a few lines of code.
//!
//! - Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`;
//!   a secret starting with `whsec_` is base64-decoded to give the key, as that spec's
//!   libraries do; any other secret is used as its UTF-8 bytes.
//! - The webhook connector's `x-opensend-signature`: hex HMAC-SHA256 of
//!   `"<timestamp>.<raw body>"` with the secret's UTF-8 bytes.
//! - Subscriptions' `X-Hook-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// The `webhook-signature` header value.
pub fn standard_webhooks(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = secret
        .strip_prefix("whsec_")
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec());
    let ts = timestamp.to_string();
    let mac = hmac(&key, &[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac)
    )
}

/// The `x-opensend-signature` header value.
pub fn opensend(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let ts = timestamp.to_string();
    hex::encode(hmac(secret.as_bytes(), &[ts.as_bytes(), b".", body]))
}

/// The `X-Hook-Signature` header value.
pub fn hook_signature(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac(secret.as_bytes(), &[body])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_webhooks_matches_the_specs_example() {
        // The example from the Standard Webhooks specification.
        let sig = standard_webhooks(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn seed_signatures_are_hex_hmacs() {
        assert_eq!(opensend("s", 1, b"{}").len(), 64);
        assert!(hook_signature("s", b"{}").starts_with("sha256="));
    }
}

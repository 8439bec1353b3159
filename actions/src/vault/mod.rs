//! The credential vault: AES-256-GCM with a fresh 96-bit nonce per encryption, the tenant
//! id and connection id as associated data (so a row copied to another tenant or
//! connection does not decrypt), and the key's id stored beside the ciphertext.
//!
//! - [`key`]: parsing key material (64 hex characters, base64 of 32 bytes, or at least 16
//!   characters of material stretched with HKDF-SHA256).
//! - [`keyring`]: the current key plus old ones still accepted for reading, loaded from
//!   the environment or from a generated key file for the embedded default.
//! - [`secret`]: a wrapper that keeps plaintext out of `Debug` and `Display`.
//! - [`rotate`]: re-encrypting every stored credential under the current key.

pub mod key;
pub mod keyring;
pub mod rotate;
pub mod secret;

pub use key::EncryptionKey;
pub use keyring::{KeySources, Keyring};
pub use secret::Secret;

use thiserror::Error;

/// Why a credential could not be encrypted or decrypted, or a key not loaded.
#[derive(Debug, Error)]
pub enum VaultError {
    #[error("{0}")]
    BadKey(String),
    #[error("no credential encryption key is configured: set INTEGRATION_SECRET_ENCRYPTION_KEY (or ENCRYPTION_KEY) to 64 hex characters, base64 of 32 bytes, or at least 16 characters of key material")]
    NoKey,
    #[error("the credential was encrypted with key id {0}, which is not configured (set it as the current key or as an *_OLD key)")]
    UnknownKey(String),
    #[error("the credential does not decrypt with key id {0}: it was changed, or moved from another tenant or connection")]
    Tampered(String),
    /// It decrypted, but is not what was sealed.
    #[error("{0}")]
    Corrupt(String),
}

//! One encryption key and its id.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::Engine as _;
use hkdf::Hkdf;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::VaultError;

const NONCE_LEN: usize = 12;

/// An AES-256-GCM key. Its bytes are never shown; `id` names it in stored rows.
pub struct EncryptionKey {
    id: String,
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptionKey")
            .field("id", &self.id)
            .finish()
    }
}

impl EncryptionKey {
    /// Parses key material: 64 hex characters, base64 of exactly 32 bytes, or any other
    /// text of at least 16 characters, stretched to 32 bytes with HKDF-SHA256.
    pub fn parse(material: &str) -> Result<Self, VaultError> {
        let material = material.trim();
        let bytes: [u8; 32] = if material.len() == 64
            && material.chars().all(|c| c.is_ascii_hexdigit())
        {
            hex::decode(material)
                .expect("checked hex")
                .try_into()
                .expect("32 bytes")
        } else if let Some(bytes) = base64::engine::general_purpose::STANDARD
            .decode(material)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
        {
            bytes
        } else if material.chars().count() >= 16 {
            let hk = Hkdf::<Sha256>::new(Some(b"switchyard credential key"), material.as_bytes());
            let mut out = [0u8; 32];
            hk.expand(b"aes-256-gcm", &mut out)
                .expect("32 bytes is a valid HKDF length");
            out
        } else {
            return Err(VaultError::BadKey(
                "the credential encryption key is too short: use 64 hex characters, base64 of 32 bytes, or at least 16 characters of key material".into(),
            ));
        };
        Ok(Self::from_bytes(&bytes))
    }

    /// A new random key and its hex form (for the embedded default's key file).
    pub fn generate() -> (Self, String) {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        (Self::from_bytes(&bytes), hex::encode(bytes))
    }

    fn from_bytes(bytes: &[u8; 32]) -> Self {
        // The id is a hash of the key under its own label: it names the key without
        // revealing anything useful about it.
        let mut hasher = Sha256::new();
        hasher.update(b"switchyard key id");
        hasher.update(bytes);
        let id = hex::encode(&hasher.finalize()[..8]);
        EncryptionKey {
            id,
            cipher: Aes256Gcm::new_from_slice(bytes).expect("32-byte key"),
        }
    }

    /// The key's id, stored beside each ciphertext it makes.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Encrypts with a fresh random nonce; returns `nonce || ciphertext || tag`.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        out
    }

    /// Decrypts what [`EncryptionKey::seal`] made with the same associated data.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, VaultError> {
        if sealed.len() < NONCE_LEN {
            return Err(VaultError::Tampered(self.id.clone()));
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad })
            .map_err(|_| VaultError::Tampered(self.id.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_key_formats_parse_and_short_material_does_not() {
        let hex_key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let b64_key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        assert!(EncryptionKey::parse(hex_key).is_ok());
        assert!(EncryptionKey::parse(&b64_key).is_ok());
        assert!(EncryptionKey::parse("a long passphrase of material").is_ok());
        assert!(EncryptionKey::parse("short").is_err());
        // Same material, same key id; different material, different id.
        assert_eq!(
            EncryptionKey::parse(hex_key).unwrap().id(),
            EncryptionKey::parse(hex_key).unwrap().id()
        );
        assert_ne!(
            EncryptionKey::parse(hex_key).unwrap().id(),
            EncryptionKey::parse(&b64_key).unwrap().id()
        );
    }

    #[test]
    fn sealing_uses_a_fresh_nonce_and_binds_the_associated_data() {
        let (key, _) = EncryptionKey::generate();
        let a = key.seal(b"tenant-a", b"secret");
        let b = key.seal(b"tenant-a", b"secret");
        assert_ne!(a, b, "a fresh nonce each time");
        assert_eq!(key.open(b"tenant-a", &a).unwrap(), b"secret");
        assert!(
            key.open(b"tenant-b", &a).is_err(),
            "another tenant's row does not decrypt"
        );
        let (other, _) = EncryptionKey::generate();
        assert!(other.open(b"tenant-a", &a).is_err());
    }
}

//! Passwords: argon2id (memory-hard) PHC strings, generated passwords, and a verification
//! that costs the same whether or not the account exists.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::distr::{Alphanumeric, SampleString};
use rand::RngCore;

/// The shortest password accepted.
pub const MIN_LENGTH: usize = 12;
/// The longest password accepted (hashing cost grows with it).
pub const MAX_LENGTH: usize = 256;

/// A password shown once: 24 random letters and digits (about 143 bits).
pub fn generate() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 24)
}

/// Why a chosen password is refused.
pub fn check(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_LENGTH || password.len() > MAX_LENGTH {
        return Err(format!(
            "a password must be {MIN_LENGTH} to {MAX_LENGTH} characters"
        ));
    }
    Ok(())
}

/// The argon2id hash of `password` (default parameters: 19 MiB, 2 passes).
pub fn hash(password: &str) -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let salt = SaltString::encode_b64(&bytes).expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes any password")
        .to_string()
}

/// Whether `password` matches `stored`. With `stored = None` (no such account) a hash is
/// verified anyway, so timing does not tell which emails exist.
pub fn verify(stored: Option<&str>, password: &str) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("not a real password at all"));
    let (phc, real) = match stored {
        Some(phc) => (phc, true),
        None => (dummy.as_str(), false),
    };
    let matches = PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false);
    matches && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let phc = hash("correct horse battery");
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify(Some(&phc), "correct horse battery"));
        assert!(!verify(Some(&phc), "wrong horse battery"));
        assert!(!verify(None, "correct horse battery"));
    }

    #[test]
    fn generated_passwords_are_long_and_differ() {
        let (a, b) = (generate(), generate());
        assert_eq!(a.len(), 24);
        assert_ne!(a, b);
        assert!(check(&a).is_ok());
        assert!(check("short").is_err());
    }
}

//! The current key and old keys still accepted for reading.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use uuid::Uuid;

use super::{EncryptionKey, Secret, VaultError};

/// Where key material came from: the variables in order of precedence, and their `_OLD`
/// companions (comma-separated) for keys being rotated away from.
#[derive(Default)]
pub struct KeySources {
    pub integration_key: Option<String>,
    pub encryption_key: Option<String>,
    pub webhook_key: Option<String>,
    pub old_keys: Vec<String>,
}

impl std::fmt::Debug for KeySources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeySources(redacted)")
    }
}

/// The keys in use.
#[derive(Debug)]
pub struct Keyring {
    current: EncryptionKey,
    previous: Vec<EncryptionKey>,
}

impl Keyring {
    /// Loads the keys. Without any configured key, `key_file` (the embedded default's
    /// data directory) holds a generated one; without that either, there is no key.
    pub fn load(sources: &KeySources, key_file: Option<&Path>) -> Result<Keyring, VaultError> {
        let configured = [
            (
                "INTEGRATION_SECRET_ENCRYPTION_KEY",
                &sources.integration_key,
            ),
            ("ENCRYPTION_KEY", &sources.encryption_key),
            ("WEBHOOK_SECRET_ENCRYPTION_KEY", &sources.webhook_key),
        ]
        .into_iter()
        .find_map(|(name, value)| {
            value
                .as_deref()
                .filter(|v| !v.trim().is_empty())
                .map(|v| (name, v))
        });
        let current = match configured {
            Some((name, material)) => {
                if name == "WEBHOOK_SECRET_ENCRYPTION_KEY" {
                    tracing::warn!("credentials are encrypted with WEBHOOK_SECRET_ENCRYPTION_KEY; set a dedicated INTEGRATION_SECRET_ENCRYPTION_KEY for production");
                }
                EncryptionKey::parse(material)
                    .map_err(|err| VaultError::BadKey(format!("{name}: {err}")))?
            }
            None => match key_file {
                Some(file) => read_or_create(file)?,
                None => return Err(VaultError::NoKey),
            },
        };
        let previous = sources
            .old_keys
            .iter()
            .flat_map(|v| v.split(','))
            .filter(|v| !v.trim().is_empty())
            .map(EncryptionKey::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Keyring { current, previous })
    }

    /// A keyring of one key, for tests and tools.
    pub fn single(key: EncryptionKey) -> Keyring {
        Keyring {
            current: key,
            previous: Vec::new(),
        }
    }

    /// The id of the key new ciphertexts are made with.
    pub fn current_id(&self) -> &str {
        self.current.id()
    }

    /// Encrypts a connection's credentials; returns the ciphertext and the key id.
    pub fn encrypt(
        &self,
        tenant_id: Uuid,
        connection_id: Uuid,
        plaintext: &[u8],
    ) -> (Vec<u8>, String) {
        let sealed = self.current.seal(&aad(tenant_id, connection_id), plaintext);
        (sealed, self.current.id().to_string())
    }

    /// Decrypts with the key named `key_id`, current or old.
    pub fn decrypt(
        &self,
        tenant_id: Uuid,
        connection_id: Uuid,
        sealed: &[u8],
        key_id: &str,
    ) -> Result<Secret<Vec<u8>>, VaultError> {
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id() == key_id)
            .ok_or_else(|| VaultError::UnknownKey(key_id.to_string()))?;
        key.open(&aad(tenant_id, connection_id), sealed)
            .map(Secret::new)
    }
}

fn aad(tenant_id: Uuid, connection_id: Uuid) -> Vec<u8> {
    let mut aad = tenant_id.as_bytes().to_vec();
    aad.extend_from_slice(connection_id.as_bytes());
    aad
}

/// Reads the key file, or creates it when there is none. An existing file is never
/// written over: if it cannot be read, start-up stops and says what to do, because a new
/// key would make every stored credential unreadable.
fn read_or_create(file: &Path) -> Result<EncryptionKey, VaultError> {
    match std::fs::read_to_string(file) {
        Ok(material) => {
            return EncryptionKey::parse(&material).map_err(|err| {
                VaultError::BadKey(format!(
                    "{}: {err}; restore the file from a backup, or set \
                     INTEGRATION_SECRET_ENCRYPTION_KEY to the key it held",
                    file.display()
                ))
            })
        }
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            return Err(VaultError::BadKey(format!(
                "the key file {} exists but cannot be read ({err}); fix its permissions or \
                 restore it (Switchyard never replaces it: a new key would make every stored \
                 credential unreadable), or set INTEGRATION_SECRET_ENCRYPTION_KEY",
                file.display()
            )))
        }
        Err(_) => {}
    }
    let (key, material) = EncryptionKey::generate();
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|err| VaultError::BadKey(format!("creating {}: {err}", dir.display())))?;
    }
    // Created with mode 0600 in one step, and only if it still does not exist: two
    // processes starting together cannot both write a key.
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file);
    let mut handle = match created {
        Ok(handle) => handle,
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => return read_or_create(file),
        Err(err) => {
            return Err(VaultError::BadKey(format!(
                "creating {}: {err}",
                file.display()
            )))
        }
    };
    handle
        .write_all(material.as_bytes())
        .and_then(|()| handle.sync_all())
        .map_err(|err| VaultError::BadKey(format!("writing {}: {err}", file.display())))?;
    tracing::warn!(path = %file.display(), "generated a credential encryption key for the embedded database; back this file up, or set INTEGRATION_SECRET_ENCRYPTION_KEY");
    Ok(key)
}

#[cfg(test)]
mod key_file_tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("switchyard-key-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn the_key_file_is_created_0600_and_read_back() {
        let file = temp_dir("create").join("encryption-key");
        let first = read_or_create(&file).unwrap();
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(read_or_create(&file).unwrap().id(), first.id());
    }

    #[test]
    fn an_unreadable_key_file_stops_start_up_and_is_left_alone() {
        let dir = temp_dir("unreadable");
        std::fs::create_dir_all(&dir).unwrap();
        // A directory where the file should be: it exists, and cannot be read as a file.
        let file = dir.join("encryption-key");
        std::fs::create_dir_all(&file).unwrap();
        let err = read_or_create(&file).unwrap_err().to_string();
        assert!(err.contains("cannot be read"), "{err}");
        assert!(file.is_dir(), "nothing was written over it");
        // A file that holds no key is not replaced either.
        let bad = dir.join("bad-key");
        std::fs::write(&bad, "not a key").unwrap();
        assert!(read_or_create(&bad).is_err());
        assert_eq!(std::fs::read_to_string(&bad).unwrap(), "not a key");
    }
}

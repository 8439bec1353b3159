//! The current key and old keys still accepted for reading.

use std::os::unix::fs::PermissionsExt;
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

fn read_or_create(file: &Path) -> Result<EncryptionKey, VaultError> {
    if let Ok(material) = std::fs::read_to_string(file) {
        return EncryptionKey::parse(&material)
            .map_err(|err| VaultError::BadKey(format!("{}: {err}", file.display())));
    }
    let (key, material) = EncryptionKey::generate();
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|err| VaultError::BadKey(format!("creating {}: {err}", dir.display())))?;
    }
    std::fs::write(file, &material)
        .map_err(|err| VaultError::BadKey(format!("writing {}: {err}", file.display())))?;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
        .map_err(|err| VaultError::BadKey(format!("protecting {}: {err}", file.display())))?;
    tracing::warn!(path = %file.display(), "generated a credential encryption key for the embedded database; back this file up, or set INTEGRATION_SECRET_ENCRYPTION_KEY");
    Ok(key)
}

//! `switchyard keys rotate`: re-encrypt every stored credential (connections, and
//! subscription URLs and secrets) under the current key.

use switchyard_engine::sealed::{self, Sealed, SealedTable};
use switchyard_engine::{Pool, StoreError};
use thiserror::Error;

use super::{Keyring, VaultError};

/// How many rows were re-encrypted, and how many already used the current key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    pub rotated: usize,
    pub already_current: usize,
}

/// Why rotation stopped (nothing was changed).
#[derive(Debug, Error)]
pub enum RotateError {
    #[error("{what} {id}: {source}")]
    Vault {
        what: &'static str,
        id: uuid::Uuid,
        source: VaultError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Re-encrypts in one transaction: either every row moves to the current key or none does.
/// Rows under an old key need that key configured as an `*_OLD` variable.
pub async fn rotate(pool: &Pool, keyring: &Keyring) -> Result<Rotation, RotateError> {
    let mut client = pool.get().await.map_err(StoreError::from)?;
    let tx = client.transaction().await.map_err(StoreError::from)?;
    let mut outcome = Rotation {
        rotated: 0,
        already_current: 0,
    };
    for table in SealedTable::ALL {
        for (id, tenant_id, current) in sealed::all_for_update(&tx, table).await? {
            if current.key_id == keyring.current_id() {
                outcome.already_current += 1;
                continue;
            }
            let plaintext = keyring
                .decrypt(tenant_id.0, id, &current.ciphertext, &current.key_id)
                .map_err(|source| RotateError::Vault {
                    what: table.row_name(),
                    id,
                    source,
                })?;
            let (ciphertext, key_id) = keyring.encrypt(tenant_id.0, id, plaintext.expose());
            sealed::reseal(&tx, table, id, &Sealed { ciphertext, key_id }).await?;
            outcome.rotated += 1;
        }
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(outcome)
}

//! Who runs the server. PostgreSQL refuses to run as root, so a root process hands the
//! cluster to the `postgres` system user that the server packages create.

use std::ffi::CString;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::{setup, EmbeddedError};

/// The uid/gid the server runs as, or `None` to run as ourselves.
#[derive(Clone, Copy, Debug)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
}

/// `Some(postgres)` when we are root, `None` otherwise.
pub fn server_owner() -> Result<Option<Owner>, EmbeddedError> {
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        return Ok(None);
    }
    let name = CString::new("postgres").expect("static name");
    // SAFETY: getpwnam reads a static buffer; we copy the two ids out immediately and do
    // not keep the pointer.
    let entry = unsafe { libc::getpwnam(name.as_ptr()) };
    if entry.is_null() {
        return Err(EmbeddedError::Setup(
            "running as root, PostgreSQL needs an unprivileged user to run as, and there is \
             no 'postgres' user (the postgresql package creates it): install the package, \
             run as a normal user, or set DATABASE_URL"
                .into(),
        ));
    }
    // SAFETY: entry is non-null and points to a valid passwd record.
    let (uid, gid) = unsafe { ((*entry).pw_uid, (*entry).pw_gid) };
    Ok(Some(Owner { uid, gid }))
}

/// Gives `path` to the server's owner.
pub fn chown(path: &Path, owner: Option<Owner>) -> Result<(), EmbeddedError> {
    if let Some(owner) = owner {
        std::os::unix::fs::chown(path, Some(owner.uid), Some(owner.gid)).map_err(|err| {
            setup(
                &format!("giving {} to the postgres user", path.display()),
                err,
            )
        })?;
    }
    Ok(())
}

/// Sets the permission bits of `path`.
pub fn set_mode(path: &Path, mode: u32) -> Result<(), EmbeddedError> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|err| setup(&format!("setting permissions of {}", path.display()), err))
}

/// Checks that the server's owner can reach `dir`: every ancestor must be searchable.
pub fn check_reachable(dir: &Path, owner: Option<Owner>) -> Result<(), EmbeddedError> {
    if owner.is_none() {
        return Ok(());
    }
    for ancestor in dir.ancestors().skip(1) {
        let Ok(meta) = std::fs::metadata(ancestor) else {
            continue;
        };
        let mode = meta.permissions().mode();
        if mode & 0o001 == 0 {
            return Err(EmbeddedError::Setup(format!(
                "the postgres user cannot reach {} because {} is not searchable by others \
                 (mode {:o}); choose a data directory elsewhere with --data-dir \
                 (or SWITCHYARD_DATA_DIR), or set DATABASE_URL",
                dir.display(),
                ancestor.display(),
                mode & 0o777
            )));
        }
    }
    Ok(())
}

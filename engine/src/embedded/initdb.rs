//! Creating the cluster: a random superuser password and `initdb`.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use rand::distr::{Alphanumeric, SampleString};

use super::binaries::Binaries;
use super::owner::{self, Owner};
use super::{setup, EmbeddedError};

/// The superuser the embedded cluster is created with.
pub(super) const SUPERUSER: &str = "switchyard";

/// The cluster's superuser password, created (mode 0600) on first use.
pub(super) fn read_or_create_password(data_dir: &Path) -> Result<String, EmbeddedError> {
    let file = data_dir.join("pg-password");
    if let Ok(existing) = std::fs::read_to_string(&file) {
        return Ok(existing.trim().to_string());
    }
    let password = Alphanumeric.sample_string(&mut rand::rng(), 32);
    std::fs::write(&file, &password).map_err(|err| setup("writing pg-password", err))?;
    owner::set_mode(&file, 0o600)?;
    Ok(password)
}

/// Runs `initdb` as the server's owner; an interrupted earlier attempt is started over.
pub(super) fn initdb(
    binaries: &Binaries,
    data_dir: &Path,
    pgdata: &Path,
    password: &str,
    owner: Option<Owner>,
    throwaway: bool,
) -> Result<(), EmbeddedError> {
    // A directory without PG_VERSION is an initdb that was interrupted: start over.
    if pgdata.exists() {
        std::fs::remove_dir_all(pgdata)
            .map_err(|err| setup("removing an incomplete cluster directory", err))?;
    }
    std::fs::create_dir_all(pgdata).map_err(|err| setup("creating the cluster directory", err))?;
    owner::chown(pgdata, owner)?;
    owner::set_mode(pgdata, 0o700)?;

    // initdb reads the superuser password from a file the server's owner can read.
    let pwfile = data_dir.join("initdb-pwfile");
    std::fs::write(&pwfile, password)
        .map_err(|err| setup("writing the initdb password file", err))?;
    owner::chown(&pwfile, owner)?;
    owner::set_mode(&pwfile, 0o600)?;

    let mut command = Command::new(binaries.program("initdb"));
    command
        .arg("-D")
        .arg(pgdata)
        .args(["-U", SUPERUSER, "-E", "UTF8", "--locale=C"])
        .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
        .arg(format!("--pwfile={}", pwfile.display()))
        .current_dir(data_dir);
    if throwaway {
        command.arg("--no-sync");
    }
    if let Some(owner) = owner {
        command.uid(owner.uid).gid(owner.gid);
    }
    let output = command.output().map_err(|err| setup("running initdb", err));
    let _ = std::fs::remove_file(&pwfile);
    let output = output?;
    if !output.status.success() {
        return Err(EmbeddedError::Setup(format!(
            "initdb failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    tracing::info!(path = %pgdata.display(), "initialised the embedded PostgreSQL cluster");
    Ok(())
}

//! Finding the PostgreSQL server binaries.

use std::path::{Path, PathBuf};

use super::EmbeddedError;

/// The directory holding `initdb`, `postgres` and friends.
#[derive(Clone, Debug)]
pub struct Binaries {
    pub dir: PathBuf,
}

impl Binaries {
    /// The path of the named program in this directory.
    pub fn program(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Looks on `PATH` first, then in the versioned directories that distribution packages use
/// (Debian/Ubuntu `/usr/lib/postgresql/N/bin`, Homebrew, Postgres.app), newest first.
pub fn locate() -> Result<Binaries, EmbeddedError> {
    let from_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default();
    let mut versioned = Vec::new();
    for pattern_dir in [
        "/usr/lib/postgresql",
        "/usr/local/lib/postgresql",
        "/opt/homebrew/opt",
        "/usr/local/opt",
    ] {
        if let Ok(entries) = std::fs::read_dir(pattern_dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                if pattern_dir.ends_with("/opt") && !name.starts_with("postgresql") {
                    continue;
                }
                versioned.push((version_of(&name), entry.path().join("bin")));
            }
        }
    }
    versioned.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    let app = PathBuf::from("/Applications/Postgres.app/Contents/Versions/latest/bin");
    let candidates = from_path
        .into_iter()
        .chain(versioned.into_iter().map(|(_, dir)| dir))
        .chain(std::iter::once(app));
    for dir in candidates {
        if is_server_dir(&dir) {
            return Ok(Binaries { dir });
        }
    }
    Err(EmbeddedError::MissingBinaries(
        "PostgreSQL server binaries (initdb, postgres) were not found on PATH or in \
         /usr/lib/postgresql/*/bin.\n\
         Install them:\n  \
           Debian/Ubuntu: sudo apt-get install -y postgresql\n  \
           macOS:         brew install postgresql@16\n\
         or use an existing server instead of the embedded one:\n  \
           DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/DBNAME switchyard serve"
            .to_string(),
    ))
}

fn is_server_dir(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("postgres").is_file()
}

fn version_of(name: &str) -> u32 {
    name.chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or(0)
}

//! The shared test cluster and fresh databases.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use switchyard_engine::embedded::{EmbeddedOptions, EmbeddedPostgres};
use switchyard_engine::store;

const TEMPLATE: &str = "switchyard_template";

struct Shared {
    cluster: EmbeddedPostgres,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        // Start-up runs on its own thread and runtime: tests each have their own runtime,
        // and nothing created here may depend on one of them staying alive.
        std::thread::spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(start())
        })
        .join()
        .expect("the test cluster starts")
    })
}

async fn start() -> Shared {
    remove_leftovers();
    let data_dir = test_root().join(format!("run-{}", std::process::id()));
    let options = EmbeddedOptions {
        data_dir,
        throwaway: true,
        port: None,
    };
    let cluster = EmbeddedPostgres::start(options, TEMPLATE)
        .await
        .unwrap_or_else(|err| panic!("cannot start the test PostgreSQL: {err}"));
    let pool = store::connect(&cluster.url(TEMPLATE), 1).expect("template pool");
    store::migrate(&pool).await.expect("migrating the template");
    pool.close();
    Shared { cluster }
}

pub fn test_root() -> PathBuf {
    std::env::temp_dir().join("switchyard-tests")
}

/// Clusters and scratch directories of earlier test runs whose process is gone: the
/// shared `run-<pid>`, and [`super::scratch_dir`]'s `<name>-<pid>-<uuid>` (a private
/// cluster a test kept to the end).
fn remove_leftovers() {
    let Ok(entries) = std::fs::read_dir(test_root()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let pid = name.strip_prefix("run-").or_else(|| {
            let mut parts = name.rsplitn(3, '-');
            let (_uuid, pid) = (parts.next()?, parts.next()?);
            parts.next().map(|_| pid)
        });
        let Some(pid) = pid.and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !PathBuf::from(format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Creates a fresh database cloned from the migrated template; returns its URL.
pub async fn fresh_database() -> String {
    let shared = shared();
    let name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let (client, connection) =
        tokio_postgres::connect(&shared.cluster.url("postgres"), tokio_postgres::NoTls)
            .await
            .expect("admin connection");
    tokio::spawn(connection);
    let create = format!("CREATE DATABASE \"{name}\" TEMPLATE {TEMPLATE}");
    for attempt in 0.. {
        match client.batch_execute(&create).await {
            Ok(()) => break,
            // The template's last connection may still be closing.
            Err(err)
                if attempt < 100
                    && err.code() == Some(&tokio_postgres::error::SqlState::OBJECT_IN_USE) =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(err) => panic!("creating a test database: {err}"),
        }
    }
    shared.cluster.url(&name)
}

/// A cluster of this test's own (its transaction ids, restarts and settings touch no
/// other test) with the migrated database `switchyard`; returns it and that database's URL.
pub async fn private_cluster(name: &str, port: Option<u16>) -> (EmbeddedPostgres, String) {
    let options = EmbeddedOptions {
        data_dir: super::scratch_dir(name),
        throwaway: true,
        port,
    };
    let cluster = EmbeddedPostgres::start(options, "switchyard")
        .await
        .unwrap_or_else(|err| panic!("cannot start a private PostgreSQL: {err}"));
    let url = cluster.url("switchyard");
    let pool = store::connect(&url, 2).expect("pool");
    store::migrate(&pool).await.expect("migrating");
    pool.close();
    (cluster, url)
}

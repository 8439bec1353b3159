//! TLS to PostgreSQL: a real server started with `ssl=on` and a certificate made here, and
//! every `sslmode` against it.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use switchyard_engine::embedded::owner;
use switchyard_engine::embedded::{EmbeddedOptions, EmbeddedPostgres};
use switchyard_engine::store;

use crate::embedded::free_port;

/// A CA, and a server certificate it signed for `localhost` only.
struct Certificates {
    ca_pem: String,
    server_pem: String,
    server_key_pem: String,
}

fn certificates(ca_name: &str) -> Certificates {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, ca_name);
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();
    Certificates {
        ca_pem: ca.pem(),
        server_pem: server.pem(),
        server_key_pem: server_key.serialize_pem(),
    }
}

/// Starts a throwaway cluster serving `certs` with `ssl=on`.
async fn tls_cluster(dir: &Path, certs: &Certificates) -> EmbeddedPostgres {
    let options = EmbeddedOptions {
        data_dir: dir.to_path_buf(),
        throwaway: true,
        port: Some(free_port()),
    };
    let cluster = EmbeddedPostgres::start(options, "switchyard")
        .await
        .unwrap();
    // The server reads its certificate and key from its data directory, as its own user,
    // and refuses a key others can read.
    let pgdata = dir.join("pg");
    let server_owner = owner::server_owner().unwrap();
    for (name, text, mode) in [
        ("server.crt", &certs.server_pem, 0o644),
        ("server.key", &certs.server_key_pem, 0o600),
    ] {
        let path = pgdata.join(name);
        std::fs::write(&path, text).unwrap();
        owner::chown(&path, server_owner).unwrap();
        owner::set_mode(&path, mode).unwrap();
    }
    let admin = cluster.admin().await.unwrap();
    // One statement each: ALTER SYSTEM refuses to run in the implicit transaction of a batch.
    for statement in ["ALTER SYSTEM SET ssl = on", "SELECT pg_reload_conf()"] {
        admin.batch_execute(statement).await.unwrap();
    }
    cluster
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Connects as the binary does; on success, whether the session is encrypted.
async fn connect(url: &str) -> Result<bool, String> {
    let pool = store::connect(url, 1).map_err(|e| e.to_string())?;
    store::check(&pool, url).await.map_err(|e| e.to_string())?;
    let client = pool.get().await.map_err(|e| e.to_string())?;
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(row.get(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sslmode_against_a_server_with_tls_on() {
    let dir = crate::support::scratch_dir("tls");
    let certs = certificates("Switchyard test CA");
    let cluster = tls_cluster(&dir, &certs).await;
    let ca = write(&dir, "ca.pem", &certs.ca_pem);
    let other_ca = write(&dir, "other-ca.pem", &certificates("Another CA").ca_pem);
    // The cluster's URL names 127.0.0.1; the certificate names only localhost.
    let by_address = cluster.url("switchyard");
    let by_name = by_address.replace("127.0.0.1", "localhost");
    let with = |url: &str, query: String| format!("{url}?{query}");

    // Server certificate checked, and the name in it.
    let full = with(
        &by_name,
        format!("sslmode=verify-full&sslrootcert={}", ca.display()),
    );
    assert_eq!(connect(&full).await, Ok(true), "verify-full by name");
    // The chain only: the address is not a name in the certificate, and need not be.
    let chain = with(
        &by_address,
        format!("sslmode=verify-ca&sslrootcert={}", ca.display()),
    );
    assert_eq!(connect(&chain).await, Ok(true), "verify-ca by address");
    // Encrypted without checks, as libpq does.
    for mode in ["require", "prefer"] {
        let url = with(&by_address, format!("sslmode={mode}"));
        assert_eq!(connect(&url).await, Ok(true), "{mode}");
    }
    assert_eq!(
        connect(&with(&by_address, "sslmode=disable".into())).await,
        Ok(false),
        "disable"
    );

    // Refused: the host name does not match.
    let wrong_name = with(
        &by_address,
        format!("sslmode=verify-full&sslrootcert={}", ca.display()),
    );
    let err = connect(&wrong_name).await.unwrap_err();
    assert!(
        err.contains("sslmode=verify-full") && err.contains("not valid for name"),
        "{err}"
    );
    // Refused: signed by a CA we do not trust, by name and by `require` with a root.
    for mode in ["verify-full", "verify-ca", "require"] {
        let url = with(
            &by_name,
            format!("sslmode={mode}&sslrootcert={}", other_ca.display()),
        );
        let err = connect(&url).await.unwrap_err();
        assert!(
            err.contains("TLS connection to PostgreSQL failed") && err.contains("UnknownIssuer"),
            "{mode}: {err}"
        );
        assert!(!err.contains(&password(&by_address)), "{err}");
    }
    drop(cluster);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The password in a cluster URL, to check that no error repeats it.
fn password(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    let credentials = rest.split_once('@').unwrap().0;
    credentials.split_once(':').unwrap().1.to_string()
}

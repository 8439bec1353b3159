//! TLS to PostgreSQL with rustls, as `DATABASE_URL`'s `sslmode` and `sslrootcert` ask,
//! with libpq's meanings:
//!
//! | `sslmode` | TLS | the server's certificate |
//! |---|---|---|
//! | `disable` | never | — |
//! | `prefer` (default) | when the server offers it | not checked |
//! | `require` | always | not checked, unless `sslrootcert` is given (then as `verify-ca`) |
//! | `verify-ca` | always | signed by a trusted CA |
//! | `verify-full` | always | signed by a trusted CA and issued for the host connected to |
//!
//! Trusted CAs are the PEM file `sslrootcert` names, or the Mozilla roots without one.
//! tokio-postgres knows only the first three modes and rejects `sslrootcert`, so both are
//! taken out of the URL here and the rest is handed to it.

use std::str::FromStr;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
use tokio_postgres::config::SslMode as WireMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::StoreError;

/// How much the connection trusts the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl std::fmt::Display for SslMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SslMode::Disable => "sslmode=disable",
            SslMode::Prefer => "sslmode=prefer",
            SslMode::Require => "sslmode=require",
            SslMode::VerifyCa => "sslmode=verify-ca",
            SslMode::VerifyFull => "sslmode=verify-full",
        })
    }
}

impl SslMode {
    fn parse(text: &str) -> Result<SslMode, StoreError> {
        Ok(match text {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(invalid(format!(
                "sslmode '{other}' is not one of disable, prefer, require, verify-ca, verify-full"
            )))
            }
        })
    }
}

/// A parsed `DATABASE_URL`: where to connect, and how.
#[derive(Clone)]
pub struct Target {
    pub config: tokio_postgres::Config,
    pub tls: MakeRustlsConnect,
    pub mode: SslMode,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The config holds the password: only the mode is shown.
        f.debug_struct("Target").field("mode", &self.mode).finish()
    }
}

/// Reads `url` (a `postgres://` URL or `key=value` pairs), with its TLS settings.
pub fn target(url: &str) -> Result<Target, StoreError> {
    let (rest, settings) = take_tls_settings(url)?;
    let mut config = tokio_postgres::Config::from_str(&rest)
        .map_err(|err| invalid(format!("DATABASE_URL is not valid: {err}")))?;
    let mut mode = match &settings.mode {
        Some(mode) => SslMode::parse(mode)?,
        None => SslMode::Prefer,
    };
    // libpq: `require` with a root certificate checks the chain, as `verify-ca`.
    if mode == SslMode::Require && settings.root_cert.is_some() {
        mode = SslMode::VerifyCa;
    }
    config.ssl_mode(match mode {
        SslMode::Disable => WireMode::Disable,
        SslMode::Prefer => WireMode::Prefer,
        _ => WireMode::Require,
    });
    let tls = MakeRustlsConnect::new(client_config(mode, settings.root_cert.as_deref())?);
    Ok(Target { config, tls, mode })
}

fn invalid(message: String) -> StoreError {
    StoreError::Unavailable(message)
}

#[derive(Default)]
struct Settings {
    mode: Option<String>,
    root_cert: Option<String>,
}

/// Splits `sslmode` and `sslrootcert` off `url`, returning what is left.
fn take_tls_settings(url: &str) -> Result<(String, Settings), StoreError> {
    let mut settings = Settings::default();
    let mut keep = |key: &str, value: String| match key {
        "sslmode" => {
            settings.mode = Some(value);
            false
        }
        "sslrootcert" => {
            settings.root_cert = Some(value);
            false
        }
        _ => true,
    };
    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let Some((base, query)) = url.split_once('?') else {
            return Ok((url.to_string(), settings));
        };
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                let value = percent_encoding::percent_decode_str(value)
                    .decode_utf8_lossy()
                    .into_owned();
                keep(key, value)
            })
            .collect();
        if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        }
    } else {
        // Key/value form; the two settings are taken when unquoted, as paths usually are.
        url.split_whitespace()
            .filter(|pair| match pair.split_once('=') {
                Some((key, value)) => keep(key.trim(), value.to_string()),
                None => true,
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    Ok((rest, settings))
}

fn client_config(mode: SslMode, root_cert: Option<&str>) -> Result<ClientConfig, StoreError> {
    let provider = Arc::new(ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|err| invalid(format!("TLS set-up failed: {err}")))?;
    let chain = match mode {
        SslMode::Disable | SslMode::Prefer | SslMode::Require => None,
        SslMode::VerifyCa | SslMode::VerifyFull => {
            let roots = Arc::new(roots(root_cert)?);
            let chain = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .map_err(|err| invalid(format!("sslrootcert cannot be used: {err}")))?;
            Some(chain)
        }
    };
    let verifier: Arc<dyn ServerCertVerifier> = match chain {
        Some(chain) if mode == SslMode::VerifyFull => chain,
        chain => Arc::new(Relaxed { chain, provider }),
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// The CAs in `path`, or the Mozilla roots.
fn roots(path: Option<&str>) -> Result<RootCertStore, StoreError> {
    let Some(path) = path else {
        return Ok(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        });
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect())
        .map_err(|err| invalid(format!("sslrootcert '{path}' cannot be read: {err}")))?;
    let mut store = RootCertStore::empty();
    let (added, _) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(invalid(format!(
            "sslrootcert '{path}' holds no usable CA certificate"
        )));
    }
    Ok(store)
}

/// `prefer` and `require` (no `chain`): encrypted, but the certificate is not checked
/// (libpq's meaning; `verify-full` is what authenticates the server). `verify-ca` (a
/// `chain`): it must lead to a trusted CA, but the name in it is not compared. Either way
/// the handshake's signatures are verified, so the session is bound to the certificate
/// presented.
#[derive(Debug)]
struct Relaxed {
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Relaxed {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_settings_are_taken_out_of_a_url() {
        let (rest, s) = take_tls_settings(
            "postgres://u:p@db:5432/x?sslmode=verify-full&application_name=a&sslrootcert=%2Ftmp%2Fca.pem",
        )
        .unwrap();
        assert_eq!(rest, "postgres://u:p@db:5432/x?application_name=a");
        assert_eq!(s.mode.as_deref(), Some("verify-full"));
        assert_eq!(s.root_cert.as_deref(), Some("/tmp/ca.pem"));
    }

    #[test]
    fn tls_settings_are_taken_out_of_key_value_pairs() {
        let (rest, s) = take_tls_settings("host=db sslmode=require dbname=x").unwrap();
        assert_eq!(rest, "host=db dbname=x");
        assert_eq!(s.mode.as_deref(), Some("require"));
    }

    #[test]
    fn an_unknown_mode_is_named() {
        let err = target("postgres://db/x?sslmode=always").unwrap_err();
        assert!(err.to_string().contains("sslmode 'always'"), "{err}");
    }

    #[test]
    fn require_with_a_root_certificate_checks_the_chain() {
        let dir = std::env::temp_dir().join(format!("switchyard-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.pem");
        let url = format!(
            "postgres://db/x?sslmode=require&sslrootcert={}",
            missing.display()
        );
        let err = target(&url).unwrap_err();
        assert!(err.to_string().contains("cannot be read"), "{err}");
        assert_eq!(target("postgres://db/x").unwrap().mode, SslMode::Prefer);
    }
}

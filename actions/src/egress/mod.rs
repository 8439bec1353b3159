//! The egress guard. Every resolved address is checked before connecting against the
//! IANA special-purpose registries ([`special`]): loopback, private, link-local (cloud
//! metadata), CGNAT, unique-local, multicast, documentation, reserved, and IPv6 forms that
//! embed such an IPv4 address are refused unless private targets are allowed or the
//! address is in an allowed CIDR. The resolver hands the HTTP client only checked
//! addresses, so the connection goes to an address that was checked; there is no second
//! lookup. The client ignores the system's proxy variables: a proxy would resolve and
//! connect on our behalf, past the guard.

pub mod special;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use thiserror::Error;

/// Which addresses requests may go to.
#[derive(Clone, Debug, Default)]
pub struct EgressPolicy {
    /// `SWITCHYARD_ALLOW_PRIVATE_TARGETS`: allow every address.
    pub allow_private: bool,
    /// `SWITCHYARD_ALLOWED_CIDRS`: restricted ranges allowed anyway.
    pub allowed: Vec<IpNet>,
}

/// A target whose addresses are all refused.
#[derive(Debug, Error)]
#[error("the target {host} is not allowed: it resolves to {addresses} (allow restricted addresses with SWITCHYARD_ALLOWED_CIDRS or SWITCHYARD_ALLOW_PRIVATE_TARGETS=true)")]
pub struct Blocked {
    pub host: String,
    pub addresses: String,
}

impl EgressPolicy {
    /// Whether a request may connect to `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        self.allow_private
            || special::classify(ip).is_none()
            || self.allowed.iter().any(|net| net.contains(&ip))
    }

    /// Checks a URL whose host is a literal address (no lookup happens for those); a host
    /// name passes here and is checked address by address when it is resolved.
    pub fn check_url(&self, url: &url::Url) -> Result<(), Blocked> {
        let ip = match url.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            _ => return Ok(()),
        };
        self.check_literal(&ip.to_string(), ip)
    }

    /// Checks a literal IP host (no lookup happens for those).
    pub fn check_literal(&self, host: &str, ip: IpAddr) -> Result<(), Blocked> {
        if self.permits(ip) {
            Ok(())
        } else {
            Err(Blocked {
                host: host.to_string(),
                addresses: described(ip),
            })
        }
    }

    /// Parses `SWITCHYARD_ALLOWED_CIDRS` (comma-separated, e.g. `10.0.0.0/8,fd00::/8`).
    pub fn parse_cidrs(text: &str) -> Result<Vec<IpNet>, String> {
        text.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .map_err(|err| format!("'{s}' is not a CIDR range: {err}"))
            })
            .collect()
    }
}

/// `ip` with the reason it is restricted, e.g. `127.0.0.1 (loopback (127.0.0.0/8))`.
fn described(ip: IpAddr) -> String {
    match special::classify(ip) {
        Some(why) => format!("{ip} ({why})"),
        None => ip.to_string(),
    }
}

/// A DNS resolver that only returns permitted addresses.
#[derive(Debug)]
pub struct GuardedResolver {
    pub policy: Arc<EgressPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| policy.permits(a.ip()))
                .collect();
            if permitted.is_empty() {
                let addresses = found
                    .iter()
                    .map(|a| described(a.ip()))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(Box::new(Blocked { host, addresses })
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

/// The [`Blocked`] error inside a client error, if the guard refused the target.
pub fn blocked_in<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a Blocked> {
    let mut current: Option<&'a (dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(blocked) = e.downcast_ref::<Blocked>() {
            return Some(blocked);
        }
        current = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restricted_ranges_are_refused_unless_allowed() {
        let strict = EgressPolicy::default();
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
        ] {
            assert!(
                !strict.permits(ip.parse().unwrap()),
                "{ip} should be refused"
            );
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(
                strict.permits(ip.parse().unwrap()),
                "{ip} should be allowed"
            );
        }
        let some = EgressPolicy {
            allow_private: false,
            allowed: EgressPolicy::parse_cidrs("10.0.0.0/8").unwrap(),
        };
        assert!(some.permits("10.9.9.9".parse().unwrap()));
        assert!(!some.permits("192.168.0.1".parse().unwrap()));
        assert!(EgressPolicy::parse_cidrs("nonsense").is_err());
    }
}

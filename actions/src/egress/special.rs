//! The IANA special-purpose address registries (IPv4 and IPv6), plus multicast and the
//! ranges outside IPv6 global unicast, as the egress guard reads them. Every row is
//! refused: none of them is a place a tenant's webhook should reach, and the few rows the
//! registry marks globally reachable (anycast relays, AS112) are no webhook receivers.
//!
//! IPv6 forms that carry an IPv4 address are judged by that address: IPv4-mapped
//! (`::ffff:a.b.c.d`), NAT64 well-known (`64:ff9b::a.b.c.d`) and 6to4 (`2002:AABB:CCDD::`).
//! IPv4-compatible (`::a.b.c.d`, deprecated), NAT64 local-use (`64:ff9b:1::/48`) and
//! Teredo (`2001::/32`, inside the IETF block) are refused whatever they embed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use ipnet::IpNet;

macro_rules! registry {
    ($table:ident, $tests:ident: $( $test:ident => $cidr:literal, $name:literal; )*) => {
        /// `(range, name)` rows of the registry.
        pub const $table: &[(&str, &str)] = &[ $( ($cidr, $name) ),* ];

        #[cfg(test)]
        mod $tests {
            $( #[test] fn $test() { super::tests::assert_row_refused($cidr, $name); } )*
        }
    };
}

registry! { IPV4, ipv4_rows:
    this_network => "0.0.0.0/8", "this network";
    this_host => "0.0.0.0/32", "this host on this network";
    private_10 => "10.0.0.0/8", "private-use";
    shared_address_space => "100.64.0.0/10", "shared address space (CGNAT)";
    loopback_v4 => "127.0.0.0/8", "loopback";
    link_local_v4 => "169.254.0.0/16", "link local (cloud metadata)";
    private_172 => "172.16.0.0/12", "private-use";
    ietf_protocol_v4 => "192.0.0.0/24", "IETF protocol assignments";
    service_continuity => "192.0.0.0/29", "IPv4 service continuity prefix";
    dummy_v4 => "192.0.0.8/32", "IPv4 dummy address";
    pcp_anycast_v4 => "192.0.0.9/32", "port control protocol anycast";
    turn_anycast_v4 => "192.0.0.10/32", "TURN anycast";
    nat64_discovery_170 => "192.0.0.170/32", "NAT64/DNS64 discovery";
    nat64_discovery_171 => "192.0.0.171/32", "NAT64/DNS64 discovery";
    test_net_1 => "192.0.2.0/24", "documentation (TEST-NET-1)";
    as112_v4 => "192.31.196.0/24", "AS112-v4";
    amt_v4 => "192.52.193.0/24", "AMT";
    relay_6to4 => "192.88.99.0/24", "deprecated (6to4 relay anycast)";
    relay_6a44 => "192.88.99.2/32", "6a44 relay anycast";
    private_192 => "192.168.0.0/16", "private-use";
    as112_delegation_v4 => "192.175.48.0/24", "direct delegation AS112 service";
    benchmarking_v4 => "198.18.0.0/15", "benchmarking";
    test_net_2 => "198.51.100.0/24", "documentation (TEST-NET-2)";
    test_net_3 => "203.0.113.0/24", "documentation (TEST-NET-3)";
    multicast_v4 => "224.0.0.0/4", "multicast";
    reserved_240 => "240.0.0.0/4", "reserved";
    limited_broadcast => "255.255.255.255/32", "limited broadcast";
}

registry! { IPV6, ipv6_rows:
    loopback_v6 => "::1/128", "loopback";
    unspecified_v6 => "::/128", "unspecified";
    ipv4_compatible => "::/96", "IPv4-compatible (deprecated)";
    nat64_local_use => "64:ff9b:1::/48", "IPv4-IPv6 translation, local use";
    discard_only => "100::/64", "discard-only";
    dummy_v6 => "100:0:0:1::/64", "dummy IPv6 prefix";
    ietf_protocol_v6 => "2001::/23", "IETF protocol assignments";
    teredo => "2001::/32", "Teredo";
    pcp_anycast_v6 => "2001:1::1/128", "port control protocol anycast";
    turn_anycast_v6 => "2001:1::2/128", "TURN anycast";
    dns_sd_anycast => "2001:1::3/128", "DNS-SD service registration anycast";
    benchmarking_v6 => "2001:2::/48", "benchmarking";
    amt_v6 => "2001:3::/32", "AMT";
    as112_v6 => "2001:4:112::/48", "AS112-v6";
    orchid => "2001:10::/28", "deprecated (ORCHID)";
    orchid_v2 => "2001:20::/28", "ORCHIDv2";
    drone_remote_id => "2001:30::/28", "drone remote ID protocol entity tags";
    documentation_v6 => "2001:db8::/32", "documentation";
    as112_delegation_v6 => "2620:4f:8000::/48", "direct delegation AS112 service";
    documentation_3fff => "3fff::/20", "documentation";
    segment_routing => "5f00::/16", "segment routing SIDs";
    unique_local => "fc00::/7", "unique-local";
    site_local => "fec0::/10", "site-local (deprecated)";
    link_local_v6 => "fe80::/10", "link-local unicast";
    multicast_v6 => "ff00::/8", "multicast";
}

static TABLES: LazyLock<Vec<(IpNet, &'static str)>> = LazyLock::new(|| {
    IPV4.iter()
        .chain(IPV6)
        .map(|(cidr, name)| (cidr.parse().expect("the registry's ranges parse"), *name))
        .collect()
});

/// Why `ip` is restricted: the registry row it falls in (the most specific one), or the
/// row its embedded IPv4 address falls in. `None` for an ordinary public address.
pub fn classify(ip: IpAddr) -> Option<String> {
    if let IpAddr::V6(v6) = ip {
        if let Some((form, v4)) = embedded_ipv4(v6) {
            return classify(IpAddr::V4(v4)).map(|why| format!("{form} of {v4}, {why}"));
        }
    }
    let row = TABLES
        .iter()
        .filter(|(net, _)| net.contains(&ip))
        .max_by_key(|(net, _)| net.prefix_len());
    if let Some((net, name)) = row {
        return Some(format!("{name} ({net})"));
    }
    match ip {
        IpAddr::V6(v6) if (v6.segments()[0] & 0xe000) != 0x2000 => {
            Some("outside IPv6 global unicast (2000::/3)".into())
        }
        _ => None,
    }
}

/// The IPv4 address an IPv6 address stands for, in the forms that are judged by it.
fn embedded_ipv4(v6: Ipv6Addr) -> Option<(&'static str, Ipv4Addr)> {
    let s = v6.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(("IPv4-mapped", v4));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(("NAT64", low));
    }
    if s[0] == 0x2002 {
        let v4 = Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8);
        return Some(("6to4", v4));
    }
    None
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The first, last and a middle address of the row are refused, naming a reason.
    pub fn assert_row_refused(cidr: &str, name: &str) {
        let net: IpNet = cidr.parse().unwrap();
        let first = net.network();
        let last = net.broadcast();
        let middle = match (first, last) {
            (IpAddr::V4(a), IpAddr::V4(b)) => IpAddr::V4(Ipv4Addr::from(
                ((u32::from(a) as u64 + u32::from(b) as u64) / 2) as u32,
            )),
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                IpAddr::V6(Ipv6Addr::from(u128::from(a) / 2 + u128::from(b) / 2))
            }
            _ => unreachable!(),
        };
        for ip in [first, middle, last] {
            assert!(
                classify(ip).is_some(),
                "{ip} in {cidr} ({name}) must be refused"
            );
        }
    }

    #[test]
    fn embedded_ipv4_forms_are_judged_by_their_ipv4_address() {
        for restricted in [
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::10.0.0.1",
            "64:ff9b:1::a00:1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "fec0::1",
        ] {
            assert!(
                classify(restricted.parse().unwrap()).is_some(),
                "{restricted} must be refused"
            );
        }
        for public in [
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2606:4700::1111",
        ] {
            assert_eq!(
                classify(public.parse().unwrap()),
                None,
                "{public} is public"
            );
        }
        assert!(classify("64:ff9b::a9fe:a9fe".parse().unwrap())
            .unwrap()
            .contains("NAT64 of 169.254.169.254"));
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700::1111",
            "2a00:1450::1",
        ] {
            assert_eq!(classify(ip.parse().unwrap()), None, "{ip}");
        }
    }
}

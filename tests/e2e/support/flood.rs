//! What flood tests share: a client per source address, and the server's memory figures.

use std::net::{IpAddr, Ipv4Addr};

/// `n` clients, each sending from its own address `127.0.<subnet>.<i + 1>` (Linux answers
/// all of 127.0.0.0/8), so that per-address limits see `n` addresses.
pub fn clients_per_address(subnet: u8, n: u8) -> Vec<reqwest::Client> {
    (0..n)
        .map(|i| {
            reqwest::Client::builder()
                .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, subnet, i + 1)))
                .build()
                .unwrap()
        })
        .collect()
}

/// A figure of `/proc/<pid>/status` in KiB (`VmRSS`, `VmHWM`).
pub fn kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
}

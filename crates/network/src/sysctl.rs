//! The sysctls the data plane relies on, set explicitly in every namespace
//! it creates (a new namespace inherits some IPv4 settings from the root
//! namespace, which other software on the machine changes).

use std::path::Path;

use crate::error::NetError;

/// A sysctl name (dotted) and its value.
pub type Sysctl = (&'static str, &'static str);

/// An overlay namespace: a VXLAN device and the gateway's macvlan,
/// nothing routed, no IPv6 on the links it gets.
pub const OVERLAY: &[Sysctl] = &[
    ("net.ipv4.ip_forward", "0"),
    ("net.ipv6.conf.default.disable_ipv6", "1"),
];

/// A task namespace: a task never routes between its networks; its links
/// are IPv4 only and announce themselves (gratuitous ARP) when they come
/// up, so neighbours on the node learn a moved endpoint at once.
pub const TASK: &[Sysctl] = &[
    ("net.ipv4.ip_forward", "0"),
    ("net.ipv6.conf.default.disable_ipv6", "1"),
    ("net.ipv4.conf.default.arp_notify", "1"),
    ("net.ipv4.conf.all.arp_notify", "1"),
    // Mesh traffic arrives from clients anywhere and its replies are
    // routed by mark: no reverse-path check.
    ("net.ipv4.conf.all.rp_filter", "0"),
    ("net.ipv4.conf.default.rp_filter", "0"),
];

/// The host namespace, while some task uses the egress bridge.
pub const HOST_EGRESS: &[Sysctl] = &[("net.ipv4.ip_forward", "1")];

/// The host namespace, while the node carries the routing mesh: it
/// forwards to its endpoint, which also takes connections made to
/// `127.0.0.1` (as Docker's `docker_gwbridge`).
pub const HOST_MESH: &[Sysctl] = &[
    ("net.ipv4.ip_forward", "1"),
    ("net.ipv4.conf.rswing0.route_localnet", "1"),
];

/// The host namespace, while it carries encrypted overlays: the tunnel
/// link `rswwg0` takes decrypted VXLAN whose route is chosen by mark, so
/// its reverse-path check is loose (the kernel applies the higher of the
/// `all` and per-link values: 2 is loose whatever `all` says), and the
/// mark counts in that check.
pub const HOST_SECURE: &[Sysctl] = &[
    ("net.ipv4.ip_forward", "1"),
    ("net.ipv4.conf.rswwg0.rp_filter", "2"),
    ("net.ipv4.conf.rswwg0.src_valid_mark", "1"),
];

/// Writes `settings` in the namespace of the calling thread (call it
/// inside [`run_in`](crate::netns::run_in)).
pub fn write_all(settings: &[Sysctl]) -> Result<(), NetError> {
    for (key, value) in settings {
        let path = Path::new("/proc/sys").join(key.replace('.', "/"));
        std::fs::write(&path, value).map_err(NetError::io(format!("sysctl {key}={value}")))?;
    }
    Ok(())
}

/// Reads one sysctl in the namespace of the calling thread.
pub fn read(key: &str) -> Result<String, NetError> {
    let path = Path::new("/proc/sys").join(key.replace('.', "/"));
    std::fs::read_to_string(&path)
        .map(|s| s.trim().to_string())
        .map_err(NetError::io(format!("read sysctl {key}")))
}

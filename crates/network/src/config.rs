//! How a node's data plane is set up.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use rswarm_types::Ipv4Cidr;

use crate::netns::Netns;
use crate::resolv::DnsSettings;

/// Swarm's data-path port.
pub const VXLAN_PORT: u16 = 4789;

/// The data plane's settings.
#[derive(Clone, Debug)]
pub struct DataPlaneConfig {
    /// This node's data-path address: the VXLAN source address, and the
    /// VTEP that marks an endpoint of the map as local.
    pub vtep: Ipv4Addr,
    /// VXLAN UDP port.
    pub vxlan_port: u16,
    /// The host namespace: VXLAN sockets, the egress bridge, upstream DNS
    /// sockets. [`Netns::Own`] in the daemon; a lab namespace in tests.
    pub host: Netns,
    /// Where namespace files are pinned (a directory of our own).
    pub netns_root: PathBuf,
    /// Where per-task files (resolv.conf) are written.
    pub state_dir: PathBuf,
    /// The node-local egress subnet (Docker's `docker_gwbridge`).
    pub egress_subnet: Ipv4Cidr,
    /// The host's DNS settings: upstream servers, search domains, options.
    pub dns: DnsSettings,
    /// How long one upstream DNS server may take.
    pub dns_timeout: Duration,
}

impl DataPlaneConfig {
    /// The daemon's settings: namespaces under `/run/rswarm/netns`, task
    /// files under `/run/rswarm/tasks`, egress subnet 172.30.0.0/16, the
    /// host's `/etc/resolv.conf`.
    pub fn new(vtep: Ipv4Addr) -> DataPlaneConfig {
        DataPlaneConfig {
            vtep,
            vxlan_port: VXLAN_PORT,
            host: Netns::Own,
            netns_root: PathBuf::from("/run/rswarm/netns"),
            state_dir: PathBuf::from("/run/rswarm/tasks"),
            egress_subnet: Ipv4Cidr {
                addr: Ipv4Addr::new(172, 30, 0, 0),
                prefix_len: 16,
            },
            dns: DnsSettings::host(),
            dns_timeout: Duration::from_secs(4),
        }
    }
}

//! Address management for swarm networks, as swarmkit's allocator does it
//! with its defaults.
//!
//! Rules:
//! - A network gets the lowest free VXLAN ID from 4096 (the ingress
//!   network, created first, has 4096).
//! - A network without a subnet gets the first /24 of the default pool
//!   (10.0.0.0/8) that overlaps no other network's; a given subnet must
//!   be a CIDR that overlaps none (libnetwork's words when it does), with
//!   its range and gateway inside it. The gateway defaults to the first
//!   host address.
//! - Addresses for service VIPs and task attachments are the lowest free
//!   host address of the network's range (the whole subnet when none),
//!   never the network or broadcast address or the gateway.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use rswarm_types::{ControlError, Driver, IpamConfig, IpamOptions, Ipv4Cidr, Network};

/// The first VXLAN ID given out.
pub const FIRST_VNI: u32 = 4096;
/// The last valid VXLAN ID.
const LAST_VNI: u32 = (1 << 24) - 1;

/// Where subnets come from when none is given (`swarm init
/// --default-addr-pool`, `--default-addr-pool-mask-length`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressPool {
    /// The pool.
    pub pool: Ipv4Cidr,
    /// The prefix length of each network's subnet.
    pub subnet_len: u8,
}

impl Default for AddressPool {
    fn default() -> Self {
        AddressPool {
            pool: Ipv4Cidr {
                addr: Ipv4Addr::new(10, 0, 0, 0),
                prefix_len: 8,
            },
            subnet_len: 24,
        }
    }
}

/// libnetwork's refusal of a subnet that overlaps another network's.
pub const POOL_OVERLAP: &str =
    "invalid pool request: Pool overlaps with other one on this address space";

fn invalid(msg: String) -> ControlError {
    ControlError::InvalidArgument(format!("ipam configuration: {msg}"))
}

/// Parses a subnet as Go's `net.ParseCIDR` would (host bits allowed).
fn parse_subnet(s: &str) -> Result<Ipv4Cidr, ControlError> {
    s.parse::<Ipv4Cidr>()
        .map(|c| Ipv4Cidr {
            addr: c.network(),
            ..c
        })
        .map_err(|_| invalid(format!("invalid subnet {s}")))
}

/// Checks one user-given pool (swarmkit's `validateIPAMConfiguration`).
pub fn validate_config(c: &IpamConfig) -> Result<(), ControlError> {
    let subnet = parse_subnet(&c.subnet)?;
    if !c.range.is_empty() {
        let range: Ipv4Cidr = c
            .range
            .parse()
            .map_err(|_| invalid(format!("invalid range {}", c.range)))?;
        if !subnet.contains(range.addr) {
            return Err(invalid(format!(
                "subnet {} does not contain range {}",
                c.subnet, c.range
            )));
        }
    }
    if !c.gateway.is_empty() {
        let gw: Ipv4Addr = c
            .gateway
            .parse()
            .map_err(|_| invalid(format!("invalid gateway {}", c.gateway)))?;
        if !subnet.contains(gw) {
            return Err(invalid(format!(
                "subnet {} does not contain gateway {}",
                c.subnet, c.gateway
            )));
        }
    }
    Ok(())
}

fn overlaps(a: Ipv4Cidr, b: Ipv4Cidr) -> bool {
    a.contains(b.network()) || b.contains(a.network())
}

/// The subnets `networks` hold.
fn subnets(networks: &[Network]) -> Vec<Ipv4Cidr> {
    networks
        .iter()
        .filter_map(|n| n.pool())
        .filter_map(|(s, _)| parse_subnet(s).ok())
        .collect()
}

/// The VXLAN ID and pools for a new network whose spec asks for
/// `requested` pools, beside `existing` networks.
pub fn allocate_network(
    requested: &[IpamConfig],
    existing: &[Network],
    pool: AddressPool,
) -> Result<(u32, IpamOptions), ControlError> {
    let taken = subnets(existing);
    let config = match requested.first() {
        Some(c) => {
            validate_config(c)?;
            let subnet = parse_subnet(&c.subnet)?;
            if taken.iter().any(|t| overlaps(*t, subnet)) {
                return Err(ControlError::InvalidArgument(POOL_OVERLAP.into()));
            }
            IpamConfig {
                subnet: subnet.to_string(),
                range: c.range.clone(),
                gateway: if c.gateway.is_empty() {
                    host(subnet, 1).to_string()
                } else {
                    c.gateway.clone()
                },
            }
        }
        None => {
            let subnet = free_subnet(&taken, pool).ok_or_else(|| {
                ControlError::Unavailable(format!(
                    "could not find an available, non-overlapping IPv4 address pool among the defaults ({}) to assign to the network",
                    pool.pool
                ))
            })?;
            IpamConfig {
                subnet: subnet.to_string(),
                range: String::new(),
                gateway: host(subnet, 1).to_string(),
            }
        }
    };
    let used: BTreeSet<u32> = existing.iter().map(Network::vni).collect();
    let vni = (FIRST_VNI..=LAST_VNI)
        .find(|v| !used.contains(v))
        .ok_or_else(|| ControlError::Unavailable("no free VXLAN ID".into()))?;
    let ipam = IpamOptions {
        driver: Driver {
            name: "default".into(),
            ..Default::default()
        },
        configs: vec![config],
    };
    Ok((vni, ipam))
}

fn host(subnet: Ipv4Cidr, n: u32) -> Ipv4Addr {
    subnet.nth(n).unwrap_or(subnet.addr)
}

/// The first subnet of `pool` that overlaps none of `taken`.
fn free_subnet(taken: &[Ipv4Cidr], pool: AddressPool) -> Option<Ipv4Cidr> {
    if pool.subnet_len < pool.pool.prefix_len || pool.subnet_len > 30 {
        return None;
    }
    let count = 1u64 << (pool.subnet_len - pool.pool.prefix_len);
    let step = 1u64 << (32 - u32::from(pool.subnet_len));
    let base = u64::from(u32::from(pool.pool.network()));
    (0..count)
        .filter_map(|i| {
            let addr = u32::try_from(base + i * step).ok()?;
            Ipv4Cidr::new(Ipv4Addr::from(addr), pool.subnet_len)
        })
        .find(|c| !taken.iter().any(|t| overlaps(*t, *c)))
}

/// The lowest free address of `network` for a VIP or a task, with its
/// prefix (`10.0.1.2/24`); `None` when the network is full or has no pool.
pub fn next_address(network: &Network, used: &BTreeSet<Ipv4Addr>) -> Option<String> {
    let ipam = network.ipam.as_ref()?;
    let config = ipam.configs.first()?;
    let subnet = parse_subnet(&config.subnet).ok()?;
    let range = if config.range.is_empty() {
        subnet
    } else {
        config.range.parse::<Ipv4Cidr>().ok()?
    };
    let gateway: Option<Ipv4Addr> = config.gateway.parse().ok();
    let size = 1u64 << (32 - u32::from(subnet.prefix_len));
    let last = u32::try_from(size.saturating_sub(2)).ok()?;
    (1..=last)
        .filter_map(|n| subnet.nth(n))
        .filter(|ip| range.contains(*ip))
        .find(|ip| Some(*ip) != gateway && !used.contains(ip))
        .map(|ip| format!("{ip}/{}", subnet.prefix_len))
}

/// The address part of `ip/prefix`.
pub fn address_of(cidr: &str) -> Option<Ipv4Addr> {
    cidr.split('/').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(vni: u32, subnet: &str) -> Network {
        let mut n = Network::default();
        n.driver_state
            .options
            .insert(rswarm_types::VXLAN_ID_OPTION.into(), vni.to_string());
        n.ipam = Some(IpamOptions {
            configs: vec![IpamConfig {
                subnet: subnet.into(),
                gateway: host(parse_subnet(subnet).expect("cidr"), 1).to_string(),
                ..Default::default()
            }],
            ..Default::default()
        });
        n
    }

    fn cfg(subnet: &str, range: &str, gateway: &str) -> IpamConfig {
        IpamConfig {
            subnet: subnet.into(),
            range: range.into(),
            gateway: gateway.into(),
        }
    }

    #[test]
    fn defaults_take_the_next_free_slash_24_and_vni() {
        let pool = AddressPool::default();
        let (vni, ipam) = allocate_network(&[], &[], pool).expect("first");
        assert_eq!(vni, 4096);
        assert_eq!(ipam.configs[0].subnet, "10.0.0.0/24");
        assert_eq!(ipam.configs[0].gateway, "10.0.0.1");
        let existing = [net(4096, "10.0.0.0/24"), net(4098, "10.0.2.0/23")];
        let (vni, ipam) = allocate_network(&[], &existing, pool).expect("next");
        assert_eq!(vni, 4097);
        assert_eq!(ipam.configs[0].subnet, "10.0.1.0/24");
        let existing = [net(4096, "10.0.0.0/23")];
        let (_, ipam) = allocate_network(&[], &existing, pool).expect("after");
        assert_eq!(ipam.configs[0].subnet, "10.0.2.0/24");
    }

    #[test]
    fn given_pools_are_checked_in_swarmkits_words() {
        let pool = AddressPool::default();
        let existing = [net(4096, "10.0.0.0/24")];
        let e = |c: IpamConfig| {
            allocate_network(&[c], &existing, pool)
                .expect_err("refused")
                .to_string()
        };
        assert_eq!(
            e(cfg("nope", "", "")),
            "ipam configuration: invalid subnet nope"
        );
        assert_eq!(
            e(cfg("10.9.0.0/24", "10.8.0.0/25", "")),
            "ipam configuration: subnet 10.9.0.0/24 does not contain range 10.8.0.0/25"
        );
        assert_eq!(
            e(cfg("10.9.0.0/24", "", "10.9.1.1")),
            "ipam configuration: subnet 10.9.0.0/24 does not contain gateway 10.9.1.1"
        );
        assert_eq!(e(cfg("10.0.0.0/16", "", "")), POOL_OVERLAP);
        let (_, ipam) = allocate_network(&[cfg("10.9.0.7/24", "", "10.9.0.254")], &existing, pool)
            .expect("given");
        assert_eq!(ipam.configs[0].subnet, "10.9.0.0/24");
        assert_eq!(ipam.configs[0].gateway, "10.9.0.254");
    }

    #[test]
    fn addresses_skip_the_gateway_and_used_ones_and_stay_in_range() {
        let n = net(4096, "10.0.5.0/29");
        let mut used = BTreeSet::new();
        let first = next_address(&n, &used).expect("free");
        assert_eq!(first, "10.0.5.2/29");
        used.insert(address_of(&first).expect("ip"));
        assert_eq!(next_address(&n, &used).as_deref(), Some("10.0.5.3/29"));
        for i in 3..=6 {
            used.insert(Ipv4Addr::new(10, 0, 5, i));
        }
        assert_eq!(next_address(&n, &used), None, "no broadcast address");

        let mut ranged = net(4097, "10.1.0.0/24");
        if let Some(ipam) = ranged.ipam.as_mut() {
            ipam.configs[0].range = "10.1.0.128/25".into();
        }
        assert_eq!(
            next_address(&ranged, &BTreeSet::new()).as_deref(),
            Some("10.1.0.128/24")
        );
    }
}

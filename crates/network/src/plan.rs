//! Pure planning: which overlays to create or remove and which peer
//! entries to write or delete, from what is programmed and what the map
//! wants. The kernel side only executes these plans.
//!
//! - A network is carried while it is in the map. One whose addressing
//!   (VNI, subnet, gateway, MTU) changed is removed and created again.
//! - Peers are the map's endpoints on *other* nodes (VTEP ≠ ours). Each
//!   needs a neighbour entry (IP → MAC, answered locally by the VXLAN
//!   proxy) and an FDB entry (MAC → VTEP). Entries are always written with
//!   replace; entries no longer wanted are deleted by key (neighbour by IP,
//!   FDB by MAC), deletes before writes.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use rswarm_types::{Ipv4Cidr, MacAddr, MapNetwork, NetworkMap};

/// A remote endpoint as the overlay namespace needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Peer {
    pub ip: Ipv4Addr,
    pub mac: MacAddr,
    pub vtep: Ipv4Addr,
}

/// What identifies an overlay's kernel objects; a change recreates them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OverlayKey {
    pub vni: u32,
    pub subnet: Ipv4Cidr,
    pub gateway: Ipv4Addr,
    pub mtu: u32,
}

impl OverlayKey {
    /// The key of a map network.
    pub fn of(n: &MapNetwork) -> OverlayKey {
        OverlayKey {
            vni: n.vni,
            subnet: n.subnet,
            gateway: n.gateway,
            mtu: n.mtu,
        }
    }
}

/// Overlays to remove, then to create (network IDs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetworkPlan {
    pub remove: Vec<String>,
    pub create: Vec<String>,
}

/// Plans overlays from those that exist (`have`) and the map.
pub fn plan_networks(have: &BTreeMap<String, OverlayKey>, want: &NetworkMap) -> NetworkPlan {
    let mut plan = NetworkPlan::default();
    for (id, key) in have {
        match want.networks.get(id) {
            Some(n) if OverlayKey::of(n) == *key => {}
            _ => plan.remove.push(id.clone()),
        }
    }
    for (id, n) in &want.networks {
        if have.get(id) != Some(&OverlayKey::of(n)) {
            plan.create.push(id.clone());
        }
    }
    plan
}

/// The peers a node must program for network `n` (one per IP; the first
/// endpoint listed for an IP wins).
pub fn desired_peers(n: &MapNetwork, local_vtep: Ipv4Addr) -> BTreeSet<Peer> {
    let mut by_ip: BTreeMap<Ipv4Addr, Peer> = BTreeMap::new();
    for e in n.endpoints.iter().filter(|e| e.vtep != local_vtep) {
        by_ip.entry(e.ip).or_insert(Peer {
            ip: e.ip,
            mac: e.mac,
            vtep: e.vtep,
        });
    }
    by_ip.into_values().collect()
}

/// Peer entries to delete, then to write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerPlan {
    pub del_neigh: Vec<Ipv4Addr>,
    pub del_fdb: Vec<MacAddr>,
    pub put: Vec<Peer>,
}

impl PeerPlan {
    /// Nothing to do.
    pub fn is_empty(&self) -> bool {
        self.del_neigh.is_empty() && self.del_fdb.is_empty() && self.put.is_empty()
    }
}

/// Plans peer entries from those programmed and those wanted.
pub fn plan_peers(programmed: &BTreeSet<Peer>, want: &BTreeSet<Peer>) -> PeerPlan {
    let want_ips: BTreeSet<Ipv4Addr> = want.iter().map(|p| p.ip).collect();
    let want_macs: BTreeSet<MacAddr> = want.iter().map(|p| p.mac).collect();
    let del_neigh: BTreeSet<Ipv4Addr> = programmed
        .iter()
        .map(|p| p.ip)
        .filter(|ip| !want_ips.contains(ip))
        .collect();
    let del_fdb: BTreeSet<MacAddr> = programmed
        .iter()
        .map(|p| p.mac)
        .filter(|m| !want_macs.contains(m))
        .collect();
    PeerPlan {
        del_neigh: del_neigh.into_iter().collect(),
        del_fdb: del_fdb.into_iter().collect(),
        put: want.difference(programmed).copied().collect(),
    }
}

/// Per network, the addresses whose MAC changed or whose endpoint went
/// between two maps: attached tasks must forget what their neighbour
/// caches hold for them (broadcasts never cross hosts, so nothing else
/// would correct a cached MAC of a reused address).
pub fn stale_neighbours(old: &NetworkMap, new: &NetworkMap) -> BTreeMap<String, Vec<Ipv4Addr>> {
    let mut out = BTreeMap::new();
    for (id, before) in &old.networks {
        let Some(after) = new.networks.get(id) else {
            continue;
        };
        let now: BTreeMap<Ipv4Addr, MacAddr> =
            after.endpoints.iter().map(|e| (e.ip, e.mac)).collect();
        let mut ips: Vec<Ipv4Addr> = before
            .endpoints
            .iter()
            .filter(|e| now.get(&e.ip) != Some(&e.mac))
            .map(|e| e.ip)
            .collect();
        ips.sort();
        ips.dedup();
        if !ips.is_empty() {
            out.insert(id.clone(), ips);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::MapEndpoint;

    fn ip(n: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, 0, 1, n)
    }
    fn mac(n: u8) -> MacAddr {
        MacAddr([2, 0, 0, 0, 0, n])
    }
    fn peer(n: u8, m: u8, vtep: u8) -> Peer {
        Peer {
            ip: ip(n),
            mac: mac(m),
            vtep: Ipv4Addr::new(198, 18, 0, vtep),
        }
    }
    fn net(id: &str, vni: u32) -> MapNetwork {
        MapNetwork {
            id: id.into(),
            name: id.into(),
            vni,
            subnet: "10.0.1.0/24".parse().expect("cidr"),
            gateway: ip(1),
            mtu: 1450,
            internal: false,
            endpoints: vec![],
            services: vec![],
            ingress: None,
            encryption: None,
        }
    }

    #[test]
    fn peers_are_the_endpoints_of_other_nodes() {
        let mut n = net("a", 4096);
        for (i, vtep) in [(11, 1), (12, 2), (13, 3)] {
            n.endpoints.push(MapEndpoint {
                ip: ip(i),
                mac: mac(i),
                vtep: Ipv4Addr::new(198, 18, 0, vtep),
                task_id: format!("t{i}"),
                service_id: "s".into(),
                names: vec![],
            });
        }
        let p = desired_peers(&n, Ipv4Addr::new(198, 18, 0, 1));
        assert_eq!(p, [peer(12, 12, 2), peer(13, 13, 3)].into());
    }

    #[test]
    fn peer_plan_writes_new_and_changed_and_deletes_gone_keys() {
        let have: BTreeSet<Peer> = [peer(11, 11, 2), peer(12, 12, 2), peer(13, 13, 3)].into();
        // 11 unchanged, 12 moved to node 3, 13 gone, 14 new, 15 reuses 13's MAC? no: new MAC
        let want: BTreeSet<Peer> = [peer(11, 11, 2), peer(12, 12, 3), peer(14, 14, 2)].into();
        let plan = plan_peers(&have, &want);
        assert_eq!(plan.del_neigh, vec![ip(13)]);
        assert_eq!(plan.del_fdb, vec![mac(13)]);
        assert_eq!(plan.put, vec![peer(12, 12, 3), peer(14, 14, 2)]);
        assert!(plan_peers(&want, &want).is_empty());
    }

    #[test]
    fn ip_reused_with_a_new_mac_keeps_the_neighbour_and_drops_the_old_fdb() {
        let have: BTreeSet<Peer> = [peer(11, 11, 2)].into();
        let want: BTreeSet<Peer> = [peer(11, 99, 3)].into();
        let plan = plan_peers(&have, &want);
        assert!(plan.del_neigh.is_empty());
        assert_eq!(plan.del_fdb, vec![mac(11)]);
        assert_eq!(plan.put, vec![peer(11, 99, 3)]);
    }

    #[test]
    fn reused_and_removed_addresses_are_stale() {
        let ep = |n: u8, m: u8| MapEndpoint {
            ip: ip(n),
            mac: mac(m),
            vtep: Ipv4Addr::new(198, 18, 0, 1),
            task_id: format!("t{n}"),
            service_id: "s".into(),
            names: vec![],
        };
        let mut a = net("a", 4096);
        a.endpoints = vec![ep(11, 11), ep(12, 12), ep(13, 13)];
        let mut b = a.clone();
        b.endpoints = vec![ep(11, 11), ep(12, 99)];
        let map = |n: &MapNetwork| NetworkMap {
            version: 1,
            networks: [(n.id.clone(), n.clone())].into(),
        };
        let stale = stale_neighbours(&map(&a), &map(&b));
        assert_eq!(stale, [("a".to_string(), vec![ip(12), ip(13)])].into());
        assert!(stale_neighbours(&map(&b), &map(&b)).is_empty());
    }

    #[test]
    fn networks_are_created_removed_and_recreated_on_readdressing() {
        let mut map = NetworkMap::default();
        for n in [net("a", 4096), net("b", 4097)] {
            map.networks.insert(n.id.clone(), n);
        }
        let have: BTreeMap<String, OverlayKey> = [
            ("a".to_string(), OverlayKey::of(&net("a", 4096))),
            ("b".to_string(), OverlayKey::of(&net("b", 5000))),
            ("c".to_string(), OverlayKey::of(&net("c", 4098))),
        ]
        .into();
        let plan = plan_networks(&have, &map);
        assert_eq!(plan.remove, vec!["b".to_string(), "c".to_string()]);
        assert_eq!(plan.create, vec!["b".to_string()]);
    }
}

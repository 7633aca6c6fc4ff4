//! Encrypted overlays (`docker network create --opt encrypted`) without
//! kernel IPsec or WireGuard: VXLAN packets of encrypted networks are
//! routed into a user-space WireGuard tunnel (`rswwg0`, see
//! `linux::secure`) that encrypts them for the peer node. Pure: what to
//! program, from the map.
//!
//! ```text
//!  overlay netns: rswvx0 ──► VXLAN packet (host netns, UDP 4789, VNI v)
//!   table rswarm_secure, route hook: v encrypted → mark ──► rule: mark →
//!   table with `default dev rswwg0` ──► tunnel: encrypt for the peer whose
//!   VTEP is the packet's destination ──► UDP 4790 on the underlay
//!  and back: tunnel decrypts ──► rswwg0 (marked, so the reverse-path
//!   check finds the tunnel) ──► VXLAN socket. A VXLAN packet of an
//!   encrypted VNI that arrives any other way is dropped.
//! ```
//!
//! - The tunnel runs while the map has an encrypted network; its peers
//!   are the VTEPs of every remote endpoint of the encrypted networks; its
//!   key is the swarm's (the same on every node, replaced by the leader at
//!   every rotation).
//! - Encrypted networks have an MTU 60 bytes smaller (the manager's map
//!   says so), so an encrypted VXLAN packet still fits a 1500-byte
//!   underlay.
//!
//! What it does not do: keep several keys (a rotation re-keys every
//! session at once), encrypt anything but VXLAN of encrypted networks.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::net::Ipv4Addr;

use rswarm_types::{NetworkKey, NetworkMap};

use crate::names::{SECURE_LINK, SECURE_TABLE};

/// The mark of VXLAN packets of encrypted networks (and of what comes out
/// of the tunnel).
pub const SECURE_MARK: u32 = 0x5253_5701;
/// The routing table that sends marked packets into the tunnel.
pub const SECURE_ROUTE_TABLE: u32 = 0x5253_5701;
/// The priority of the rule that picks that table (host namespace).
pub const SECURE_RULE_PREF: u32 = 9_701;
/// The tunnel's UDP port on the underlay.
pub const SECURE_PORT: u16 = 4790;

/// What the node needs for its encrypted networks; `None` when it
/// carries none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub key: NetworkKey,
    /// VNIs of the encrypted networks.
    pub vnis: BTreeSet<u32>,
    /// VTEPs of the other nodes on them.
    pub peers: BTreeSet<Ipv4Addr>,
}

/// The plan for `map` on the node whose VTEP is `local`.
pub fn plan(map: &NetworkMap, local: Ipv4Addr) -> Option<Plan> {
    let mut key: Option<&NetworkKey> = None;
    let mut vnis = BTreeSet::new();
    let mut peers = BTreeSet::new();
    for n in map.networks.values() {
        let Some(k) = &n.encryption else {
            continue;
        };
        if key.is_none_or(|have| k.generation > have.generation) {
            key = Some(k);
        }
        vnis.insert(n.vni);
        peers.extend(n.endpoints.iter().map(|e| e.vtep).filter(|v| *v != local));
    }
    Some(Plan {
        key: key?.clone(),
        vnis,
        peers,
    })
}

/// The host table for the encrypted `vnis` (VXLAN on `port`); with none,
/// just its removal.
pub fn host_ruleset(vnis: &BTreeSet<u32>, port: u16) -> String {
    let mut s = format!("table ip {SECURE_TABLE}\ndelete table ip {SECURE_TABLE}\n");
    if vnis.is_empty() {
        return s;
    }
    let set: Vec<String> = vnis.iter().map(u32::to_string).collect();
    let vxlan = format!("udp dport {port} @th,96,24 {{ {} }}", set.join(", "));
    let _ = write!(
        s,
        "table ip {SECURE_TABLE} {{\n\
         \tchain out {{\n\t\ttype route hook output priority mangle; policy accept;\n\
         \t\t{vxlan} meta mark set {SECURE_MARK:#x}\n\t}}\n\
         \tchain pre {{\n\t\ttype filter hook prerouting priority mangle; policy accept;\n\
         \t\tiifname \"{SECURE_LINK}\" meta mark set {SECURE_MARK:#x}\n\t}}\n\
         \tchain in {{\n\t\ttype filter hook input priority filter; policy accept;\n\
         \t\tiifname != \"{SECURE_LINK}\" {vxlan} drop\n\t}}\n}}\n"
    );
    s
}

#[cfg(test)]
mod tests {
    use rswarm_types::{MacAddr, MapEndpoint, MapNetwork};

    use super::*;

    fn net(id: &str, vni: u32, key: Option<u64>, vteps: &[u8]) -> MapNetwork {
        MapNetwork {
            id: id.into(),
            name: id.into(),
            vni,
            subnet: "10.0.1.0/24".parse().expect("cidr"),
            gateway: Ipv4Addr::new(10, 0, 1, 1),
            mtu: 1390,
            internal: false,
            endpoints: vteps
                .iter()
                .map(|v| MapEndpoint {
                    ip: Ipv4Addr::new(10, 0, 1, *v),
                    mac: MacAddr::default(),
                    vtep: Ipv4Addr::new(192, 168, 0, *v),
                    task_id: format!("t{v}"),
                    service_id: String::new(),
                    names: vec![],
                })
                .collect(),
            services: vec![],
            ingress: None,
            encryption: key.map(|g| NetworkKey::generate(g, || [g as u8; 32])),
        }
    }

    #[test]
    fn encrypted_networks_give_their_vnis_remote_vteps_and_the_newest_key() {
        let mut map = NetworkMap::default();
        let local = Ipv4Addr::new(192, 168, 0, 1);
        map.networks
            .insert("plain".into(), net("plain", 4097, None, &[1, 9]));
        assert_eq!(plan(&map, local), None);
        map.networks
            .insert("a".into(), net("a", 4098, Some(2), &[1, 2]));
        map.networks
            .insert("b".into(), net("b", 4099, Some(3), &[3]));
        let p = plan(&map, local).expect("plan");
        assert_eq!(p.key.generation, 3);
        assert_eq!(p.vnis, BTreeSet::from([4098, 4099]));
        assert_eq!(
            p.peers,
            BTreeSet::from([Ipv4Addr::new(192, 168, 0, 2), Ipv4Addr::new(192, 168, 0, 3)])
        );
    }

    #[test]
    fn the_host_table_marks_and_guards_only_encrypted_vnis() {
        let t = host_ruleset(&BTreeSet::from([4098, 4099]), 4789);
        assert!(t.contains("udp dport 4789 @th,96,24 { 4098, 4099 } meta mark set 0x52535701"));
        assert!(t.contains("iifname != \"rswwg0\" udp dport 4789 @th,96,24 { 4098, 4099 } drop"));
        assert_eq!(
            host_ruleset(&BTreeSet::new(), 4789),
            "table ip rswarm_secure\ndelete table ip rswarm_secure\n"
        );
    }
}

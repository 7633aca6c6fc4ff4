//! The network map: everything one node needs to know to carry overlay
//! networks, as the manager pushes it (a full [`NetworkMap`] when a session
//! starts, [`NetworkMapDelta`]s afterwards; see `rswarm-network`).
//!
//! Per network the node takes part in: its addressing (VNI, subnet,
//! gateway, MTU, internal flag), every endpoint (task attachment) on it in
//! the whole cluster with the data-path address (VTEP) of the node it runs
//! on, and every service on it with its VIP and backends. The manager
//! decides what is in it (which tasks are up, which backends are healthy);
//! the node only programs it. No gossip.

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The networks of one node, keyed by network ID.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkMap {
    /// Increases with every change the manager sends.
    pub version: u64,
    #[serde(default)]
    pub networks: BTreeMap<String, MapNetwork>,
}

/// One overlay network as a node sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MapNetwork {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    /// VXLAN network identifier (Swarm allocates from 4096).
    #[serde(rename = "VNI")]
    pub vni: u32,
    pub subnet: Ipv4Cidr,
    pub gateway: Ipv4Addr,
    /// MTU inside the overlay (Swarm: 1500 − 50 = 1450).
    #[serde(rename = "MTU")]
    pub mtu: u32,
    /// `--internal`: no way out of the overlay.
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub endpoints: Vec<MapEndpoint>,
    #[serde(default)]
    pub services: Vec<MapService>,
    /// The routing mesh, on the ingress network only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<MapIngress>,
    /// Encrypted between nodes (`--opt encrypted`): the swarm's current
    /// key (the same for every encrypted network).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<NetworkKey>,
}

/// The key of encrypted overlays: a WireGuard (X25519) private key all
/// nodes share, and a preshared key, both 32 bytes in hex; `generation`
/// counts rotations. Its `Debug` shows the generation only.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkKey {
    pub private_key: String,
    pub preshared_key: String,
    pub generation: u64,
}

impl fmt::Debug for NetworkKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetworkKey")
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl NetworkKey {
    /// A new random key of `generation`.
    pub fn generate(generation: u64, random: impl Fn() -> [u8; 32]) -> NetworkKey {
        NetworkKey {
            private_key: hex(&random()),
            preshared_key: hex(&random()),
            generation,
        }
    }

    /// The two keys as bytes; `None` when one is not 64 hex digits.
    pub fn bytes(&self) -> Option<([u8; 32], [u8; 32])> {
        Some((unhex(&self.private_key)?, unhex(&self.preshared_key)?))
    }
}

fn hex(b: &[u8; 32]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// The ingress network's routing mesh as one node carries it. Every node
/// has an endpoint of its own on the ingress network (also listed in
/// [`MapNetwork::endpoints`], with no task); a connection to a published
/// port of any node is sent from there to a backend, which routes its
/// replies back to the node the connection came through.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapIngress {
    /// This node's endpoint address.
    pub local: Ipv4Addr,
    /// Every node's endpoint address (this node's too).
    #[serde(default)]
    pub nodes: Vec<Ipv4Addr>,
    /// Every port published in ingress mode in the swarm.
    #[serde(default)]
    pub ports: Vec<MapPublishedPort>,
}

/// A port published through the routing mesh.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapPublishedPort {
    pub service_id: String,
    /// `tcp`, `udp` or `sctp`.
    pub protocol: String,
    pub published: u16,
    pub target: u16,
    /// The ingress addresses of the service's tasks that take traffic.
    #[serde(default)]
    pub backends: Vec<Ipv4Addr>,
}

/// A task's attachment to a network, anywhere in the cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MapEndpoint {
    #[serde(rename = "IP")]
    pub ip: Ipv4Addr,
    pub mac: MacAddr,
    /// Data-path address of the node the task runs on.
    pub vtep: Ipv4Addr,
    #[serde(rename = "TaskID")]
    pub task_id: String,
    #[serde(rename = "ServiceID", default)]
    pub service_id: String,
    /// Names that resolve to this endpoint (task name
    /// `<service>.<slot>.<task id>`, hostname, short container ID, ...).
    /// The first is the primary name (PTR answers).
    #[serde(default)]
    pub names: Vec<String>,
}

/// How a service's name resolves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResolutionMode {
    /// The name resolves to the VIP, which balances connections.
    #[default]
    Vip,
    /// The name resolves to the task addresses (DNS round robin).
    Dnsrr,
}

/// A service on a network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MapService {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    /// Network-scoped aliases (`--network name=N,alias=A`).
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub mode: ResolutionMode,
    /// The service's VIP on this network (vip mode only).
    #[serde(rename = "VIP", default, skip_serializing_if = "Option::is_none")]
    pub vip: Option<Ipv4Addr>,
    /// Addresses of the tasks that should receive traffic.
    #[serde(default)]
    pub backends: Vec<Ipv4Addr>,
}

/// A change to a node's map: whole networks replaced or removed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkMapDelta {
    /// The version this delta applies to.
    pub base_version: u64,
    /// The version after it.
    pub version: u64,
    #[serde(default)]
    pub upserts: Vec<MapNetwork>,
    #[serde(default)]
    pub removals: Vec<String>,
}

/// What the manager sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NetworkMapUpdate {
    Snapshot(NetworkMap),
    Delta(NetworkMapDelta),
}

/// A delta whose base is not the map's version: ask for a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("network map delta for version {base} does not apply to version {have}")]
pub struct StaleDelta {
    pub base: u64,
    pub have: u64,
}

impl NetworkMap {
    /// The delta that turns `self` into `new` (networks compared whole).
    pub fn diff(&self, new: &NetworkMap) -> NetworkMapDelta {
        let upserts = new
            .networks
            .values()
            .filter(|n| self.networks.get(&n.id) != Some(*n))
            .cloned()
            .collect();
        let removals = self
            .networks
            .keys()
            .filter(|id| !new.networks.contains_key(*id))
            .cloned()
            .collect();
        NetworkMapDelta {
            base_version: self.version,
            version: new.version,
            upserts,
            removals,
        }
    }

    /// Applies a delta made against this map's version.
    pub fn apply_delta(&mut self, delta: &NetworkMapDelta) -> Result<(), StaleDelta> {
        if delta.base_version != self.version {
            return Err(StaleDelta {
                base: delta.base_version,
                have: self.version,
            });
        }
        for id in &delta.removals {
            self.networks.remove(id);
        }
        for n in &delta.upserts {
            self.networks.insert(n.id.clone(), n.clone());
        }
        self.version = delta.version;
        Ok(())
    }

    /// The map after `update`.
    pub fn updated(&self, update: &NetworkMapUpdate) -> Result<NetworkMap, StaleDelta> {
        match update {
            NetworkMapUpdate::Snapshot(m) => Ok(m.clone()),
            NetworkMapUpdate::Delta(d) => {
                let mut m = self.clone();
                m.apply_delta(d)?;
                Ok(m)
            }
        }
    }
}

/// A MAC address, written `02:42:0a:00:01:0b`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// A locally administered unicast address from 6 random bytes (the
    /// allocator gives each attachment a new one, so a reused IP never
    /// meets a stale forwarding entry for its old MAC).
    pub fn local_from(mut bytes: [u8; 6]) -> MacAddr {
        bytes[0] = (bytes[0] & 0xfc) | 0x02;
        MacAddr(bytes)
    }

    /// Docker's MAC for an address (`GenerateMACFromIP`): `02:42:` + its
    /// bytes.
    pub fn from_ip(ip: std::net::Ipv4Addr) -> MacAddr {
        let [a, b, c, d] = ip.octets();
        MacAddr([0x02, 0x42, a, b, c, d])
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

/// A string that is not what its type expects.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what}: {input:?}")]
pub struct ParseNetError {
    pub what: &'static str,
    pub input: String,
}

impl FromStr for MacAddr {
    type Err = ParseNetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseNetError {
            what: "MAC address",
            input: s.to_string(),
        };
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for b in &mut out {
            let p = parts.next().ok_or_else(err)?;
            if p.len() != 2 {
                return Err(err());
            }
            *b = u8::from_str_radix(p, 16).map_err(|_| err())?;
        }
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(MacAddr(out))
    }
}

/// An IPv4 prefix, written `10.0.1.0/24`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ipv4Cidr {
    pub addr: Ipv4Addr,
    pub prefix_len: u8,
}

impl Ipv4Cidr {
    /// `None` when `prefix_len` > 32.
    pub fn new(addr: Ipv4Addr, prefix_len: u8) -> Option<Ipv4Cidr> {
        (prefix_len <= 32).then_some(Ipv4Cidr { addr, prefix_len })
    }

    /// The netmask as a number.
    pub fn mask(&self) -> u32 {
        if self.prefix_len == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix_len))
        }
    }

    /// The first address (host bits zero).
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) & self.mask())
    }

    /// Whether `ip` lies inside.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.network())
    }

    /// The `n`-th address of the prefix (0 = the network address), if inside.
    pub fn nth(&self, n: u32) -> Option<Ipv4Addr> {
        let size = 1u64 << (32 - u32::from(self.prefix_len));
        (u64::from(n) < size).then(|| Ipv4Addr::from(u32::from(self.network()) + n))
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

impl FromStr for Ipv4Cidr {
    type Err = ParseNetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseNetError {
            what: "IPv4 CIDR",
            input: s.to_string(),
        };
        let (a, p) = s.split_once('/').ok_or_else(err)?;
        let addr: Ipv4Addr = a.parse().map_err(|_| err())?;
        let prefix_len: u8 = p.parse().map_err(|_| err())?;
        Ipv4Cidr::new(addr, prefix_len).ok_or_else(err)
    }
}

macro_rules! serde_as_string {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
serde_as_string!(MacAddr);
serde_as_string!(Ipv4Cidr);

#[cfg(test)]
mod tests {
    use super::*;

    fn net(id: &str, vni: u32) -> MapNetwork {
        MapNetwork {
            id: id.into(),
            name: format!("n{id}"),
            vni,
            subnet: "10.0.1.0/24".parse().expect("parse"),
            gateway: Ipv4Addr::new(10, 0, 1, 1),
            mtu: 1450,
            internal: false,
            endpoints: vec![],
            services: vec![],
            ingress: None,
            encryption: None,
        }
    }

    fn map(version: u64, nets: &[MapNetwork]) -> NetworkMap {
        NetworkMap {
            version,
            networks: nets.iter().map(|n| (n.id.clone(), n.clone())).collect(),
        }
    }

    #[test]
    fn diff_then_apply_gives_the_new_map() {
        let a = map(1, &[net("x", 4096), net("y", 4097)]);
        let mut y2 = net("y", 4097);
        y2.internal = true;
        let b = map(2, &[y2, net("z", 4098)]);
        let d = a.diff(&b);
        assert_eq!(d.removals, vec!["x".to_string()]);
        assert_eq!(d.upserts.len(), 2);
        let mut c = a.clone();
        c.apply_delta(&d).expect("applies");
        assert_eq!(c, b);
        assert_eq!(c.apply_delta(&d), Err(StaleDelta { base: 1, have: 2 }));
    }

    #[test]
    fn mac_and_cidr_round_trip_as_strings() {
        let m: MacAddr = "02:42:0a:00:01:0b".parse().expect("parse");
        assert_eq!(m.to_string(), "02:42:0a:00:01:0b");
        assert!("02:42:0a:00:01".parse::<MacAddr>().is_err());
        assert!("02:42:0a:00:01:0b:00".parse::<MacAddr>().is_err());
        assert_eq!(MacAddr::local_from([0xff; 6]).0[0], 0xfe);
        let c: Ipv4Cidr = "10.0.1.7/24".parse().expect("parse");
        assert_eq!(c.network(), Ipv4Addr::new(10, 0, 1, 0));
        assert!(c.contains(Ipv4Addr::new(10, 0, 1, 200)));
        assert!(!c.contains(Ipv4Addr::new(10, 0, 2, 1)));
        assert_eq!(c.nth(1), Some(Ipv4Addr::new(10, 0, 1, 1)));
        assert_eq!(c.nth(256), None);
        assert!("10.0.1.0/33".parse::<Ipv4Cidr>().is_err());
        assert!("10.0.1.0".parse::<Ipv4Cidr>().is_err());
        let json = serde_json::to_string(&map(3, &[net("x", 4096)])).expect("json");
        assert!(json.contains(r#""Subnet":"10.0.1.0/24""#), "{json}");
        let back: NetworkMap = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, map(3, &[net("x", 4096)]));
    }
}

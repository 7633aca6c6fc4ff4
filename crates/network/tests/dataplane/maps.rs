//! Network maps for the tests, as the manager would send them.

#![allow(dead_code)]

use std::net::Ipv4Addr;

use rswarm_types::{
    MacAddr, MapEndpoint, MapNetwork, MapService, NetworkMap, NetworkMapUpdate, ResolutionMode,
};

/// Network `id` with subnet 10.0.<net>.0/24, gateway .1, MTU 1450.
pub fn network(id: &str, vni: u32, net: u8, internal: bool) -> MapNetwork {
    MapNetwork {
        id: id.into(),
        name: id.into(),
        vni,
        subnet: format!("10.0.{net}.0/24").parse().expect("cidr"),
        gateway: Ipv4Addr::new(10, 0, net, 1),
        mtu: 1450,
        internal,
        endpoints: vec![],
        services: vec![],
        ingress: None,
        encryption: None,
    }
}

/// The address `.host` of network `n`.
pub fn addr(n: &MapNetwork, host: u8) -> Ipv4Addr {
    let o = n.subnet.addr.octets();
    Ipv4Addr::new(o[0], o[1], o[2], host)
}

/// A MAC for an attachment (any locally administered one works; the
/// `salt` gives a reused IP a new MAC).
pub fn mac(ip: Ipv4Addr, salt: u8) -> MacAddr {
    let o = ip.octets();
    MacAddr::local_from([0x02, salt, o[0], o[1], o[2], o[3]])
}

/// Adds task `task` of service `service` at `.host` on the node `vtep`.
pub fn endpoint(
    n: &mut MapNetwork,
    host: u8,
    vtep: Ipv4Addr,
    task: &str,
    service: &str,
) -> Ipv4Addr {
    let ip = addr(n, host);
    n.endpoints.push(MapEndpoint {
        ip,
        mac: mac(ip, 0x42),
        vtep,
        task_id: task.into(),
        service_id: service.into(),
        names: vec![format!("{service}.{host}.{task}")],
    });
    ip
}

/// Adds a vip-mode service with its VIP at `.vip` and the given backends.
pub fn vip_service(n: &mut MapNetwork, name: &str, vip: u8, backends: &[Ipv4Addr]) -> Ipv4Addr {
    let v = addr(n, vip);
    n.services.push(MapService {
        id: format!("svc-{name}"),
        name: name.into(),
        aliases: vec![format!("{name}-alias")],
        mode: ResolutionMode::Vip,
        vip: Some(v),
        backends: backends.to_vec(),
    });
    v
}

/// A snapshot of `nets`.
pub fn snapshot(version: u64, nets: &[&MapNetwork]) -> NetworkMapUpdate {
    NetworkMapUpdate::Snapshot(NetworkMap {
        version,
        networks: nets.iter().map(|n| (n.id.clone(), (*n).clone())).collect(),
    })
}

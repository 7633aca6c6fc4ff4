//! The routing-mesh part of a node's network map (see
//! [`network_map`](crate::network_map)). Pure.
//!
//! - A node carries the ingress network when it has an endpoint on it
//!   (given when it registered) and some service publishes a port in
//!   ingress mode, or when one of its live tasks is attached to it.
//! - The ingress network's endpoints are its tasks' (as on any network)
//!   plus every ready node's own endpoint, with no task and no name, so
//!   every node holds a forwarding entry for every other node's endpoint
//!   and backends can send replies back through the node a connection
//!   came in by.
//! - `ingress`: this node's endpoint address, every ready node's, and every
//!   port published in ingress mode (an allocated published port, its
//!   target, its protocol) with its backends: the ingress addresses of the
//!   service's running tasks. No DNS names and no VIP rules are given on
//!   the ingress network (Docker gives none either).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use rswarm_store::Tables;
use rswarm_types::{MacAddr, MapEndpoint, MapIngress, MapPublishedPort, Network, NodeState};

use crate::allocator::ingress::{ingress_network, node_address, publishes_ingress};

/// The ingress network when `node_id` carries it for the mesh.
pub fn mesh_network<'t>(t: &'t Tables, node_id: &str) -> Option<&'t Network> {
    let ingress = ingress_network(t)?;
    let node = t.node(node_id)?;
    node_address(node, &ingress.id)?;
    t.services()
        .any(|s| publishes_ingress(s.spec.endpoint_spec.as_ref()))
        .then_some(ingress)
}

/// Every ready node's endpoint on `ingress_id` (address, VTEP from
/// `vtep_of` the node's address), by address.
pub fn node_endpoints(
    t: &Tables,
    ingress_id: &str,
    vtep_of: impl Fn(&str) -> Option<Ipv4Addr>,
) -> Vec<MapEndpoint> {
    let mut out: Vec<MapEndpoint> = t
        .nodes()
        .filter(|n| n.status.state == NodeState::Ready)
        .filter_map(|n| {
            let ip = node_address(n, ingress_id)?;
            Some(MapEndpoint {
                ip,
                mac: MacAddr::from_ip(ip),
                vtep: vtep_of(&n.status.addr)?,
                task_id: String::new(),
                service_id: String::new(),
                names: Vec::new(),
            })
        })
        .collect();
    out.sort_by_key(|e| e.ip);
    out
}

/// The mesh as `node_id` sees it; `running` holds the running tasks'
/// addresses by (service ID, network ID). `None` when the node has no
/// endpoint on `ingress_id`.
pub fn mesh(
    t: &Tables,
    node_id: &str,
    ingress_id: &str,
    nodes: &[MapEndpoint],
    running: &BTreeMap<(&str, &str), Vec<Ipv4Addr>>,
) -> Option<MapIngress> {
    let local = node_address(t.node(node_id)?, ingress_id)?;
    let mut ports = Vec::new();
    for s in t.services() {
        for p in &s.endpoint.ports {
            if !matches!(p.publish_mode.as_str(), "" | "ingress") {
                continue;
            }
            let (Ok(published), Ok(target)) = (
                u16::try_from(p.published_port),
                u16::try_from(p.target_port),
            ) else {
                continue;
            };
            if published == 0 || target == 0 {
                continue;
            }
            let mut backends = running
                .get(&(s.id.as_str(), ingress_id))
                .cloned()
                .unwrap_or_default();
            backends.sort();
            backends.dedup();
            ports.push(MapPublishedPort {
                service_id: s.id.clone(),
                protocol: if p.protocol.is_empty() {
                    "tcp".into()
                } else {
                    p.protocol.clone()
                },
                published,
                target,
                backends,
            });
        }
    }
    ports.sort_by(|a, b| (&a.protocol, a.published).cmp(&(&b.protocol, b.published)));
    Some(MapIngress {
        local,
        nodes: nodes.iter().map(|e| e.ip).collect(),
        ports,
    })
}

//! The allocator: VXLAN IDs and subnets for networks, a virtual IP per
//! service per network, an address per task per network. Networks are
//! allocated when created, services when their spec is written (in the
//! same transaction), tasks when they leave `new` (the scheduler loop's
//! allocation step), so an allocation is never seen half done and
//! survives restarts and failover with the store.
//!
//! [`ipam`] holds the rules; this module reads what is in use from the
//! store tables.
//!
//! [`ingress`] gives the routing mesh its addresses (nodes' endpoints,
//! VIPs and task addresses on the ingress network); [`ports`] the
//! published ports.
//!
//! What it does not do (yet): re-allocate a task whose network was
//! removed.

pub mod ingress;
pub mod ipam;
pub mod ports;

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use rswarm_store::Tables;
use rswarm_types::{
    ControlError, EndpointVirtualIp, Network, NetworkAttachment, Service, ServiceSpec, Task,
    TaskState,
};

use self::ipam::{address_of, next_address};

/// Resolves a network reference (full ID, name, or unique ID prefix) the
/// way Docker's `FindNetwork` does.
pub fn find_network<'a>(t: &'a Tables, reference: &str) -> Result<&'a Network, ControlError> {
    if let Some(n) = t.network(reference) {
        return Ok(n);
    }
    if let Some(n) = t.network_by_name(reference) {
        return Ok(n);
    }
    let mut prefixed = t.networks().filter(|n| n.id.starts_with(reference));
    match (prefixed.next(), prefixed.next()) {
        (Some(n), None) if !reference.is_empty() => Ok(n),
        (Some(_), Some(_)) => Err(ControlError::Ambiguous {
            kind: "network",
            id: reference.to_string(),
            matches: 2 + prefixed.count(),
        }),
        _ => Err(ControlError::not_found("network", reference)),
    }
}

/// Replaces each network reference of `spec` by the network's ID (as the
/// docker daemon does before a spec reaches the managers); an unknown one
/// is `network X not found`.
pub fn resolve_networks(t: &Tables, spec: &mut ServiceSpec) -> Result<(), ControlError> {
    for attachment in &mut spec.task_template.networks {
        let network = find_network(t, &attachment.target)?;
        if network.spec.ingress {
            return Err(ControlError::invalid(format!(
                "service cannot be explicitly attached to the ingress network \"{}\"",
                network.spec.name
            )));
        }
        attachment.target = network.id.clone();
    }
    Ok(())
}

/// Addresses of `network_id` held by its gateway, services' VIPs and the
/// attachments of tasks that are not finished.
pub fn addresses_in_use(t: &Tables, network_id: &str) -> BTreeSet<Ipv4Addr> {
    let mut used = BTreeSet::new();
    if let Some(gw) = t
        .network(network_id)
        .and_then(|n| n.pool())
        .and_then(|(_, gw)| gw.parse().ok())
    {
        used.insert(gw);
    }
    for s in t.services() {
        used.extend(
            s.endpoint
                .virtual_ips
                .iter()
                .filter(|v| v.network_id == network_id)
                .filter_map(|v| address_of(&v.addr)),
        );
    }
    for node in t.nodes() {
        used.extend(
            node.attachments
                .iter()
                .filter(|a| a.network.id == network_id)
                .flat_map(|a| a.addresses.iter())
                .filter_map(|a| address_of(a)),
        );
    }
    for task in t.tasks().filter(|t| t.status.state <= TaskState::Running) {
        used.extend(
            task.networks_attachments
                .iter()
                .filter(|a| a.network.id == network_id)
                .flat_map(|a| a.addresses.iter())
                .filter_map(|a| address_of(a)),
        );
    }
    used
}

/// Whether one of `attachments`' addresses is now a service's VIP on
/// that network: the scheduler gives task addresses from a read, and a
/// service written since may hold one of them.
pub fn vip_taken(t: &Tables, attachments: &[NetworkAttachment]) -> bool {
    let wanted: BTreeSet<(&str, Ipv4Addr)> = attachments
        .iter()
        .flat_map(|a| {
            a.addresses
                .iter()
                .filter_map(|addr| Some((a.network.id.as_str(), address_of(addr)?)))
        })
        .collect();
    !wanted.is_empty()
        && t.services().any(|s| {
            s.endpoint.virtual_ips.iter().any(|v| {
                address_of(&v.addr).is_some_and(|ip| wanted.contains(&(v.network_id.as_str(), ip)))
            })
        })
}

/// The VIPs `service` should have when its endpoint mode is `vip` (kept
/// where it had one): one on the ingress network when it publishes a port
/// there, then one per network of its spec; none with `dnsrr`.
pub fn service_vips(t: &Tables, service: &Service) -> Result<Vec<EndpointVirtualIp>, ControlError> {
    let dnsrr = service
        .spec
        .endpoint_spec
        .as_ref()
        .is_some_and(|e| e.mode == "dnsrr");
    if dnsrr {
        return Ok(Vec::new());
    }
    let mut vips = Vec::new();
    let ingress_id = ingress::ingress_network(t)
        .filter(|_| ingress::publishes_ingress(service.spec.endpoint_spec.as_ref()))
        .map(|n| n.id.clone());
    let targets = ingress_id.iter().chain(
        service
            .spec
            .task_template
            .networks
            .iter()
            .map(|a| &a.target),
    );
    for id in targets {
        if let Some(kept) = service
            .endpoint
            .virtual_ips
            .iter()
            .find(|v| v.network_id == *id)
        {
            vips.push(kept.clone());
            continue;
        }
        let network = t
            .network(id)
            .ok_or_else(|| ControlError::not_found("network", id.clone()))?;
        let mut used = addresses_in_use(t, id);
        used.extend(
            vips.iter()
                .filter_map(|v: &EndpointVirtualIp| address_of(&v.addr)),
        );
        let addr = next_address(network, &used).ok_or_else(|| {
            ControlError::Unavailable(format!(
                "could not allocate a virtual IP on network {}: no free address",
                network.spec.name
            ))
        })?;
        vips.push(EndpointVirtualIp {
            network_id: id.clone(),
            addr,
        });
    }
    Ok(vips)
}

/// Attachments for `task` (one address on the ingress network when its
/// service publishes a port there, then one on each network of its spec),
/// avoiding `used` (what is in use plus what this pass gave out, per
/// network ID); `None` when a network is gone or full.
pub fn task_attachments(
    t: &Tables,
    task: &Task,
    used: &mut std::collections::HashMap<String, BTreeSet<Ipv4Addr>>,
) -> Option<Vec<NetworkAttachment>> {
    let mut attachments = Vec::new();
    let ingress = ingress::ingress_network(t)
        .filter(|_| ingress::publishes_ingress(task.endpoint_spec.as_ref()));
    let networks = task.spec.networks.iter().map(|n| t.network(&n.target));
    for network in ingress.map(Some).into_iter().chain(networks) {
        let network = network?;
        let taken = used
            .entry(network.id.clone())
            .or_insert_with(|| addresses_in_use(t, &network.id));
        let addr = next_address(network, taken)?;
        taken.extend(address_of(&addr));
        attachments.push(NetworkAttachment {
            network: network.clone(),
            addresses: vec![addr],
        });
    }
    Some(attachments)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rswarm_rt::SystemClock;
    use rswarm_store::{MemoryProposer, Object, Store};

    use super::*;

    fn attachment(network: &str, addr: &str) -> NetworkAttachment {
        NetworkAttachment {
            network: Network {
                id: network.into(),
                ..Default::default()
            },
            addresses: vec![addr.into()],
        }
    }

    #[tokio::test]
    async fn an_address_a_service_took_as_its_vip_is_taken() {
        let store = Store::open(Arc::new(MemoryProposer), Arc::new(SystemClock)).expect("store");
        let mut web = Service {
            id: "s1".into(),
            ..Default::default()
        };
        web.spec.name = "web".into();
        web.endpoint.virtual_ips = vec![EndpointVirtualIp {
            network_id: "n1".into(),
            addr: "10.0.1.3/24".into(),
        }];
        store
            .update(|tx| tx.create(Object::Service(web)))
            .await
            .expect("service");
        store.view(|t| {
            assert!(vip_taken(t, &[attachment("n1", "10.0.1.3/24")]));
            assert!(!vip_taken(t, &[attachment("n1", "10.0.1.4/24")]));
            assert!(!vip_taken(t, &[attachment("n2", "10.0.1.3/24")]));
            assert!(!vip_taken(t, &[]));
        });
    }
}

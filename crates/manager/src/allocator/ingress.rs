//! The routing mesh's allocations on the ingress network, as in Swarm:
//!
//! - every node gets an endpoint address of its own there (swarmkit's
//!   node attachment, Docker's `ingress-sbox`): connections to a published
//!   port leave the node from it, and backends route their replies back
//!   to it; it is given when the node registers (or when an ingress
//!   network is created, for the nodes already there) and replaced when
//!   the ingress network it was on is gone;
//! - a service that publishes a port in ingress mode gets a VIP on the
//!   ingress network (first in `Endpoint.VirtualIPs`), and its tasks an
//!   address there (their first attachment, so `eth0` in the task).
//!
//! Pure: reads tables, edits the objects it is given.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use rswarm_store::Tables;
use rswarm_types::{EndpointSpec, Network, NetworkAttachment, Node};

use super::ipam::{address_of, next_address};

/// The ingress network, when the swarm has one.
pub fn ingress_network(t: &Tables) -> Option<&Network> {
    t.networks().find(|n| n.spec.ingress)
}

/// Whether `spec` publishes a port through the routing mesh (mode
/// `ingress`, Docker's default).
pub fn publishes_ingress(spec: Option<&EndpointSpec>) -> bool {
    spec.is_some_and(|e| {
        e.ports
            .iter()
            .any(|p| matches!(p.publish_mode.as_str(), "" | "ingress"))
    })
}

/// The node's endpoint address on network `network_id`.
pub fn node_address(node: &Node, network_id: &str) -> Option<Ipv4Addr> {
    node.attachments
        .iter()
        .find(|a| a.network.id == network_id)
        .and_then(|a| a.addresses.first())
        .and_then(|a| address_of(a))
}

/// Gives `node` an endpoint on `ingress` when it has none there (taking
/// it out of `used`), dropping one on an ingress network that is gone.
/// Returns whether the node changed; `false` also when `ingress` is full.
pub fn give_node_address(
    ingress: &Network,
    node: &mut Node,
    used: &mut BTreeSet<Ipv4Addr>,
) -> bool {
    if node_address(node, &ingress.id).is_some() {
        return false;
    }
    let before = node.attachments.len();
    node.attachments
        .retain(|a| !a.network.spec.ingress || a.network.id == ingress.id);
    let Some(addr) = next_address(ingress, used) else {
        return node.attachments.len() != before;
    };
    used.extend(address_of(&addr));
    node.attachments.push(NetworkAttachment {
        network: ingress.clone(),
        addresses: vec![addr],
    });
    true
}

#[cfg(test)]
mod tests {
    use rswarm_types::{IpamConfig, IpamOptions, NetworkSpec, PortConfig};

    use super::*;

    fn ingress(id: &str) -> Network {
        Network {
            id: id.into(),
            spec: NetworkSpec {
                name: "ingress".into(),
                ingress: true,
                ..Default::default()
            },
            ipam: Some(IpamOptions {
                configs: vec![IpamConfig {
                    subnet: "10.0.0.0/24".into(),
                    gateway: "10.0.0.1".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_node_gets_one_address_and_a_new_one_when_ingress_is_recreated() {
        let old = ingress("old");
        let mut used: BTreeSet<Ipv4Addr> = ["10.0.0.1".parse().expect("ip")].into();
        let mut node = Node::default();
        assert!(give_node_address(&old, &mut node, &mut used));
        assert_eq!(
            node_address(&node, "old"),
            Some("10.0.0.2".parse().expect("ip"))
        );
        assert!(!give_node_address(&old, &mut node, &mut used));

        let new = ingress("new");
        assert!(give_node_address(&new, &mut node, &mut used));
        assert_eq!(node.attachments.len(), 1);
        assert_eq!(
            node_address(&node, "new"),
            Some("10.0.0.3".parse().expect("ip"))
        );
    }

    #[test]
    fn ingress_mode_is_the_default_publish_mode() {
        let port = |mode: &str| EndpointSpec {
            ports: vec![PortConfig {
                target_port: 80,
                publish_mode: mode.into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert!(publishes_ingress(Some(&port(""))));
        assert!(publishes_ingress(Some(&port("ingress"))));
        assert!(!publishes_ingress(Some(&port("host"))));
        assert!(!publishes_ingress(None));
    }
}

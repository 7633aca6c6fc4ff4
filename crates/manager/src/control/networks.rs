//! Network create, remove and reads (`docker network create -d overlay`,
//! `network rm`, the predefined `ingress` network of `swarm init`).
//!
//! A network is allocated (VXLAN ID, subnet, gateway) in the same write
//! that creates it. Refusals, in Docker's words: an unsupported driver, a
//! bad or overlapping pool, a second ingress network, a name in use
//! (`NameConflict`: the Engine API words it as Docker does), removing a
//! network a service uses.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use rswarm_store::{Kind, Object, Tables};
use rswarm_types::{Cluster, ControlError, Driver, Ipv4Cidr, Network, NetworkKey, NetworkSpec};

use super::ControlApi;
use crate::allocator::ingress::{give_node_address, publishes_ingress};
use crate::allocator::ipam::{AddressPool, allocate_network};

/// The predefined routing-mesh network's name.
pub const INGRESS: &str = "ingress";

/// The pools a cluster takes subnets from (`--default-addr-pool`,
/// `--default-addr-pool-mask-length`), default 10.0.0.0/8 in /24s.
pub fn address_pools(cluster: Option<&Cluster>) -> Vec<AddressPool> {
    let Some(c) = cluster.filter(|c| !c.default_addr_pool.is_empty()) else {
        return vec![AddressPool::default()];
    };
    let subnet_len = u8::try_from(c.subnet_size)
        .ok()
        .filter(|l| *l > 0)
        .unwrap_or(24);
    c.default_addr_pool
        .iter()
        .filter_map(|p| p.parse::<Ipv4Cidr>().ok())
        .map(|pool| AddressPool { pool, subnet_len })
        .collect()
}

/// A new, allocated network from `spec` beside the networks of `t`.
pub fn new_network(
    t: &Tables,
    mut spec: NetworkSpec,
    now: rswarm_types::Timestamp,
) -> Result<Network, ControlError> {
    let driver = spec
        .driver_configuration
        .get_or_insert_with(Driver::default);
    if driver.name.is_empty() {
        driver.name = "overlay".into();
    }
    if driver.name != "overlay" {
        return Err(ControlError::invalid(format!(
            "network driver {:?} is not supported in swarm scope: rswarm networks use the overlay driver",
            driver.name
        )));
    }
    if spec.scope.is_empty() {
        spec.scope = "swarm".into();
    }
    if spec.ingress
        && let Some(ingress) = t.networks().find(|n| n.spec.ingress)
    {
        return Err(ControlError::FailedPrecondition(format!(
            "ingress network ({}) is already present",
            ingress.id
        )));
    }
    if t.network_by_name(&spec.name).is_some() {
        return Err(ControlError::NameConflict {
            kind: "network",
            name: spec.name.clone(),
        });
    }
    let existing: Vec<Network> = t.networks().cloned().collect();
    let requested = spec
        .ipam
        .as_ref()
        .map(|i| i.configs.clone())
        .unwrap_or_default();
    let mut last = None;
    let mut allocated = None;
    for pool in address_pools(t.cluster()) {
        match allocate_network(&requested, &existing, pool) {
            Ok(a) => {
                allocated = Some(a);
                break;
            }
            Err(e @ ControlError::Unavailable(_)) => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    let Some((vni, ipam)) = allocated else {
        return Err(last.unwrap_or_else(|| ControlError::Unavailable("no address pool".into())));
    };
    let mut network = Network {
        id: rswarm_rt::new_id(),
        spec,
        ipam: Some(ipam),
        ..Default::default()
    };
    network.driver_state.name = "overlay".into();
    // The user's driver options stay in the driver's state, as the overlay
    // driver keeps them (`network inspect` shows `encrypted` there).
    network.driver_state.options = network
        .spec
        .driver_configuration
        .as_ref()
        .map(|d| d.options.clone())
        .unwrap_or_default();
    network
        .driver_state
        .options
        .insert(rswarm_types::VXLAN_ID_OPTION.into(), vni.to_string());
    network.meta.created_at = now;
    network.meta.updated_at = now;
    Ok(network)
}

/// The `ingress` network `swarm init` creates.
pub fn ingress_spec() -> NetworkSpec {
    NetworkSpec {
        name: INGRESS.into(),
        ingress: true,
        driver_configuration: Some(Driver {
            name: "overlay".into(),
            ..Default::default()
        }),
        scope: "swarm".into(),
        ..Default::default()
    }
}

impl ControlApi {
    /// All networks.
    pub fn list_networks(&self) -> Vec<Network> {
        self.store.view(|t| t.networks().cloned().collect())
    }

    /// Creates and allocates a network.
    pub async fn create_network(&self, spec: NetworkSpec) -> Result<Network, ControlError> {
        if spec.name.is_empty() {
            return Err(ControlError::invalid("network name must not be empty"));
        }
        let now = self.clock.now();
        self.store
            .update(|tx| {
                let network = new_network(tx.base(), spec, now)?;
                tx.create(Object::Network(network.clone()))?;
                if network.encrypted()
                    && let Some(mut cluster) = tx.cluster()
                    && cluster.network_key.is_none()
                {
                    // The swarm's first encrypted network: its key.
                    cluster.network_key =
                        Some(NetworkKey::generate(1, rswarm_rt::id::random_bytes));
                    tx.update(Object::Cluster(cluster))?;
                }
                if network.spec.ingress {
                    // Every node's routing-mesh endpoint on the new ingress.
                    let mut used = BTreeSet::new();
                    used.extend(
                        network
                            .pool()
                            .and_then(|(_, gw)| gw.parse::<Ipv4Addr>().ok()),
                    );
                    let nodes: Vec<_> = tx.base().nodes().cloned().collect();
                    for mut node in nodes {
                        if give_node_address(&network, &mut node, &mut used) {
                            tx.update(Object::Node(node))?;
                        }
                    }
                }
                Ok(network)
            })
            .await
    }

    /// Removes a network no service uses.
    pub async fn remove_network(&self, id: &str) -> Result<(), ControlError> {
        self.store
            .update(|tx| {
                let network = tx
                    .network(id)
                    .ok_or_else(|| ControlError::not_found("network", id))?;
                if network.spec.ingress
                    && let Some(s) = tx
                        .base()
                        .services()
                        .find(|s| publishes_ingress(s.spec.endpoint_spec.as_ref()))
                {
                    return Err(ControlError::FailedPrecondition(format!(
                        "ingress network cannot be removed because service {} depends on it",
                        s.id
                    )));
                }
                if let Some(s) = tx
                    .base()
                    .services()
                    .find(|s| s.spec.task_template.networks.iter().any(|n| n.target == id))
                {
                    return Err(ControlError::FailedPrecondition(format!(
                        "network {id} is in use by service {}",
                        s.id
                    )));
                }
                tx.delete(Kind::Network, id)?;
                Ok(())
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::IpamOptions;

    #[test]
    fn ingress_comes_first_then_user_networks() {
        let mut t = Tables::default();
        let ingress = new_network(&t, ingress_spec(), Default::default()).expect("ingress");
        assert_eq!(
            (ingress.vni(), ingress.pool()),
            (4096, Some(("10.0.0.0/24", "10.0.0.1")))
        );
        t.insert(Object::Network(ingress));
        let spec = |name: &str| NetworkSpec {
            name: name.into(),
            ..Default::default()
        };
        let web = new_network(&t, spec("web"), Default::default()).expect("web");
        assert_eq!(web.vni(), 4097);
        assert_eq!(web.pool(), Some(("10.0.1.0/24", "10.0.1.1")));
        assert_eq!(web.spec.scope, "swarm");
        assert_eq!(web.driver_state.name, "overlay");
        t.insert(Object::Network(web));

        let again = new_network(&t, spec("web"), Default::default()).expect_err("dup");
        assert!(matches!(again, ControlError::NameConflict { .. }));
        let second = new_network(&t, ingress_spec(), Default::default()).expect_err("ingress");
        assert!(
            second.to_string().contains("is already present"),
            "{second}"
        );
        let bridge = NetworkSpec {
            driver_configuration: Some(Driver {
                name: "bridge".into(),
                ..Default::default()
            }),
            ..spec("b")
        };
        assert!(new_network(&t, bridge, Default::default()).is_err());
        let overlapping = NetworkSpec {
            ipam: Some(IpamOptions {
                configs: vec![rswarm_types::IpamConfig {
                    subnet: "10.0.1.128/25".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..spec("o")
        };
        let e = new_network(&t, overlapping, Default::default()).expect_err("overlap");
        assert_eq!(e.to_string(), crate::allocator::ipam::POOL_OVERLAP);
    }
}

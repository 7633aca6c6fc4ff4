//! The data-plane contract the agent drives, and the pure checks both
//! implementations share.

use std::fmt::Debug;
use std::path::PathBuf;

use async_trait::async_trait;
use rswarm_types::{Ipv4Cidr, MacAddr, MapEndpoint, MapNetwork, NetworkMap, NetworkMapUpdate};

use crate::error::NetError;
use crate::resolv::DnsSettings;

/// Where a task's network namespace comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskNetns {
    /// The data plane creates it (`<netns root>/task-<task id>`) and
    /// deletes it on detach: the process runtime spawns the task in it.
    Create,
    /// It exists (a container's `/proc/<pid>/ns/net`, or a pause
    /// container's); the data plane only adds and removes its own links,
    /// table and DNS sockets there.
    Existing(PathBuf),
}

/// Plumb a task into its networks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachRequest {
    pub task_id: String,
    pub netns: TaskNetns,
    /// Network IDs in interface order (`eth0`, `eth1`, ...). The task's
    /// endpoint on each (IP, MAC) comes from the network map.
    pub networks: Vec<String>,
    /// The task's own DNS settings (`ContainerSpec.DNSConfig`); each one
    /// given overrides the host's.
    pub dns: DnsSettings,
}

/// A link inside a task namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// `eth<N>`.
    pub name: String,
    /// The overlay network; `None` for the egress link.
    pub network_id: Option<String>,
    pub address: Ipv4Cidr,
    /// Set for overlay links (from the map).
    pub mac: Option<MacAddr>,
}

/// What the executor needs from an attached task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attached {
    /// The namespace file to run the task in.
    pub netns: PathBuf,
    /// To bind-mount on the task's `/etc/resolv.conf`.
    pub resolv_conf: PathBuf,
    pub interfaces: Vec<Interface>,
}

/// What a leftover sweep removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cleanup {
    pub namespaces: usize,
    pub links: usize,
    pub tables: usize,
}

/// A node's data plane. Methods take `&self` and are serialized inside.
#[async_trait]
pub trait DataPlane: Send + Sync + Debug {
    /// Removes everything a previous (crashed) run left, by our names only,
    /// and forgets any state. Call once when the daemon starts.
    async fn cleanup_leftovers(&self) -> Result<Cleanup, NetError>;

    /// Makes the node match the map after `update`: overlays of the
    /// networks in the map exist and no others, peer entries follow the
    /// endpoints of other nodes, DNS and VIP rules of attached tasks follow
    /// the services. The new map is kept even when programming fails (the
    /// error says what failed; the next `apply` converges again). A delta
    /// for another version fails with [`NetError::StaleDelta`] and changes
    /// nothing: ask the manager for a snapshot.
    async fn apply(&self, update: &NetworkMapUpdate) -> Result<(), NetError>;

    /// The map last applied.
    async fn current_map(&self) -> NetworkMap;

    /// Plumbs a task: its namespace, one veth per network, a way out when
    /// one of its networks is not internal, VIP rules, resolv.conf and its
    /// DNS server. The networks must be in the map, with an endpoint of the
    /// task on each. Attaching an attached task returns what it has.
    async fn attach(&self, req: &AttachRequest) -> Result<Attached, NetError>;

    /// Undoes [`attach`](DataPlane::attach): DNS sockets closed, links,
    /// table and (if it created it) namespace removed. Unknown tasks are
    /// fine.
    async fn detach(&self, task_id: &str) -> Result<(), NetError>;

    /// Detaches every task and removes every overlay and the egress bridge.
    async fn remove_all(&self) -> Result<(), NetError>;
}

/// The task's network and endpoint for each network of `req`, in order.
pub fn endpoints<'m>(
    map: &'m NetworkMap,
    req: &AttachRequest,
) -> Result<Vec<(&'m MapNetwork, &'m MapEndpoint)>, NetError> {
    crate::names::check_task_id(&req.task_id)?;
    req.networks
        .iter()
        .map(|id| {
            let n = map
                .networks
                .get(id)
                .ok_or_else(|| NetError::UnknownNetwork(id.clone()))?;
            let e = n
                .endpoints
                .iter()
                .find(|e| e.task_id == req.task_id)
                .ok_or_else(|| NetError::NoEndpoint {
                    task: req.task_id.clone(),
                    network: id.clone(),
                })?;
            Ok((n, e))
        })
        .collect()
}

/// A task has a way out when one of its networks is not internal.
pub fn has_egress(nets: &[(&MapNetwork, &MapEndpoint)]) -> bool {
    nets.iter().any(|(n, _)| !n.internal)
}

/// The task's interfaces: `eth<i>` per network, then the egress link.
pub fn interfaces(
    nets: &[(&MapNetwork, &MapEndpoint)],
    egress: Option<Ipv4Cidr>,
) -> Vec<Interface> {
    let mut v: Vec<Interface> = nets
        .iter()
        .enumerate()
        .map(|(i, (n, e))| Interface {
            name: format!("eth{i}"),
            network_id: Some(n.id.clone()),
            address: Ipv4Cidr {
                addr: e.ip,
                prefix_len: n.subnet.prefix_len,
            },
            mac: Some(e.mac),
        })
        .collect();
    if let Some(address) = egress {
        v.push(Interface {
            name: format!("eth{}", nets.len()),
            network_id: None,
            address,
            mac: None,
        });
    }
    v
}

//! The scheduler's working view of the cluster: every node (sorted by ID,
//! so ties break the same way on every run) with its free resources and
//! active task counts, updated as decisions are made within one call.

use std::collections::{HashMap, HashSet};

use rswarm_types::{Availability, Node, NodeState, Task};

/// CPU and memory a task reserves (limits are ignored, as in Swarm).
/// Negative values in a spec count as zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Reservation {
    pub cpu: i64,
    pub mem: i64,
}

impl Reservation {
    /// The reservation of a task's spec.
    pub(crate) fn of(task: &Task) -> Reservation {
        task.spec
            .resources
            .as_ref()
            .and_then(|r| r.reservations.as_ref())
            .map_or_else(Reservation::default, |r| Reservation {
                cpu: r.nano_cpus.max(0),
                mem: r.memory_bytes.max(0),
            })
    }

    /// True when the task reserves nothing (the resource filter is off).
    pub(crate) fn is_zero(self) -> bool {
        self.cpu == 0 && self.mem == 0
    }
}

/// One node and its load.
#[derive(Clone, Debug)]
pub(crate) struct NodeInfo<'a> {
    pub node: &'a Node,
    /// Ready filter: status ready and availability active (cached: it is
    /// read for every node of every group).
    pub ready: bool,
    /// Node CPU minus the reservations of its active tasks (may go negative
    /// when a node shrank under its tasks).
    pub free_cpu: i64,
    /// Node memory minus the reservations of its active tasks.
    pub free_mem: i64,
    /// Active tasks of every service.
    pub total: u32,
    /// Host-mode ports its active tasks publish.
    pub host_ports: HashSet<HostPort>,
}

/// A port published in host mode: `(protocol, published port)`.
pub(crate) type HostPort = (String, u32);

/// The host-mode ports a task publishes (a published port of 0 is chosen
/// by the node: it conflicts with nothing).
pub(crate) fn host_ports(task: &Task) -> Vec<HostPort> {
    task.endpoint_spec
        .as_ref()
        .map(|e| {
            e.ports
                .iter()
                .filter(|p| p.publish_mode == "host" && p.published_port != 0)
                .map(|p| {
                    let proto = if p.protocol.is_empty() {
                        "tcp"
                    } else {
                        p.protocol.as_str()
                    };
                    (proto.to_string(), p.published_port)
                })
                .collect()
        })
        .unwrap_or_default()
}

impl NodeInfo<'_> {
    /// True when the reservation fits in what is free.
    pub(crate) fn fits(&self, r: Reservation) -> bool {
        r.cpu <= self.free_cpu && r.mem <= self.free_mem
    }
}

/// All nodes and their load, indexed by position (`u32`) in ID order.
#[derive(Debug)]
pub(crate) struct NodeSet<'a> {
    pub nodes: Vec<NodeInfo<'a>>,
    by_id: HashMap<&'a str, u32>,
    /// service ID → node index → active tasks of that service on that node.
    by_service: HashMap<&'a str, HashMap<u32, u32>>,
}

impl<'a> NodeSet<'a> {
    /// Builds the set with no load.
    pub(crate) fn new(nodes: &'a [Node]) -> NodeSet<'a> {
        let mut sorted: Vec<&'a Node> = nodes.iter().collect();
        sorted.sort_by(|a, b| a.id.cmp(&b.id));
        sorted.dedup_by(|a, b| a.id == b.id);
        let nodes: Vec<NodeInfo<'a>> = sorted
            .into_iter()
            .map(|node| {
                let r = &node.description.resources;
                let ready = node.status.state == NodeState::Ready
                    && node.spec.availability == Availability::Active;
                NodeInfo {
                    node,
                    ready,
                    free_cpu: r.nano_cpus,
                    free_mem: r.memory_bytes,
                    total: 0,
                    host_ports: HashSet::new(),
                }
            })
            .collect();
        let by_id = nodes
            .iter()
            .zip(0u32..)
            .map(|(n, i)| (n.node.id.as_str(), i))
            .collect();
        NodeSet {
            nodes,
            by_id,
            by_service: HashMap::new(),
        }
    }

    /// Counts a task that already runs (or is about to) on its node. Tasks
    /// on unknown nodes are ignored.
    pub(crate) fn add_existing(&mut self, task: &'a Task) {
        if let Some(idx) = self.index_of(&task.node_id) {
            self.place(
                idx,
                &task.service_id,
                Reservation::of(task),
                &host_ports(task),
            );
        }
    }

    /// The index of a node ID.
    pub(crate) fn index_of(&self, node_id: &str) -> Option<u32> {
        self.by_id.get(node_id).copied()
    }

    /// The node at an index.
    pub(crate) fn info(&self, idx: u32) -> &NodeInfo<'a> {
        &self.nodes[idx as usize]
    }

    /// Active tasks of one service, per node index (absent = 0).
    pub(crate) fn service_counts(&self, service_id: &str) -> Option<&HashMap<u32, u32>> {
        self.by_service.get(service_id)
    }

    /// Active tasks of one service on one node.
    pub(crate) fn service_count(&self, service_id: &str, idx: u32) -> u32 {
        self.by_service
            .get(service_id)
            .and_then(|m| m.get(&idx))
            .copied()
            .unwrap_or(0)
    }

    /// Records a task of `service_id` reserving `r` and publishing
    /// `ports` on node `idx`.
    pub(crate) fn place(
        &mut self,
        idx: u32,
        service_id: &'a str,
        r: Reservation,
        ports: &[HostPort],
    ) {
        let info = &mut self.nodes[idx as usize];
        info.host_ports.extend(ports.iter().cloned());
        info.free_cpu = info.free_cpu.saturating_sub(r.cpu);
        info.free_mem = info.free_mem.saturating_sub(r.mem);
        info.total = info.total.saturating_add(1);
        let count = self
            .by_service
            .entry(service_id)
            .or_default()
            .entry(idx)
            .or_insert(0);
        *count = count.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::{ResourceRequirements, Resources};

    fn node(id: &str, cpu: i64, mem: i64) -> Node {
        let mut n = Node {
            id: id.into(),
            ..Default::default()
        };
        n.description.resources = Resources {
            nano_cpus: cpu,
            memory_bytes: mem,
            ..Default::default()
        };
        n
    }

    fn task(service: &str, node: &str, cpu: i64, mem: i64) -> Task {
        let mut t = Task {
            service_id: service.into(),
            node_id: node.into(),
            ..Default::default()
        };
        let res = Resources {
            nano_cpus: cpu,
            memory_bytes: mem,
            ..Default::default()
        };
        t.spec.resources = Some(ResourceRequirements {
            limits: None,
            reservations: Some(res),
        });
        t
    }

    #[test]
    fn nodes_are_sorted_by_id() {
        let nodes = vec![node("c", 0, 0), node("a", 0, 0), node("b", 0, 0)];
        let set = NodeSet::new(&nodes);
        let ids: Vec<&str> = set.nodes.iter().map(|n| n.node.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(set.index_of("c"), Some(2));
        assert_eq!(set.index_of("zz"), None);
    }

    #[test]
    fn load_reduces_free_resources_and_counts_tasks() {
        let nodes = vec![node("a", 4_000, 1 << 30)];
        let tasks = [
            task("s1", "a", 1_000, 1 << 20),
            task("s2", "a", 0, 0),
            task("s1", "gone", 1, 1),
        ];
        let mut set = NodeSet::new(&nodes);
        for t in &tasks {
            set.add_existing(t);
        }
        let a = set.info(0);
        assert_eq!(
            (a.free_cpu, a.free_mem, a.total),
            (3_000, (1 << 30) - (1 << 20), 2)
        );
        assert_eq!(set.service_count("s1", 0), 1);
        assert_eq!(set.service_count("s2", 0), 1);
        assert_eq!(set.service_count("s3", 0), 0);
        assert!(a.fits(Reservation { cpu: 3_000, mem: 0 }));
        assert!(!a.fits(Reservation { cpu: 3_001, mem: 0 }));
    }

    #[test]
    fn reservation_ignores_limits_and_negatives() {
        let mut t = task("s", "", -5, 7);
        assert_eq!(Reservation::of(&t), Reservation { cpu: 0, mem: 7 });
        t.spec.resources = Some(ResourceRequirements {
            limits: Some(Resources {
                nano_cpus: 9,
                ..Default::default()
            }),
            reservations: None,
        });
        assert!(Reservation::of(&t).is_zero());
    }
}

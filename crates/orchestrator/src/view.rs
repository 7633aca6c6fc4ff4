//! The input of a reconcile pass: a read-only snapshot of the store, and
//! the node questions every orchestrator asks about it.

use std::collections::BTreeMap;

use rswarm_types::{Availability, Node, NodeState, Service, Task};

/// A consistent snapshot of what the orchestrator reads: references
/// into the store's tables (a pass copies only the tasks it changes).
#[derive(Clone, Debug)]
pub struct View<'a> {
    /// The cluster's `TaskHistoryRetentionLimit` (Swarm default 5);
    /// negative keeps all history.
    pub task_history_limit: i64,
    /// All nodes.
    pub nodes: Vec<&'a Node>,
    /// All services.
    pub services: Vec<&'a Service>,
    /// All tasks.
    pub tasks: Vec<&'a Task>,
}

/// Nodes by ID.
pub(crate) struct Nodes<'a>(BTreeMap<&'a str, &'a Node>);

impl<'a> Nodes<'a> {
    pub(crate) fn new(nodes: impl IntoIterator<Item = &'a Node>) -> Self {
        Nodes(nodes.into_iter().map(|n| (n.id.as_str(), n)).collect())
    }

    pub(crate) fn get(&self, id: &str) -> Option<&'a Node> {
        self.0.get(id).copied()
    }

    /// All nodes, ordered by ID.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &'a Node> + '_ {
        self.0.values().copied()
    }

    /// A replicated task on this node must move elsewhere: the node is
    /// gone, down or drained (swarmkit's `InvalidNode`).
    pub(crate) fn invalid(&self, id: &str) -> bool {
        self.get(id).is_none_or(|n| {
            n.status.state == NodeState::Down || n.spec.availability == Availability::Drain
        })
    }

    /// The node exists and is drained (restart delays are skipped there).
    pub(crate) fn drained(&self, id: &str) -> bool {
        self.get(id)
            .is_some_and(|n| n.spec.availability == Availability::Drain)
    }

    /// The node is gone or down: its tasks will not report stopping.
    pub(crate) fn down_or_gone(&self, id: &str) -> bool {
        self.get(id)
            .is_none_or(|n| n.status.state == NodeState::Down)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, state: NodeState, availability: Availability) -> Node {
        let mut n = Node {
            id: id.into(),
            ..Default::default()
        };
        n.status.state = state;
        n.spec.availability = availability;
        n
    }

    #[test]
    fn node_questions() {
        let nodes = [
            node("ready", NodeState::Ready, Availability::Active),
            node("down", NodeState::Down, Availability::Active),
            node("drain", NodeState::Ready, Availability::Drain),
            node("pause", NodeState::Unknown, Availability::Pause),
        ];
        let n = Nodes::new(&nodes);
        let table = [
            // id, invalid, drained, down_or_gone
            ("ready", false, false, false),
            ("down", true, false, true),
            ("drain", true, true, false),
            ("pause", false, false, false),
            ("gone", true, false, true),
        ];
        for (id, invalid, drained, down) in table {
            assert_eq!(n.invalid(id), invalid, "{id}");
            assert_eq!(n.drained(id), drained, "{id}");
            assert_eq!(n.down_or_gone(id), down, "{id}");
        }
        let ids: Vec<&str> = n.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["down", "drain", "pause", "ready"]);
    }
}

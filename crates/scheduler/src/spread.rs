//! Spreading a group's tasks over its eligible nodes.
//!
//! The eligible nodes form a tree with one level per `spread` placement
//! preference (nodes without the label share the `""` branch) and a heap
//! of nodes at each leaf. Each task walks down the tree taking the branch
//! with the fewest tasks of the service, then the leaf's best node: fewest
//! tasks of this service, then fewest tasks in total, then lowest node ID.
//! Without preferences the tree is a single leaf. A node that no longer
//! passes the load-dependent filters leaves its heap for good, and a
//! branch whose nodes are all gone leaves its parent's heap.
//!
//! ```text
//!             root  (spread=node.labels.zone)
//!           /       \
//!      zone=a      zone=b        <- branch heap keyed by (service tasks, label order)
//!     [n1, n3]    [n2, n4, n5]   <- node heap keyed by (service tasks, all tasks, node ID)
//! ```

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use rswarm_types::{Node, PlacementPreference};

use crate::filters::Requirements;
use crate::nodeset::NodeSet;

const NODE_LABELS: &str = "node.labels.";
const ENGINE_LABELS: &str = "engine.labels.";

/// The label of a `spread` placement preference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SpreadLabel {
    /// `node.labels.<name>`: the node spec's labels.
    Node(String),
    /// `engine.labels.<name>`: the engine's labels.
    Engine(String),
}

impl SpreadLabel {
    /// Parses one Engine API preference, `{"Spread":{"SpreadDescriptor":"node.labels.zone"}}`.
    /// Anything else (unknown strategies, other descriptors) is ignored.
    pub(crate) fn parse(pref: &PlacementPreference) -> Option<SpreadLabel> {
        let descriptor = pref.spread.as_ref()?.spread_descriptor.as_str();
        let strip = |prefix: &str| {
            let head = descriptor.get(..prefix.len())?;
            let rest = descriptor.get(prefix.len()..)?;
            (head.eq_ignore_ascii_case(prefix) && !rest.is_empty()).then(|| rest.to_string())
        };
        strip(NODE_LABELS)
            .map(SpreadLabel::Node)
            .or_else(|| strip(ENGINE_LABELS).map(SpreadLabel::Engine))
    }

    /// Parses every preference that is a spread over a label.
    pub(crate) fn parse_all(prefs: &[PlacementPreference]) -> Vec<SpreadLabel> {
        prefs.iter().filter_map(SpreadLabel::parse).collect()
    }

    /// The node's value for this label; `""` when it has none.
    fn value<'n>(&self, node: &'n Node) -> &'n str {
        let labels = match self {
            SpreadLabel::Node(_) => &node.spec.labels,
            SpreadLabel::Engine(_) => &node.description.engine.labels,
        };
        let (SpreadLabel::Node(name) | SpreadLabel::Engine(name)) = self;
        labels.get(name).map_or("", String::as_str)
    }
}

/// `(tasks of the service, total tasks, node index)`: smaller is better.
type NodeKey = Reverse<(u32, u32, u32)>;
/// `(tasks of the service in the branch, branch position)`.
type BranchKey = Reverse<(u64, u32)>;

/// A spread tree over a group's eligible nodes.
#[derive(Debug)]
pub(crate) enum Tree {
    /// Nodes, best first.
    Leaf(BinaryHeap<NodeKey>),
    /// One subtree per label value (in value order), and a heap of the
    /// subtrees that may still take tasks.
    Branches {
        heap: BinaryHeap<BranchKey>,
        children: Vec<Tree>,
    },
}

impl Tree {
    /// Builds the tree from `(node index, tasks of the service on it)` for
    /// every eligible node, one level per spread label.
    pub(crate) fn build(
        set: &NodeSet<'_>,
        eligible: Vec<(u32, u32)>,
        levels: &[SpreadLabel],
    ) -> Tree {
        let Some((label, rest)) = levels.split_first() else {
            return Tree::Leaf(
                eligible
                    .into_iter()
                    .map(|(idx, sc)| Reverse((sc, set.info(idx).total, idx)))
                    .collect(),
            );
        };
        let mut by_value: BTreeMap<&str, Vec<(u32, u32)>> = BTreeMap::new();
        for (idx, sc) in eligible {
            by_value
                .entry(label.value(set.info(idx).node))
                .or_default()
                .push((idx, sc));
        }
        let mut keys = Vec::with_capacity(by_value.len());
        let mut children = Vec::with_capacity(by_value.len());
        for (pos, members) in (0u32..).zip(by_value.into_values()) {
            let tasks = members.iter().map(|&(_, sc)| u64::from(sc)).sum();
            keys.push(Reverse((tasks, pos)));
            children.push(Tree::build(set, members, rest));
        }
        Tree::Branches {
            heap: BinaryHeap::from(keys),
            children,
        }
    }

    /// Places one task of the group: picks a node, records the task on it
    /// in `set`, and returns the node's index; `None` when no node of the
    /// tree can take it any more.
    pub(crate) fn place<'a>(
        &mut self,
        set: &mut NodeSet<'a>,
        req: &Requirements<'a>,
    ) -> Option<u32> {
        match self {
            Tree::Leaf(heap) => {
                while let Some(Reverse((sc, _, idx))) = heap.pop() {
                    if !req.still_fits(set.info(idx), sc) {
                        continue; // load only grows: this node is done
                    }
                    set.place(idx, req.service_id, req.reservation, &req.host_ports);
                    heap.push(Reverse((sc.saturating_add(1), set.info(idx).total, idx)));
                    return Some(idx);
                }
                None
            }
            Tree::Branches { heap, children } => {
                while let Some(Reverse((tasks, pos))) = heap.pop() {
                    let Some(child) = children.get_mut(pos as usize) else {
                        continue;
                    };
                    if let Some(idx) = child.place(set, req) {
                        heap.push(Reverse((tasks.saturating_add(1), pos)));
                        return Some(idx);
                    }
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_spread_preferences() {
        let prefs = vec![
            json!({"Spread": {"SpreadDescriptor": "node.labels.zone"}}),
            json!({"Spread": {"SpreadDescriptor": "engine.labels.rack"}}),
            json!({"Spread": {"SpreadDescriptor": "node.hostname"}}),
            json!({"Pack": {"Descriptor": "node.labels.zone"}}),
            json!({"Spread": {"SpreadDescriptor": "node.labels."}}),
        ];
        let prefs: Vec<PlacementPreference> = prefs
            .into_iter()
            .map(|p| serde_json::from_value(p).expect("preference"))
            .collect();
        assert_eq!(
            SpreadLabel::parse_all(&prefs),
            vec![
                SpreadLabel::Node("zone".into()),
                SpreadLabel::Engine("rack".into())
            ]
        );
    }

    #[test]
    fn label_values_default_to_empty() {
        let mut n = Node::default();
        n.spec.labels.insert("zone".into(), "a".into());
        n.description
            .engine
            .labels
            .insert("rack".into(), "r1".into());
        assert_eq!(SpreadLabel::Node("zone".into()).value(&n), "a");
        assert_eq!(SpreadLabel::Engine("rack".into()).value(&n), "r1");
        assert_eq!(SpreadLabel::Node("rack".into()).value(&n), "");
    }
}

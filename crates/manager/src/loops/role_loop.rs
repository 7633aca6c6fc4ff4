//! On the leader: carries out `node promote` and `node demote` (a node
//! whose desired role, `Spec.Role`, differs from its `Role`), as
//! swarmkit's role manager does.
//!
//! Rules:
//! - A promotion is recorded at once (`Role: manager`). The node learns
//!   it from its session, renews its certificate (now a manager's), starts
//!   its manager and asks the group to take it in.
//! - A demotion first takes the node out of the Raft group, and only when
//!   the remaining managers keep a quorum (else it waits and tries again);
//!   once the node is no longer a member, `Role: worker` is recorded and
//!   the node stops its manager. The leader may demote itself: it leaves
//!   the group and steps down, and the next leader records the role.
//! - Nothing else changes a role; a node whose desired role changes back
//!   before the step is done just ends where it was asked to be.

use std::time::Duration;

use rswarm_raft::{Member, RaftNode, can_remove};
use rswarm_rt::Shutdown;
use rswarm_store::{Object, Store};
use rswarm_types::{ControlError, Node, NodeRole};

/// One step towards a node's desired role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoleStep {
    /// Record `Role: manager` (promotion).
    Promote(String),
    /// Take the node out of the Raft group (first step of a demotion).
    RemoveMember(String),
    /// Record `Role: worker` (the node is no longer a member).
    Demote(String),
}

/// The steps due now for `nodes`, given the Raft group's `members`. A
/// demotion that would lose quorum has no step yet.
pub fn plan(nodes: &[Node], members: &[Member]) -> Vec<RoleStep> {
    nodes
        .iter()
        .filter(|n| n.spec.role != n.role)
        .filter_map(|n| match n.spec.role {
            NodeRole::Manager => Some(RoleStep::Promote(n.id.clone())),
            NodeRole::Worker if !members.iter().any(|m| m.node_id == n.id) => {
                Some(RoleStep::Demote(n.id.clone()))
            }
            NodeRole::Worker => can_remove(members, &n.id)
                .is_ok()
                .then(|| RoleStep::RemoveMember(n.id.clone())),
        })
        .collect()
}

/// Takes the steps due every `period` until `term` ends.
pub async fn run(raft: RaftNode, store: Store, period: Duration, term: Shutdown) {
    while !term.is_triggered() {
        let nodes: Vec<Node> = store.view(|t| t.nodes().cloned().collect());
        for step in plan(&nodes, &raft.members()) {
            if let Err(e) = take(&raft, &store, &step).await {
                tracing::info!("role change {step:?} not done yet: {e}");
            }
        }
        tokio::select! {
            _ = term.wait() => {}
            _ = tokio::time::sleep(period) => {}
        }
    }
}

async fn take(raft: &RaftNode, store: &Store, step: &RoleStep) -> Result<(), String> {
    let (id, role) = match step {
        RoleStep::RemoveMember(id) => {
            tracing::info!("demoting node {id}: removing it from the managers' Raft group");
            return raft.remove(id).await.map_err(|e| e.to_string());
        }
        RoleStep::Promote(id) => (id, NodeRole::Manager),
        RoleStep::Demote(id) => (id, NodeRole::Worker),
    };
    store
        .update(|tx| {
            // Only if the node still asks for this role.
            if let Some(mut node) = tx.node(id).filter(|n| n.spec.role == role) {
                node.role = role;
                tx.update(Object::Node(node))?;
                tracing::info!("node {id} is now a {}", role.as_str());
            }
            Ok::<_, ControlError>(())
        })
        .await
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_raft::Reachability::{Reachable as R, Unreachable as U};
    use rswarm_types::NodeSpec;

    fn node(id: &str, role: NodeRole, desired: NodeRole) -> Node {
        Node {
            id: id.into(),
            role,
            spec: NodeSpec {
                role: desired,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn member(id: &str, r: rswarm_raft::Reachability) -> Member {
        Member {
            node_id: id.into(),
            addr: String::new(),
            raft_id: 0,
            voter: true,
            leader: id == "a",
            reachability: r,
        }
    }

    use NodeRole::{Manager as M, Worker as W};

    #[test]
    fn promotions_are_recorded_at_once() {
        let nodes = [node("a", M, M), node("w", W, M)];
        let members = [member("a", R)];
        assert_eq!(plan(&nodes, &members), vec![RoleStep::Promote("w".into())]);
    }

    #[test]
    fn demotions_leave_the_group_first_and_keep_quorum() {
        let nodes = [node("a", M, M), node("b", M, W), node("c", M, M)];
        let all_up = [member("a", R), member("b", R), member("c", R)];
        assert_eq!(
            plan(&nodes, &all_up),
            vec![RoleStep::RemoveMember("b".into())]
        );
        // c is down: removing b would leave a alone of {a, c}: wait.
        let c_down = [member("a", R), member("b", R), member("c", U)];
        assert_eq!(plan(&nodes, &c_down), vec![]);
        // b already left the group: record it.
        let left = [member("a", R), member("c", R)];
        assert_eq!(plan(&nodes, &left), vec![RoleStep::Demote("b".into())]);
    }

    #[test]
    fn settled_nodes_need_nothing() {
        let nodes = [node("a", M, M), node("w", W, W)];
        assert!(plan(&nodes, &[member("a", R)]).is_empty());
    }
}

//! On the leader: keeps each manager node's `ManagerStatus` (leader,
//! reachability, address: `node ls` MANAGER STATUS) and its role in line
//! with the Raft group, as swarmkit's leader does.
//!
//! Rules: a Raft voter is a manager (`Role: manager`) with a
//! `ManagerStatus` from what the leader sees; a node that is no longer a
//! member loses its `ManagerStatus`; only what changed is written.

use std::time::Duration;

use rswarm_raft::{Member, RaftNode};
use rswarm_rt::Shutdown;
use rswarm_store::{Object, Store};
use rswarm_types::{ControlError, ManagerStatus, Node};

/// The `ManagerStatus` a node should have, given the group's members.
pub fn status_of(node_id: &str, members: &[Member]) -> Option<ManagerStatus> {
    members
        .iter()
        .find(|m| m.node_id == node_id && m.voter)
        .map(|m| ManagerStatus {
            leader: m.leader,
            reachability: m.reachability.as_str().to_string(),
            addr: m.addr.clone(),
        })
}

/// The nodes whose recorded status differs from what `members` says.
fn changed(nodes: &[Node], members: &[Member]) -> Vec<Node> {
    nodes
        .iter()
        .filter_map(|n| {
            let want = status_of(&n.id, members);
            (n.manager_status != want).then(|| Node {
                manager_status: want,
                ..n.clone()
            })
        })
        .collect()
}

/// Refreshes the statuses every `period` until `term` ends.
pub async fn run(raft: RaftNode, store: Store, period: Duration, term: Shutdown) {
    while !term.is_triggered() {
        let members = raft.members();
        let nodes: Vec<Node> = store.view(|t| t.nodes().cloned().collect());
        let stale = changed(&nodes, &members);
        if !stale.is_empty() {
            let write = store
                .update(|tx| {
                    for n in &stale {
                        if let Some(mut current) = tx.node(&n.id) {
                            current.manager_status = n.manager_status.clone();
                            tx.update(Object::Node(current))?;
                        }
                    }
                    Ok::<_, ControlError>(())
                })
                .await;
            if let Err(e) = write {
                tracing::debug!("manager statuses not written: {e}");
            }
        }
        tokio::select! {
            _ = term.wait() => {}
            _ = tokio::time::sleep(period) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_raft::Reachability;

    fn member(id: &str, leader: bool, reach: Reachability) -> Member {
        Member {
            node_id: id.into(),
            addr: format!("{id}:2377"),
            raft_id: 1,
            voter: true,
            leader,
            reachability: reach,
        }
    }

    #[test]
    fn statuses_follow_the_group() {
        let members = vec![
            member("a", true, Reachability::Reachable),
            member("b", false, Reachability::Unreachable),
        ];
        let a = status_of("a", &members).expect("a manages");
        assert!(a.leader && a.reachability == "reachable" && a.addr == "a:2377");
        let b = status_of("b", &members).expect("b manages");
        assert_eq!((b.leader, b.reachability.as_str()), (false, "unreachable"));
        assert!(status_of("w", &members).is_none(), "a worker has none");

        let node = |id: &str, s: Option<ManagerStatus>| Node {
            id: id.into(),
            manager_status: s,
            ..Default::default()
        };
        let nodes = vec![
            node("a", status_of("a", &members)),
            node("b", None),
            node("w", Some(ManagerStatus::default())),
        ];
        let stale: Vec<String> = changed(&nodes, &members)
            .into_iter()
            .map(|n| n.id)
            .collect();
        assert_eq!(stale, vec!["b", "w"], "only what changed is written");
    }
}

//! Node update, remove and reads.

use rswarm_store::{Kind, Object};
use rswarm_types::{ControlError, NodeRole, NodeSpec, NodeState, TaskState, validate};

use super::{ControlApi, check_version};

impl ControlApi {
    /// All nodes.
    pub fn list_nodes(&self) -> Vec<rswarm_types::Node> {
        self.store.view(|t| t.nodes().cloned().collect())
    }

    /// Updates a node's spec (availability, labels, name, desired role).
    /// A promotion or demotion is carried out by the leader's role loop;
    /// a demotion is refused here, in swarmkit's words, when it would
    /// remove the last manager or lose the managers' quorum.
    pub async fn update_node(
        &self,
        id: &str,
        version: u64,
        spec: NodeSpec,
    ) -> Result<(), ControlError> {
        validate::validate_node_spec(&spec)?;
        self.store
            .update(|tx| {
                let mut node = tx
                    .node(id)
                    .ok_or_else(|| ControlError::not_found("node", id))?;
                check_version(node.meta.version.index, version)?;
                if node.spec.role == NodeRole::Manager && spec.role == NodeRole::Worker {
                    let managers: Vec<String> = tx
                        .base()
                        .nodes()
                        .filter(|n| n.role == NodeRole::Manager)
                        .map(|n| n.id.clone())
                        .collect();
                    if managers == [node.id.as_str()] {
                        return Err(ControlError::FailedPrecondition(
                            "attempting to demote the last manager of the swarm".into(),
                        ));
                    }
                    self.check_removable(id)?;
                }
                node.spec = spec;
                tx.update(Object::Node(node))?;
                Ok(())
            })
            .await
    }

    /// Whether the manager `id` can leave the Raft group (demote): it must
    /// be a member, and the others must keep a quorum.
    fn check_removable(&self, id: &str) -> Result<(), ControlError> {
        let Some(raft) = &self.raft else {
            return Ok(());
        };
        if !raft.members().iter().any(|m| m.node_id == id) {
            return Err(ControlError::FailedPrecondition(
                "can't find manager in raft memberlist".into(),
            ));
        }
        raft.can_remove(id)
            .map_err(|_| ControlError::FailedPrecondition(rswarm_raft::WOULD_LOSE_QUORUM.into()))
    }

    /// Whether `id` is a member of the managers' Raft group.
    fn is_raft_member(&self, id: &str) -> bool {
        self.raft
            .as_ref()
            .is_some_and(|r| r.members().iter().any(|m| m.node_id == id))
    }

    /// Removes a node. A manager must be demoted first (a down one too:
    /// demoting it takes it out of the Raft group); a node that is not
    /// down needs `force`. Its unfinished tasks become orphaned.
    pub async fn remove_node(&self, id: &str, force: bool) -> Result<(), ControlError> {
        let now = self.clock.now();
        self.store
            .update(|tx| {
                let node = tx.node(id).ok_or_else(|| ControlError::not_found("node", id))?;
                let member = match &self.raft {
                    Some(_) => self.is_raft_member(id),
                    None => node.role == NodeRole::Manager,
                };
                if node.spec.role == NodeRole::Manager && member {
                    return Err(ControlError::FailedPrecondition(format!(
                        "node {id} is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal"
                    )));
                }
                if node.status.state != NodeState::Down && !force {
                    return Err(ControlError::FailedPrecondition(format!("node {id} is not down and can't be removed")));
                }
                let tasks: Vec<_> = tx.base().tasks_on_node(id).cloned().collect();
                for mut task in tasks {
                    if task.status.state >= TaskState::Assigned && task.status.state <= TaskState::Running {
                        task.status.state = TaskState::Orphaned;
                        task.status.message = "Task belonged to a node that has been deleted".into();
                        task.status.timestamp = now;
                        tx.update(Object::Task(task))?;
                    }
                }
                tx.delete(Kind::Node, id)?;
                Ok(())
            })
            .await
    }
}

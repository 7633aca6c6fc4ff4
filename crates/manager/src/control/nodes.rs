//! Node update, remove and reads.

use rswarm_store::{Kind, Object};
use rswarm_types::{ControlError, NodeRole, NodeSpec, NodeState, TaskState, validate};

use super::{ControlApi, check_version};

impl ControlApi {
    /// All nodes.
    pub fn list_nodes(&self) -> Vec<rswarm_types::Node> {
        self.store.view(|t| t.nodes().cloned().collect())
    }

    /// Updates a node's spec (availability, labels, name).
    pub async fn update_node(
        &self,
        id: &str,
        version: u64,
        spec: NodeSpec,
    ) -> Result<(), ControlError> {
        validate::validate_node_spec(&spec)?;
        self.store
            .update(|tx| {
                let mut node = tx.node(id).ok_or_else(|| ControlError::not_found("node", id))?;
                check_version(node.meta.version.index, version)?;
                let managers = tx.base().nodes().filter(|n| n.spec.role == NodeRole::Manager).count();
                if spec.role == NodeRole::Worker && node.spec.role == NodeRole::Manager && managers <= 1 {
                    return Err(ControlError::FailedPrecondition(
                        "attempting to demote the last manager of the swarm".into(),
                    ));
                }
                if spec.role != node.spec.role {
                    return Err(ControlError::NotImplemented(
                        "changing a node's role (promote/demote) is not supported yet: add managers with the manager join token (swarm join-token manager)"
                            .into(),
                    ));
                }
                node.spec = spec;
                tx.update(Object::Node(node))?;
                Ok(())
            })
            .await
    }

    /// Removes a node. Managers cannot be removed; a node that is not down
    /// needs `force`. Its unfinished tasks become orphaned.
    pub async fn remove_node(&self, id: &str, force: bool) -> Result<(), ControlError> {
        let now = self.clock.now();
        self.store
            .update(|tx| {
                let node = tx.node(id).ok_or_else(|| ControlError::not_found("node", id))?;
                if node.role == NodeRole::Manager {
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

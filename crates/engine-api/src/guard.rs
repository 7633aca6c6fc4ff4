//! Which node states may serve which endpoints, decided from
//! [`Backend::info`] before the backend is asked anything else. The
//! messages are moby's (`daemon/cluster/errors.go`, `errNoManager`).

use rswarm_types::ControlError;

use crate::backend::{Backend, LocalNodeState, NodeInfo};
use crate::error::ApiError;

/// Message for a node whose swarm is autolocked.
pub const LOCKED: &str = "Swarm is encrypted and needs to be unlocked before it can be used. Please use \"docker swarm unlock\" to unlock it.";
/// Message for a manager that is not (yet) able to serve.
pub const MANAGER_NOT_READY: &str = "This node is not a swarm manager. Manager is being prepared or has trouble connecting to the cluster.";

/// Cluster state (services, nodes, tasks, logs, `GET /swarm`, updates)
/// needs an active manager.
pub fn check_manager(info: &NodeInfo) -> Result<(), ControlError> {
    match info.state {
        LocalNodeState::Active if info.control_available => Ok(()),
        LocalNodeState::Active => Err(ControlError::WorkerNotManager),
        LocalNodeState::Inactive => Err(ControlError::NotAManager),
        LocalNodeState::Locked => Err(ControlError::Unavailable(LOCKED.into())),
        LocalNodeState::Pending => Err(ControlError::Unavailable(MANAGER_NOT_READY.into())),
        LocalNodeState::Error if info.error.is_empty() => Err(ControlError::NotAManager),
        LocalNodeState::Error => Err(ControlError::Unavailable(format!(
            "This node is not a swarm manager: {}",
            info.error
        ))),
    }
}

/// `swarm leave` needs to be in a swarm at all.
pub fn check_in_swarm(info: &NodeInfo) -> Result<(), ControlError> {
    match info.state {
        LocalNodeState::Inactive => Err(ControlError::NotInSwarm),
        _ => Ok(()),
    }
}

/// Fetches the node's state and requires an active manager.
pub async fn manager(backend: &dyn Backend) -> Result<NodeInfo, ApiError> {
    let info = backend.info().await;
    check_manager(&info)?;
    Ok(info)
}

/// The `Swarm` header of `/_ping`.
pub fn swarm_status(info: &NodeInfo) -> &'static str {
    match info.state {
        LocalNodeState::Active if info.control_available => "active/manager",
        LocalNodeState::Active => "active/worker",
        other => other.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(state: LocalNodeState, control: bool) -> NodeInfo {
        NodeInfo {
            state,
            control_available: control,
            ..Default::default()
        }
    }

    #[test]
    fn states() {
        assert_eq!(check_manager(&info(LocalNodeState::Active, true)), Ok(()));
        assert_eq!(
            check_manager(&info(LocalNodeState::Active, false)),
            Err(ControlError::WorkerNotManager)
        );
        assert_eq!(
            check_manager(&info(LocalNodeState::Inactive, false)),
            Err(ControlError::NotAManager)
        );
        assert_eq!(
            check_in_swarm(&info(LocalNodeState::Inactive, false)),
            Err(ControlError::NotInSwarm)
        );
        assert_eq!(
            swarm_status(&info(LocalNodeState::Active, false)),
            "active/worker"
        );
        assert_eq!(
            swarm_status(&info(LocalNodeState::Active, true)),
            "active/manager"
        );
        assert_eq!(swarm_status(&info(LocalNodeState::Locked, false)), "locked");
        assert_eq!(
            swarm_status(&info(LocalNodeState::Inactive, false)),
            "inactive"
        );
    }
}

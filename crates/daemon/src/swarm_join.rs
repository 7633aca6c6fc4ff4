//! `swarm join`: gets a certificate from a manager with a join token
//! (the token pins the cluster CA) and starts this node as a worker, or,
//! with the manager token, as a manager joining the Raft group.

use rswarm_agent::remote::{JoinError, join};
use rswarm_engine_api::JoinRequest;
use rswarm_types::{ControlError, NodeRole};

use crate::addr::{
    SystemInterfaces, default_advertise, host_of, resolve_advertise, resolve_data_path,
    resolve_listen, with_port,
};
use crate::node::{LocalNode, SwarmConfig};

impl LocalNode {
    /// Joins the swarm whose manager is at `req.RemoteAddrs[0]`.
    pub async fn join(&self, req: JoinRequest) -> Result<(), ControlError> {
        if self.membership.lock().await.is_some() {
            return Err(ControlError::AlreadyInSwarm);
        }
        let remote = req
            .remote_addrs
            .first()
            .filter(|a| !a.trim().is_empty())
            .ok_or_else(|| ControlError::invalid("at least 1 RemoteAddr is required to join"))?;
        let manager = with_port(remote)?;
        if req.join_token.trim().is_empty() {
            return Err(ControlError::invalid(
                "a join token is required to join a swarm",
            ));
        }
        let listen_addr = resolve_listen(&req.listen_addr, &SystemInterfaces)?;
        // As in Docker, a bad advertise address does not stop a join: the
        // node then advertises the address it would pick by itself.
        let advertise_addr =
            resolve_advertise(&req.advertise_addr, &listen_addr, &SystemInterfaces)
                .ok()
                .flatten()
                .unwrap_or_else(|| default_advertise(&listen_addr));
        let data_path_addr = resolve_data_path(&req.data_path_addr, &SystemInterfaces)?;
        let ip = host_of(&advertise_addr).to_string();
        let identity = join(&manager, req.join_token.trim(), req.availability, &ip)
            .await
            .map_err(join_error)?;
        identity
            .save(&self.paths.certificates())
            .map_err(|e| ControlError::Internal(format!("saving the node certificate: {e}")))?;
        let role = identity.role;
        let config = SwarmConfig {
            node_id: identity.node_id.clone(),
            cluster_id: identity.cluster_id.clone(),
            role,
            advertise_addr: match role {
                // Other managers reach this one's swarm port.
                NodeRole::Manager => with_port(&advertise_addr).unwrap_or(advertise_addr),
                NodeRole::Worker => advertise_addr,
            },
            listen_addr,
            data_path_addr,
            managers: vec![manager.clone()],
        };
        if role == NodeRole::Worker {
            return self.activate(config, identity, None).await;
        }
        // A manager serves its swarm port (with its Raft service) first, then
        // asks the group to take it in: the leader streams it the state.
        let raft = self.open_raft(&config, &identity, false).await?;
        self.activate(config, identity, Some(raft.clone())).await?;
        if let Err(e) = raft.join(&manager).await {
            self.deactivate().await;
            let _ = std::fs::remove_dir_all(self.paths.swarm());
            return Err(ControlError::Unavailable(format!(
                "could not join the managers' Raft group: {e}"
            )));
        }
        Ok(())
    }
}

fn join_error(e: JoinError) -> ControlError {
    match e {
        JoinError::InvalidToken(m) => ControlError::InvalidArgument(m),
        other => ControlError::InvalidArgument(other.to_string()),
    }
}

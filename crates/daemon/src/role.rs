//! Promotion and demotion of this node, driven by the managers.
//!
//! ```text
//! docker node promote|demote ─► leader: Spec.Role ─► role loop: Role
//!        (a demotion first leaves the Raft group)          │
//!   Session stream: node_role ◄────────────────────────────┘
//!        │ differs from the certificate's role
//!        ▼
//!   renew the certificate (mTLS, the recorded role) and save it
//!   promote: open Raft, start the manager (gRPC server, loops), ask a
//!            manager to take this node into the group (retried)
//!   demote:  stop the manager and Raft, delete the Raft state
//! ```
//!
//! The agent keeps running throughout: tasks are not touched.

use std::sync::Arc;
use std::time::Duration;

use rswarm_agent::remote::renew;
use rswarm_pki::NodeIdentity;
use rswarm_raft::RaftNode;
use rswarm_rt::Shutdown;
use rswarm_types::{ControlError, NodeRole};

use crate::addr::with_port;
use crate::node::{LocalNode, SwarmConfig};

/// Pause between attempts of a role change or of joining the group.
const RETRY: Duration = Duration::from_secs(1);

impl LocalNode {
    /// Follows the role the managers state for this node until
    /// `shutdown`, retrying a change that fails until it is done or
    /// another role is asked for.
    pub async fn supervise_role(self: Arc<Self>, shutdown: Shutdown) {
        let mut stated = self.stated_role.subscribe();
        loop {
            let want = *stated.borrow_and_update();
            if let Some(want) = want {
                while let Err(e) = self.change_role(want).await {
                    tracing::warn!("becoming a {}: {e}; retrying", want.as_str());
                    tokio::select! {
                        _ = shutdown.wait() => return,
                        _ = tokio::time::sleep(RETRY) => {}
                    }
                    if *stated.borrow() != Some(want) {
                        break;
                    }
                }
            }
            tokio::select! {
                _ = shutdown.wait() => return,
                changed = stated.changed() => if changed.is_err() { return },
            }
        }
    }

    /// Makes this node a `want` if it is not one: a certificate for the
    /// new role, then its manager started or stopped.
    async fn change_role(&self, want: NodeRole) -> Result<(), ControlError> {
        let _one_at_a_time = self.role_change.lock().await;
        let (config, managers) = {
            let m = self.membership.lock().await;
            let Some(active) = m.as_ref().filter(|a| a.config.role != want) else {
                return Ok(());
            };
            (active.config.clone(), active.client.managers())
        };
        let identity = renew(&managers, &self.identity()?)
            .await
            .map_err(|e| ControlError::Unavailable(format!("renewing the certificate: {e}")))?;
        if identity.role != want {
            return Err(ControlError::Unavailable(format!(
                "the managers still record this node as a {}",
                identity.role.as_str()
            )));
        }
        identity
            .save(&self.paths.certificates())
            .map_err(|e| ControlError::Internal(format!("saving the node certificate: {e}")))?;
        match want {
            NodeRole::Manager => self.promote(config, identity, managers).await,
            NodeRole::Worker => self.demote(managers).await,
        }
    }

    /// Starts this node's manager and has it join the managers' group.
    async fn promote(
        &self,
        mut config: SwarmConfig,
        identity: NodeIdentity,
        managers: Vec<String>,
    ) -> Result<(), ControlError> {
        config.role = NodeRole::Manager;
        // Other managers reach this one's swarm port.
        config.advertise_addr =
            with_port(&config.advertise_addr).unwrap_or(config.advertise_addr.clone());
        config.managers = managers
            .into_iter()
            .filter(|m| *m != config.advertise_addr)
            .collect();
        let raft = self.open_raft(&config, &identity, false).await?;
        let mut m = self.membership.lock().await;
        let Some(active) = m.as_mut() else {
            drop(m);
            let _ = raft.shutdown().await;
            return Ok(());
        };
        let (manager, managing) = match self
            .start_manager(&config, &identity, raft.clone(), &active.shutdown)
            .await
        {
            Ok(started) => started,
            Err(e) => {
                drop(m);
                let _ = raft.shutdown().await;
                return Err(e);
            }
        };
        self.save_config(&config)?;
        let stop = active.shutdown.clone();
        active.manager = Some(manager);
        active.managing = Some(managing);
        active.config = config.clone();
        drop(m);
        tracing::info!("promoted: this node is now a manager; joining the managers' Raft group");
        tokio::spawn(join_group(raft, config.managers, stop));
        Ok(())
    }

    /// Stops this node's manager (already out of the group) and deletes
    /// its Raft state; the agent goes on with the other managers.
    async fn demote(&self, managers: Vec<String>) -> Result<(), ControlError> {
        let managing = {
            let mut m = self.membership.lock().await;
            let Some(active) = m.as_mut() else {
                return Ok(());
            };
            let mut config = active.config.clone();
            config.role = NodeRole::Worker;
            config.managers = managers
                .into_iter()
                .filter(|a| *a != config.advertise_addr)
                .collect();
            self.save_config(&config)?;
            active.config = config;
            active.manager = None;
            active.managing.take()
        };
        if let Some(managing) = managing {
            managing.stop().await;
        }
        let dir = self.paths.raft();
        if let Err(e) = std::fs::remove_dir_all(&dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("removing {}: {e}", dir.display());
        }
        tracing::info!("demoted: this node is now a worker");
        Ok(())
    }

    /// After a restart: a manager that was promoted but had not joined the
    /// group yet (its Raft state has no members) asks again.
    pub(crate) async fn rejoin_if_promoted(&self) {
        let m = self.membership.lock().await;
        let Some(active) = m.as_ref() else { return };
        if let Some(managing) = &active.managing
            && managing.raft.members().is_empty()
            && !active.config.managers.is_empty()
        {
            tokio::spawn(join_group(
                managing.raft.clone(),
                active.config.managers.clone(),
                active.shutdown.clone(),
            ));
        }
    }
}

/// Asks the managers at `addrs`, in turn, to take this manager into the
/// Raft group, until one does or `stop` fires.
async fn join_group(raft: RaftNode, addrs: Vec<String>, stop: Shutdown) {
    loop {
        for addr in &addrs {
            let joined = tokio::select! {
                _ = stop.wait() => return,
                joined = raft.join(addr) => joined,
            };
            match joined {
                Ok(()) => {
                    tracing::info!("joined the managers' Raft group through {addr}");
                    return;
                }
                Err(e) => tracing::info!("joining the managers' Raft group through {addr}: {e}"),
            }
        }
        tokio::select! {
            _ = stop.wait() => return,
            _ = tokio::time::sleep(RETRY) => {}
        }
    }
}

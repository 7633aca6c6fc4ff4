//! `swarm init --force-new-cluster` on a manager already in a swarm
//! (typically one that lost its quorum): as moby's `Cluster.Init`, the
//! node stops, its Raft state is rewritten as a one-manager cluster
//! (every committed object kept: services, tasks, nodes, CA, join
//! tokens), and it starts again as the only manager, at the addresses
//! of the request. Then, as moby's `initClusterSpec`, the non-zero fields
//! of the request's spec are merged into the cluster's spec.

use std::time::Duration;

use rswarm_engine_api::InitRequest;
use rswarm_manager::control::ControlOp;
use rswarm_types::{ControlError, SwarmSpec};

use crate::node::{LocalNode, SwarmConfig};
use crate::swarm_init::{check_port_free, swarm_addresses};

/// How long the lone manager may take to elect itself.
const LEADERSHIP_WAIT: Duration = Duration::from_secs(20);

impl LocalNode {
    /// Makes this manager the only manager of its swarm; returns its node
    /// ID. Refused on a worker (moby's `errSwarmNotManager`).
    pub async fn force_new_cluster(&self, req: InitRequest) -> Result<String, ControlError> {
        if req.auto_lock_managers {
            return Err(ControlError::NotImplemented(
                "autolock is not supported yet".into(),
            ));
        }
        match self.membership.lock().await.as_ref() {
            None => return Err(ControlError::NotInSwarm),
            Some(active) if active.manager.is_none() => {
                return Err(ControlError::WorkerNotManager);
            }
            Some(_) => {}
        }
        let (listen_addr, advertise_addr, data_path_addr) = swarm_addresses(&req)?;
        let identity = self.identity()?;
        let Some(old) = self.deactivate().await else {
            return Err(ControlError::NotInSwarm);
        };
        tracing::warn!(
            "swarm init --force-new-cluster: {} becomes the only manager of swarm {}",
            old.node_id,
            old.cluster_id
        );
        let config = SwarmConfig {
            listen_addr,
            advertise_addr,
            data_path_addr: data_path_addr.or(old.data_path_addr.clone()),
            managers: Vec::new(),
            ..old.clone()
        };
        let opened = match check_port_free(&config.listen_addr).await {
            Ok(()) => self.open_raft(&config, &identity, true).await,
            Err(e) => Err(e),
        };
        let raft = match opened {
            Ok(raft) => raft,
            Err(e) => {
                // Back to what it was (state.json still holds it).
                if let Err(again) = self.restore().await {
                    tracing::error!(
                        "restarting the node after a failed force-new-cluster: {again}"
                    );
                }
                return Err(e);
            }
        };
        self.activate(config, identity, Some(raft.clone())).await?;
        raft.wait_leadership(LEADERSHIP_WAIT, |l| l.is_leader)
            .await
            .map_err(|e| {
                ControlError::Unavailable(format!(
                    "the new cluster did not elect this manager: {e}"
                ))
            })?;
        self.merge_init_spec(&req.spec).await?;
        Ok(old.node_id)
    }

    /// Writes the request's non-zero spec fields into the cluster's spec.
    async fn merge_init_spec(&self, given: &SwarmSpec) -> Result<(), ControlError> {
        let manager = self
            .membership
            .lock()
            .await
            .as_ref()
            .and_then(|a| a.manager.clone())
            .ok_or(ControlError::NotAManager)?;
        let cluster = manager.control.cluster()?;
        let spec = merged_spec(&cluster.spec, given);
        if spec == cluster.spec {
            return Ok(());
        }
        manager
            .submit(ControlOp::UpdateCluster {
                version: cluster.meta.version.index,
                spec,
                rotate_worker: false,
                rotate_manager: false,
            })
            .await
            .map(drop)
            .map_err(|e| ControlError::Internal(format!("error updating cluster settings: {e}")))
    }
}

/// moby's `MergeSwarmSpecToGRPC`: `current` with every non-zero field of
/// `given` (an init request's spec, zero where no flag was given).
pub fn merged_spec(current: &SwarmSpec, given: &SwarmSpec) -> SwarmSpec {
    let mut spec = current.clone();
    if !given.labels.is_empty() {
        spec.labels = given.labels.clone();
    }
    if given.orchestration.task_history_retention_limit.is_some() {
        spec.orchestration.task_history_retention_limit =
            given.orchestration.task_history_retention_limit;
    }
    let (r, g) = (&mut spec.raft, &given.raft);
    if g.snapshot_interval != 0 {
        r.snapshot_interval = g.snapshot_interval;
    }
    if g.keep_old_snapshots.is_some() {
        r.keep_old_snapshots = g.keep_old_snapshots;
    }
    if g.log_entries_for_slow_followers != 0 {
        r.log_entries_for_slow_followers = g.log_entries_for_slow_followers;
    }
    if g.heartbeat_tick != 0 {
        r.heartbeat_tick = g.heartbeat_tick;
    }
    if g.election_tick != 0 {
        r.election_tick = g.election_tick;
    }
    if given.dispatcher.heartbeat_period.is_some_and(|p| p != 0) {
        spec.dispatcher.heartbeat_period = given.dispatcher.heartbeat_period;
    }
    let (c, g) = (&mut spec.ca_config, &given.ca_config);
    if g.node_cert_expiry.is_some_and(|e| e != 0) {
        c.node_cert_expiry = g.node_cert_expiry;
    }
    c.external_cas.extend(g.external_cas.iter().cloned());
    if given.task_defaults.log_driver.is_some() {
        spec.task_defaults.log_driver = given.task_defaults.log_driver.clone();
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_given_fields_change() {
        let mut current = SwarmSpec::default();
        current.fill_defaults();
        assert_eq!(merged_spec(&current, &SwarmSpec::default()), current);
        let mut given = SwarmSpec::default();
        given.orchestration.task_history_retention_limit = Some(2);
        given.dispatcher.heartbeat_period = Some(rswarm_types::SECOND);
        let merged = merged_spec(&current, &given);
        assert_eq!(merged.orchestration.task_history_retention_limit, Some(2));
        assert_eq!(
            merged.dispatcher.heartbeat_period,
            Some(rswarm_types::SECOND)
        );
        assert_eq!(merged.raft, current.raft);
        assert_eq!(merged.ca_config, current.ca_config);
    }
}

//! The cluster object: bootstrap on `swarm init`, reads and `swarm update`
//! (including join token rotation).

use rswarm_pki::{RootCa, generate_join_token};
use rswarm_store::Object;
use rswarm_types::{Cluster, ControlError, Node, SwarmSpec};

use super::{ControlApi, check_version};

/// Which join tokens `swarm update` should replace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenRotation {
    /// A new worker token.
    pub worker: bool,
    /// A new manager token.
    pub manager: bool,
}

impl ControlApi {
    /// Writes the first objects of a new swarm: the cluster, this node
    /// and the `ingress` network.
    pub async fn bootstrap(&self, cluster: Cluster, node: Node) -> Result<(), ControlError> {
        let now = self.clock.now();
        self.store
            .update(|tx| {
                tx.create(Object::Cluster(cluster))?;
                tx.create(Object::Node(node))?;
                let mut with_cluster = tx.base().clone();
                if let Some(c) = tx.cluster() {
                    with_cluster.insert(Object::Cluster(c));
                }
                let ingress = super::new_network(&with_cluster, super::ingress_spec(), now)?;
                tx.create(Object::Network(ingress))?;
                Ok(())
            })
            .await
    }

    /// The cluster object (with its CA key: callers redact).
    pub fn cluster(&self) -> Result<Cluster, ControlError> {
        self.store
            .view(|t| t.cluster().cloned())
            .ok_or(ControlError::NotInSwarm)
    }

    /// Updates the swarm spec (defaults filled) and rotates join tokens.
    pub async fn update_cluster(
        &self,
        version: u64,
        mut spec: SwarmSpec,
        rotation: TokenRotation,
    ) -> Result<(), ControlError> {
        spec.fill_defaults();
        if spec
            .ca_config
            .node_cert_expiry
            .is_some_and(|e| e < 3600 * rswarm_types::SECOND)
        {
            return Err(ControlError::invalid(
                "minimum certificate expiry time is 1h0m0s",
            ));
        }
        if spec.dispatcher.heartbeat_period.is_some_and(|p| p < 0) {
            return Err(ControlError::invalid(
                "Dispatcher.HeartbeatPeriod must not be negative",
            ));
        }
        if spec.encryption_config.auto_lock_managers {
            return Err(ControlError::NotImplemented(
                "autolock is not supported yet".into(),
            ));
        }
        self.store
            .update(|tx| {
                let mut cluster = tx.cluster().ok_or(ControlError::NotInSwarm)?;
                check_version(cluster.meta.version.index, version)?;
                if rotation.worker || rotation.manager {
                    let root = RootCa::from_cert_pem(cluster.ca_cert_pem.clone()).map_err(|e| {
                        ControlError::Internal(format!("cluster root CA unreadable: {e}"))
                    })?;
                    if rotation.worker {
                        cluster.join_tokens.worker = generate_join_token(&root);
                    }
                    if rotation.manager {
                        cluster.join_tokens.manager = generate_join_token(&root);
                    }
                }
                cluster.spec = spec;
                tx.update(Object::Cluster(cluster))?;
                Ok(())
            })
            .await
    }
}

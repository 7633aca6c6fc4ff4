//! `swarm init`: creates the cluster identity (root CA, node certificate,
//! join tokens) and the first objects of the store.

use rswarm_engine_api::InitRequest;
use rswarm_pki::{NodeIdentity, RootCa, generate_join_token};
use rswarm_types::{
    Availability, Cluster, ControlError, JoinTokens, ManagerStatus, Node, NodeRole, NodeSpec,
    NodeState, NodeStatus,
};

use crate::addr::{
    SystemInterfaces, default_advertise, host_of, resolve_advertise, resolve_data_path,
    resolve_listen,
};
use crate::node::{LocalNode, SwarmConfig};

/// The listen, advertise and data path addresses of an init request.
pub(crate) fn swarm_addresses(
    req: &InitRequest,
) -> Result<(String, String, Option<String>), ControlError> {
    let listen_addr = resolve_listen(&req.listen_addr, &SystemInterfaces)?;
    let advertise_addr = resolve_advertise(&req.advertise_addr, &listen_addr, &SystemInterfaces)?
        .unwrap_or_else(|| default_advertise(&listen_addr));
    let data_path_addr = resolve_data_path(&req.data_path_addr, &SystemInterfaces)?;
    Ok((listen_addr, advertise_addr, data_path_addr))
}

/// Fails before writing anything when the swarm port is taken.
pub(crate) async fn check_port_free(listen_addr: &str) -> Result<(), ControlError> {
    tokio::net::TcpListener::bind(listen_addr)
        .await
        .map(drop)
        .map_err(|e| {
            ControlError::Unavailable(format!("cannot listen on {listen_addr} for the swarm: {e}"))
        })
}

impl LocalNode {
    /// Creates a new swarm with this node as its only manager; on a
    /// manager already in a swarm, `--force-new-cluster` makes it the only
    /// manager of its swarm instead (see [`crate::force_new_cluster`]).
    pub async fn init(
        &self,
        req: InitRequest,
        description: rswarm_types::NodeDescription,
    ) -> Result<String, ControlError> {
        if self.membership.lock().await.is_some() {
            if req.force_new_cluster {
                return self.force_new_cluster(req).await;
            }
            return Err(ControlError::AlreadyInSwarm);
        }
        // Outside a swarm, `--force-new-cluster` simply creates one (Docker).
        if req.auto_lock_managers {
            return Err(ControlError::NotImplemented(
                "autolock is not supported yet".into(),
            ));
        }
        let (listen_addr, advertise_addr, data_path_addr) = swarm_addresses(&req)?;
        check_port_free(&listen_addr).await?;
        let mut spec = req.spec;
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

        let now = self.clock.now();
        let node_id = rswarm_rt::new_id();
        let cluster_id = rswarm_rt::new_id();
        let internal = |e: rswarm_pki::PkiError| {
            ControlError::Internal(format!("creating the cluster CA: {e}"))
        };
        let root = RootCa::generate(now).map_err(internal)?;
        let (cert_pem, key_pem) = root
            .issue_self(&node_id, NodeRole::Manager, &cluster_id, now)
            .map_err(internal)?;
        let identity =
            NodeIdentity::from_pems(cert_pem, key_pem, root.cert_pem()).map_err(internal)?;

        let cluster = Cluster {
            id: cluster_id.clone(),
            spec,
            ca_cert_pem: root.cert_pem().to_string(),
            ca_key_pem: root.key_pem().unwrap_or_default().to_string(),
            join_tokens: JoinTokens {
                worker: generate_join_token(&root),
                manager: generate_join_token(&root),
            },
            // Empty until given (Docker shows `null`); the allocator's default
            // pool is 10.0.0.0/8.
            default_addr_pool: req.default_addr_pool.unwrap_or_default(),
            subnet_size: if req.subnet_size == 0 {
                24
            } else {
                req.subnet_size
            },
            data_path_port: if req.data_path_port == 0 {
                4789
            } else {
                req.data_path_port
            },
            ..Default::default()
        };
        let ip = host_of(&advertise_addr).to_string();
        let node = Node {
            id: node_id.clone(),
            spec: NodeSpec {
                role: NodeRole::Manager,
                availability: req.availability.unwrap_or(Availability::Active),
                ..Default::default()
            },
            description,
            status: NodeStatus {
                state: NodeState::Ready,
                message: String::new(),
                addr: ip,
            },
            manager_status: Some(ManagerStatus {
                leader: true,
                reachability: "reachable".into(),
                addr: advertise_addr.clone(),
            }),
            role: NodeRole::Manager,
            ..Default::default()
        };
        identity
            .save(&self.paths.certificates())
            .map_err(internal)?;
        let config = SwarmConfig {
            node_id: node_id.clone(),
            cluster_id,
            role: NodeRole::Manager,
            advertise_addr,
            listen_addr,
            data_path_addr,
            managers: Vec::new(),
        };
        let raft = self.open_raft(&config, &identity, false).await?;
        let bootstrap = async {
            raft.initialize()
                .await
                .map_err(|e| ControlError::Internal(format!("starting the Raft group: {e}")))?;
            rswarm_manager::ControlApi::new(raft.store(), self.clock.clone())
                .bootstrap(cluster, node)
                .await
        };
        if let Err(e) = bootstrap.await {
            let _ = raft.shutdown().await;
            return Err(e);
        }
        self.activate(config, identity, Some(raft)).await?;
        Ok(node_id)
    }
}

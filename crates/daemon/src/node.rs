//! The local node's membership: outside any swarm, or active as a manager
//! (store, leader loops, gRPC server and a local agent) or as a worker (an
//! agent whose dispatcher is a remote manager over mutual TLS). Start,
//! restart (from the data root), join and leave happen here.

use std::sync::Arc;

use rswarm_agent::Agent;
use rswarm_agent::remote::RemoteDispatcherClient;
use rswarm_exec::{Executor, LogStore};
use rswarm_manager::Manager;
use rswarm_pki::NodeIdentity;
use rswarm_raft::{RaftNode, RaftNodeConfig, RaftTiming};
use rswarm_rt::{Clock, Shutdown};
use rswarm_types::{ControlError, NodeRole};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;

use crate::networking::Networking;
use crate::paths::Paths;

/// What the node remembers about its swarm membership (`swarm/state.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SwarmConfig {
    /// This node's ID.
    pub node_id: String,
    /// The cluster's ID.
    pub cluster_id: String,
    /// The node's role (from its certificate).
    #[serde(default)]
    pub role: NodeRole,
    /// The address other nodes reach this one at (`ip:port`).
    pub advertise_addr: String,
    /// The address the manager listens on.
    pub listen_addr: String,
    /// The address of data path traffic (`--data-path-addr`), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_path_addr: Option<String>,
    /// Managers a worker connects to (`ip:port`).
    #[serde(default)]
    pub managers: Vec<String>,
}

impl SwarmConfig {
    /// The advertised IP without the port.
    pub fn advertise_ip(&self) -> &str {
        crate::addr::host_of(&self.advertise_addr)
    }
}

/// A node that is part of a swarm.
#[derive(Debug)]
pub struct Active {
    /// Membership facts.
    pub config: SwarmConfig,
    /// The manager, on manager nodes.
    pub manager: Option<Manager>,
    /// What runs the manager (stopped on demotion and deactivation).
    pub(crate) managing: Option<Managing>,
    /// The agent's session with the managers.
    pub(crate) client: Arc<RemoteDispatcherClient>,
    pub(crate) shutdown: Shutdown,
    handles: Vec<JoinHandle<()>>,
    /// The node's data plane, when it runs here.
    data_plane: Option<Arc<rswarm_network::LinuxDataPlane>>,
}

/// A manager's running parts: its Raft node, gRPC server and loops.
#[derive(Debug)]
pub(crate) struct Managing {
    pub(crate) raft: RaftNode,
    shutdown: Shutdown,
    handles: Vec<JoinHandle<()>>,
}

impl Managing {
    /// Stops the server and loops, then the Raft node.
    pub(crate) async fn stop(self) {
        self.shutdown.trigger();
        for h in self.handles {
            let _ = h.await;
        }
        if let Err(e) = self.raft.shutdown().await {
            tracing::warn!("stopping the Raft node: {e}");
        }
    }
}

/// The local node.
#[derive(Debug)]
pub struct LocalNode {
    /// Data root layout.
    pub paths: Paths,
    /// Hostname reported to the swarm.
    pub hostname: String,
    /// Task executor.
    pub executor: Arc<dyn Executor>,
    /// Task output store.
    pub logs: LogStore,
    /// Wall clock.
    pub clock: Arc<dyn Clock>,
    /// `None` when outside any swarm.
    pub membership: Mutex<Option<Active>>,
    /// The node's role as the managers' sessions state it (see `role`).
    pub(crate) stated_role: Arc<watch::Sender<Option<NodeRole>>>,
    /// One role change at a time.
    pub(crate) role_change: Mutex<()>,
    shutdown: Shutdown,
    /// The data plane's place, when it can run here.
    networking: Option<Networking>,
}

impl LocalNode {
    /// A node outside any swarm.
    pub fn new(
        paths: Paths,
        hostname: String,
        executor: Arc<dyn Executor>,
        logs: LogStore,
        clock: Arc<dyn Clock>,
        shutdown: Shutdown,
    ) -> LocalNode {
        LocalNode {
            paths,
            hostname,
            executor,
            logs,
            clock,
            membership: Mutex::new(None),
            stated_role: Arc::new(watch::Sender::new(None)),
            role_change: Mutex::new(()),
            shutdown,
            networking: None,
        }
    }

    /// Gives tasks their networks through a data plane under
    /// `networking` (see [`crate::networking`]).
    pub fn with_networking(mut self, networking: Option<Networking>) -> LocalNode {
        self.networking = networking;
        self
    }

    /// Rejoins the swarm recorded in the data root, if any.
    pub async fn restore(&self) -> Result<(), ControlError> {
        let path = self.paths.state_file();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                return Err(ControlError::Internal(format!(
                    "reading {}: {e}",
                    path.display()
                )));
            }
        };
        let mut config: SwarmConfig = serde_json::from_slice(&bytes)
            .map_err(|e| ControlError::Internal(format!("parsing {}: {e}", path.display())))?;
        let identity = self.identity()?;
        config.role = identity.role;
        let raft = match identity.role {
            NodeRole::Manager => Some(self.open_raft(&config, &identity, false).await?),
            NodeRole::Worker => None,
        };
        self.activate(config, identity, raft).await?;
        self.rejoin_if_promoted().await;
        Ok(())
    }

    /// The node's certificate and key.
    pub fn identity(&self) -> Result<NodeIdentity, ControlError> {
        NodeIdentity::load(&self.paths.certificates())
            .map_err(|e| ControlError::Internal(format!("loading node identity: {e}")))
    }

    /// Opens this manager's Raft node (and so the cluster store) under
    /// the data root; other managers reach it at the advertised address.
    pub async fn open_raft(
        &self,
        config: &SwarmConfig,
        identity: &NodeIdentity,
        force_new_cluster: bool,
    ) -> Result<RaftNode, ControlError> {
        // The daemon's tick flags; compaction follows the swarm spec.
        let timing: RaftTiming = crate::args::raft_timing();
        let raft_config = RaftNodeConfig {
            dir: self.paths.raft(),
            addr: config.advertise_addr.clone(),
            identity: identity.clone(),
            timing,
            force_new_cluster,
        };
        RaftNode::open(raft_config, self.clock.clone())
            .await
            .map_err(|e| ControlError::Internal(format!("opening the Raft store: {e}")))
    }

    /// Records the membership and starts the node's components: on a
    /// manager its Raft node's store, the leader loops (while it leads)
    /// and the gRPC server; on every node an agent talking to the
    /// managers' leader over mutual TLS.
    pub async fn activate(
        &self,
        config: SwarmConfig,
        identity: NodeIdentity,
        raft: Option<RaftNode>,
    ) -> Result<(), ControlError> {
        self.save_config(&config)?;
        self.executor.cleanup_leftovers(&config.node_id).await;
        let killed = rswarm_exec::kill_leftovers(&config.node_id);
        if killed > 0 {
            tracing::info!(
                "stopped {killed} task process group(s) left by an earlier run of this node"
            );
        }
        let shutdown = self.shutdown.child();
        let data_plane = match &self.networking {
            Some(n) => n.data_plane(config.advertise_ip()).await,
            None => None,
        };
        let mut agent = Agent::new(
            self.hostname.clone(),
            crate::run::ENGINE_VERSION.to_string(),
            self.executor.clone(),
            self.clock.clone(),
        )
        .with_tls_info(identity.tls_info());
        if let Some(dp) = &data_plane {
            agent = agent.with_data_plane(dp.clone());
        }
        // The agent asks this node's own manager first: the leader
        // dispatches, a follower sends it on to the others.
        let mut managers = Vec::new();
        let (manager, managing) = match raft {
            Some(raft) => {
                let (manager, managing) = self
                    .start_manager(&config, &identity, raft, &shutdown)
                    .await?;
                managers.push(config.advertise_addr.clone());
                (Some(manager), Some(managing))
            }
            None => (None, None),
        };
        managers.extend(config.managers.iter().cloned());
        self.stated_role.send_replace(None);
        let client =
            RemoteDispatcherClient::new(managers, identity, config.advertise_ip().to_string())
                .with_logs(self.logs.clone())
                .with_role_sender(self.stated_role.clone());
        let client = Arc::new(client);
        let handles = vec![tokio::spawn(agent.run(client.clone(), shutdown.clone()))];
        *self.membership.lock().await = Some(Active {
            config,
            manager,
            managing,
            client,
            shutdown,
            handles,
            data_plane,
        });
        Ok(())
    }

    /// Starts a manager over `raft`: its gRPC server on the listen
    /// address and its loops (leader loops while it leads), stopped by
    /// [`Managing::stop`] or when `parent` fires.
    pub(crate) async fn start_manager(
        &self,
        config: &SwarmConfig,
        identity: &NodeIdentity,
        raft: RaftNode,
        parent: &Shutdown,
    ) -> Result<(Manager, Managing), ControlError> {
        let manager = Manager::replicated(raft.clone(), identity, self.clock.clone())?
            .with_network_key_period(crate::args::network_key_rotation());
        let listener = tokio::net::TcpListener::bind(&config.listen_addr)
            .await
            .map_err(|e| {
                ControlError::Unavailable(format!(
                    "cannot listen on {} for the swarm: {e}",
                    config.listen_addr
                ))
            })?;
        let shutdown = parent.child();
        let (m, id, stop) = (manager.clone(), identity.clone(), shutdown.clone());
        let handles = vec![
            tokio::spawn(async move {
                if let Err(e) = rswarm_manager::grpc::serve(listener, id, m, stop).await {
                    tracing::error!("swarm gRPC server stopped: {e}");
                }
            }),
            tokio::spawn(manager.clone().run(shutdown.clone())),
        ];
        Ok((
            manager,
            Managing {
                raft,
                shutdown,
                handles,
            },
        ))
    }

    /// Writes the membership facts to `swarm/state.json`.
    pub(crate) fn save_config(&self, config: &SwarmConfig) -> Result<(), ControlError> {
        let bytes =
            serde_json::to_vec_pretty(config).map_err(|e| ControlError::Internal(e.to_string()))?;
        write_atomic(&self.paths.state_file(), &bytes)
    }

    /// Stops the manager and the agent (task processes are stopped).
    pub async fn deactivate(&self) -> Option<SwarmConfig> {
        let active = self.membership.lock().await.take()?;
        active.shutdown.trigger();
        for h in active.handles {
            let _ = h.await;
        }
        if let Some(dp) = &active.data_plane {
            crate::networking::remove_all(dp).await;
        }
        if let Some(managing) = active.managing {
            managing.stop().await;
        }
        self.executor
            .cleanup_leftovers(&active.config.node_id)
            .await;
        Some(active.config)
    }

    /// Leaves the swarm: stops everything and wipes the swarm state. A
    /// manager needs `force` (it would erase the swarm's state).
    pub async fn leave(&self, force: bool) -> Result<(), ControlError> {
        {
            let m = self.membership.lock().await;
            let Some(active) = m.as_ref() else {
                return Err(ControlError::NotInSwarm);
            };
            if let Some(manager) = active.manager.as_ref().filter(|_| !force) {
                // As moby: count the managers' statuses the leader recorded.
                let (reachable, unreachable) = manager.store.view(|t| {
                    t.nodes()
                        .filter_map(|n| n.manager_status.as_ref())
                        .fold((0, 0), |(r, u), m| match m.reachability.as_str() {
                            "reachable" => (r + 1, u),
                            "unreachable" => (r, u + 1),
                            _ => (r, u),
                        })
                });
                return Err(ControlError::Unavailable(manager_leave_refusal(
                    reachable,
                    unreachable,
                )));
            }
        }
        self.deactivate().await;
        for dir in [self.paths.swarm(), self.paths.logs()] {
            if let Err(e) = std::fs::remove_dir_all(&dir)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                return Err(ControlError::Internal(format!(
                    "removing {}: {e}",
                    dir.display()
                )));
            }
        }
        Ok(())
    }
}

/// moby's refusal of `swarm leave` without `--force` on a manager, with
/// its count of `reachable` and `unreachable` managers (this one included).
pub fn manager_leave_refusal(reachable: usize, unreachable: usize) -> String {
    let mut msg = String::from(
        "You are attempting to leave the swarm on a node that is participating as a manager. ",
    );
    // moby's removingManagerCausesLossOfQuorum: reachable-2 <= unreachable.
    if reachable <= unreachable + 2 {
        if reachable <= 1 && unreachable == 0 {
            msg.push_str("Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message. ");
            return msg.trim_end().to_string();
        }
        msg.push_str(&format!(
            "Removing this node leaves {} managers out of {}. Without a Raft quorum your swarm will be inaccessible. ",
            reachable.saturating_sub(1),
            reachable + unreachable
        ));
    }
    msg.push_str("The only way to restore a swarm that has lost consensus is to reinitialize it with `--force-new-cluster`. Use `--force` to suppress this message.");
    msg
}

/// Writes a file via a temporary file and rename.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<(), ControlError> {
    let io = |e: std::io::Error| ControlError::Internal(format!("writing {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        rswarm_rt::private::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension("tmp");
    rswarm_rt::private::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
mod leave_tests {
    use super::manager_leave_refusal;

    #[test]
    fn refusals_in_mobys_words() {
        assert_eq!(
            manager_leave_refusal(1, 0),
            "You are attempting to leave the swarm on a node that is participating as a manager. Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message."
        );
        assert_eq!(
            manager_leave_refusal(2, 1),
            "You are attempting to leave the swarm on a node that is participating as a manager. Removing this node leaves 1 managers out of 3. Without a Raft quorum your swarm will be inaccessible. The only way to restore a swarm that has lost consensus is to reinitialize it with `--force-new-cluster`. Use `--force` to suppress this message."
        );
        assert!(manager_leave_refusal(2, 0).contains("leaves 1 managers out of 2."));
        assert_eq!(
            manager_leave_refusal(3, 0),
            "You are attempting to leave the swarm on a node that is participating as a manager. The only way to restore a swarm that has lost consensus is to reinitialize it with `--force-new-cluster`. Use `--force` to suppress this message."
        );
    }
}

//! The contract between the HTTP layer and the node behind it. The daemon
//! implements [`Backend`]; handlers only parse, resolve, filter and
//! format. IDs passed to backend methods are always full IDs (the HTTP
//! layer resolves names and prefixes first).

use std::collections::HashMap;

use async_trait::async_trait;
use futures_util::stream::BoxStream;
use rswarm_types::{
    Availability, Cluster, ControlError, Network, NetworkSpec, Node, NodeSpec, Service,
    ServiceSpec, ServiceStatus, SwarmSpec, Task, Timestamp,
};
use serde::{Deserialize, Serialize};

/// `POST /swarm/init` body.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InitRequest {
    pub listen_addr: String,
    pub advertise_addr: String,
    pub data_path_addr: String,
    pub data_path_port: u32,
    pub force_new_cluster: bool,
    pub spec: SwarmSpec,
    pub auto_lock_managers: bool,
    #[serde(deserialize_with = "empty_availability")]
    pub availability: Option<Availability>,
    pub default_addr_pool: Option<Vec<String>>,
    pub subnet_size: u32,
}

/// `POST /swarm/join` body.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct JoinRequest {
    pub listen_addr: String,
    pub advertise_addr: String,
    pub data_path_addr: String,
    pub remote_addrs: Vec<String>,
    pub join_token: String,
    #[serde(deserialize_with = "empty_availability")]
    pub availability: Option<Availability>,
}

/// The docker CLI sends `"Availability": ""` when the flag is not given.
fn empty_availability<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Availability>, D::Error> {
    match Option::<String>::deserialize(d)?.as_deref() {
        None | Some("") => Ok(None),
        Some("active") => Ok(Some(Availability::Active)),
        Some("pause") => Ok(Some(Availability::Pause)),
        Some("drain") => Ok(Some(Availability::Drain)),
        Some(other) => Err(serde::de::Error::custom(format!(
            "invalid Availability '{other}': must be one of active, pause, drain"
        ))),
    }
}

/// The `rotate*` flags of `POST /swarm/update`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rotation {
    /// New worker join token.
    pub worker_token: bool,
    /// New manager join token.
    pub manager_token: bool,
    /// New unlock key.
    pub unlock_key: bool,
}

/// Local node state, as in `/info` `Swarm.LocalNodeState`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LocalNodeState {
    /// Not in a swarm.
    #[default]
    Inactive,
    /// Joining.
    Pending,
    /// In a swarm.
    Active,
    /// Failed.
    Error,
    /// Autolocked, waiting for the key.
    Locked,
}

impl LocalNodeState {
    /// The Engine API string.
    pub fn as_str(self) -> &'static str {
        match self {
            LocalNodeState::Inactive => "inactive",
            LocalNodeState::Pending => "pending",
            LocalNodeState::Active => "active",
            LocalNodeState::Error => "error",
            LocalNodeState::Locked => "locked",
        }
    }
}

/// The swarm section of `/info`, plus host facts the HTTP layer reports.
#[derive(Clone, Debug, Default)]
pub struct NodeInfo {
    /// Local swarm state.
    pub state: LocalNodeState,
    /// This node's ID ("" when inactive).
    pub node_id: String,
    /// This node's address.
    pub node_addr: String,
    /// True on a manager that can serve cluster state.
    pub control_available: bool,
    /// Error text when state is `error`.
    pub error: String,
    /// Known managers: (node ID, address).
    pub remote_managers: Vec<(String, String)>,
    /// Node count (managers only).
    pub nodes: usize,
    /// Manager count (managers only).
    pub managers: usize,
    /// The cluster object (managers only). Contains the CA key: the HTTP
    /// layer must never serialize it.
    pub cluster: Option<Cluster>,
    /// The daemon's hostname (`/info` `Name`).
    pub hostname: String,
    /// The data root (`/info` `DockerRootDir`).
    pub data_root: String,
    /// Runtime of this node's executor (`process` or `docker`).
    pub runtime: String,
}

/// What to stream logs for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogTarget {
    /// All tasks of a service (full ID).
    Service(String),
    /// One task (full ID).
    Task(String),
}

/// Log query options (already parsed from the query string).
#[derive(Clone, Debug, Default)]
pub struct LogOptions {
    /// Keep streaming new lines.
    pub follow: bool,
    /// Only the last N lines per task (`None` = all).
    pub tail: Option<usize>,
    /// Only lines at or after this time.
    pub since: Option<Timestamp>,
    /// Include stdout.
    pub stdout: bool,
    /// Include stderr.
    pub stderr: bool,
}

/// One log line with its origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogMessage {
    /// 1 = stdout, 2 = stderr.
    pub stream: u8,
    /// When the line was produced.
    pub timestamp: Timestamp,
    /// The line, without its newline.
    pub line: String,
    /// Origin node.
    pub node_id: String,
    /// Origin service.
    pub service_id: String,
    /// Origin task.
    pub task_id: String,
}

/// The node behind the Engine API.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Swarm state and host facts for `/info`, `/_ping` and error choice.
    async fn info(&self) -> NodeInfo;

    /// Creates a new swarm with this node as its first manager; returns the node ID.
    async fn swarm_init(&self, req: InitRequest) -> Result<String, ControlError>;
    /// Joins an existing swarm.
    async fn swarm_join(&self, req: JoinRequest) -> Result<(), ControlError>;
    /// Leaves the swarm.
    async fn swarm_leave(&self, force: bool) -> Result<(), ControlError>;
    /// The cluster object (CA key included: redact before sending).
    async fn swarm_inspect(&self) -> Result<Cluster, ControlError>;
    /// Updates the swarm spec and rotates tokens/keys.
    async fn swarm_update(
        &self,
        version: u64,
        spec: SwarmSpec,
        rotation: Rotation,
    ) -> Result<(), ControlError>;

    /// rswarm's `GET /swarm/backup`: a backup file of the cluster store
    /// (CA key included), taken online on a manager.
    async fn swarm_backup(&self) -> Result<Vec<u8>, ControlError> {
        Err(ControlError::NotImplemented(
            "swarm backup is not supported by this node".into(),
        ))
    }

    /// All nodes.
    async fn list_nodes(&self) -> Result<Vec<Node>, ControlError>;
    /// Updates a node's spec.
    async fn update_node(&self, id: &str, version: u64, spec: NodeSpec)
    -> Result<(), ControlError>;
    /// Removes a node.
    async fn remove_node(&self, id: &str, force: bool) -> Result<(), ControlError>;

    /// All services.
    async fn list_services(&self) -> Result<Vec<Service>, ControlError>;
    /// The service whose full ID is `id`, if any. A lookup where the
    /// backend can (every write names its service by ID); by default a
    /// scan of [`Backend::list_services`].
    async fn service(&self, id: &str) -> Result<Option<Service>, ControlError> {
        Ok(self.list_services().await?.into_iter().find(|s| s.id == id))
    }
    /// Creates a service; the name must be unique (case-insensitively).
    async fn create_service(&self, spec: ServiceSpec) -> Result<Service, ControlError>;
    /// Updates a service (or rolls it back to its previous spec).
    async fn update_service(
        &self,
        id: &str,
        version: u64,
        spec: ServiceSpec,
        rollback: bool,
    ) -> Result<(), ControlError>;
    /// Removes a service; its tasks are set to desired `remove` in the same write.
    async fn remove_service(&self, id: &str) -> Result<(), ControlError>;

    /// All tasks.
    async fn list_tasks(&self) -> Result<Vec<Task>, ControlError>;

    /// The `ServiceStatus` of each of `services`, by service ID (`GET
    /// /services?status=true`). By default computed from
    /// [`Backend::list_tasks`] and [`Backend::list_nodes`]; a backend that
    /// holds the tables counts in place instead of copying every task.
    async fn service_statuses(
        &self,
        services: &[Service],
    ) -> Result<HashMap<String, ServiceStatus>, ControlError> {
        let tasks = self.list_tasks().await?;
        let nodes = self.list_nodes().await?;
        let down = crate::status::down_nodes(&nodes);
        Ok(crate::status::statuses_by_id(services, |_| &tasks, &down))
    }

    /// All swarm networks.
    async fn list_networks(&self) -> Result<Vec<Network>, ControlError>;
    /// Creates (and allocates) a swarm network.
    async fn create_network(&self, spec: NetworkSpec) -> Result<Network, ControlError>;
    /// Removes a swarm network no service uses.
    async fn remove_network(&self, id: &str) -> Result<(), ControlError>;

    /// Log lines of a service or task.
    async fn logs(
        &self,
        target: LogTarget,
        options: LogOptions,
    ) -> Result<BoxStream<'static, LogMessage>, ControlError>;
}

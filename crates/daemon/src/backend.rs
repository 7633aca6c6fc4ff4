//! The Engine API backend: answers from the local node's membership and
//! forwards cluster requests to the manager's control API.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::stream::BoxStream;
use rswarm_engine_api::status::{down_nodes, statuses_by_id};
use rswarm_engine_api::{
    Backend, InitRequest, JoinRequest, LocalNodeState, LogMessage, LogOptions, LogTarget, NodeInfo,
    Rotation,
};
use rswarm_manager::Manager;
use rswarm_manager::control::{ControlOp, ControlReply};
use rswarm_types::{
    Cluster, ControlError, Network, NetworkSpec, Node, NodeSpec, Service, ServiceSpec,
    ServiceStatus, SwarmSpec, Task,
};

use crate::node::LocalNode;
use crate::task_logs::LogSources;

/// The daemon's [`Backend`].
#[derive(Clone, Debug)]
pub struct NodeBackend {
    node: Arc<LocalNode>,
    runtime: String,
}

impl NodeBackend {
    /// A backend over the local node.
    pub fn new(node: Arc<LocalNode>, runtime: String) -> Self {
        NodeBackend { node, runtime }
    }

    async fn manager(&self) -> Result<Manager, ControlError> {
        match self.node.membership.lock().await.as_ref() {
            None => Err(ControlError::NotAManager),
            Some(active) => active.manager.clone().ok_or(ControlError::WorkerNotManager),
        }
    }

    fn description(&self) -> rswarm_types::NodeDescription {
        rswarm_agent::node_description(
            &self.node.hostname,
            crate::run::ENGINE_VERSION,
            self.node.executor.as_ref(),
        )
    }
}

/// Swarm endpoints say "not part of a swarm" outside one, and the
/// worker error on workers.
fn not_in_swarm(e: ControlError) -> ControlError {
    match e {
        ControlError::NotAManager => ControlError::NotInSwarm,
        other => other,
    }
}

#[async_trait]
impl Backend for NodeBackend {
    async fn info(&self) -> NodeInfo {
        let mut info = NodeInfo {
            hostname: self.node.hostname.clone(),
            data_root: self.node.paths.root().display().to_string(),
            runtime: self.runtime.clone(),
            ..Default::default()
        };
        let guard = self.node.membership.lock().await;
        let Some(active) = guard.as_ref() else {
            return info;
        };
        info.state = LocalNodeState::Active;
        info.node_id = active.config.node_id.clone();
        info.node_addr = active.config.advertise_ip().to_string();
        let Some(manager) = active.manager.as_ref() else {
            info.remote_managers = active
                .config
                .managers
                .iter()
                .map(|a| (String::new(), a.clone()))
                .collect();
            return info;
        };
        info.control_available = true;
        manager.store.view(|t| {
            info.nodes = t.nodes().count();
            // As moby: the nodes with a manager status (members of the
            // Raft group), not those whose role says manager.
            info.managers = t.nodes().filter(|n| n.manager_status.is_some()).count();
            info.remote_managers = t
                .nodes()
                .filter_map(|n| {
                    n.manager_status
                        .as_ref()
                        .map(|m| (n.id.clone(), m.addr.clone()))
                })
                .collect();
            info.cluster = t.cluster().cloned();
        });
        info
    }

    async fn swarm_init(&self, req: InitRequest) -> Result<String, ControlError> {
        self.node.init(req, self.description()).await
    }

    async fn swarm_join(&self, req: JoinRequest) -> Result<(), ControlError> {
        self.node.join(req).await
    }

    async fn swarm_leave(&self, force: bool) -> Result<(), ControlError> {
        self.node.leave(force).await
    }

    async fn swarm_inspect(&self) -> Result<Cluster, ControlError> {
        self.manager()
            .await
            .map_err(not_in_swarm)?
            .control
            .cluster()
    }

    async fn swarm_update(
        &self,
        version: u64,
        spec: SwarmSpec,
        rotation: Rotation,
    ) -> Result<(), ControlError> {
        if rotation.unlock_key {
            return Err(ControlError::NotImplemented(
                "unlock keys (autolock) are not supported yet".into(),
            ));
        }
        let manager = self.manager().await.map_err(not_in_swarm)?;
        manager
            .submit(ControlOp::UpdateCluster {
                version,
                spec,
                rotate_worker: rotation.worker_token,
                rotate_manager: rotation.manager_token,
            })
            .await
            .map(drop)
    }

    async fn swarm_backup(&self) -> Result<Vec<u8>, ControlError> {
        self.node.backup().await.map_err(not_in_swarm)
    }

    async fn list_nodes(&self) -> Result<Vec<Node>, ControlError> {
        Ok(self.manager().await?.control.list_nodes())
    }

    async fn update_node(
        &self,
        id: &str,
        version: u64,
        spec: NodeSpec,
    ) -> Result<(), ControlError> {
        let op = ControlOp::UpdateNode {
            id: id.to_string(),
            version,
            spec,
        };
        self.manager().await?.submit(op).await.map(drop)
    }

    async fn remove_node(&self, id: &str, force: bool) -> Result<(), ControlError> {
        let op = ControlOp::RemoveNode {
            id: id.to_string(),
            force,
        };
        self.manager().await?.submit(op).await.map(drop)
    }

    async fn list_services(&self) -> Result<Vec<Service>, ControlError> {
        Ok(self.manager().await?.control.list_services())
    }

    async fn service(&self, id: &str) -> Result<Option<Service>, ControlError> {
        Ok(self.manager().await?.control.service(id))
    }

    async fn create_service(&self, spec: ServiceSpec) -> Result<Service, ControlError> {
        match self
            .manager()
            .await?
            .submit(ControlOp::CreateService(spec))
            .await?
        {
            ControlReply::Service(service) => Ok(*service),
            _ => Err(ControlError::Internal(
                "service create answered without the service".into(),
            )),
        }
    }

    async fn update_service(
        &self,
        id: &str,
        version: u64,
        spec: ServiceSpec,
        rollback: bool,
    ) -> Result<(), ControlError> {
        let op = ControlOp::UpdateService {
            id: id.to_string(),
            version,
            spec,
            rollback,
        };
        self.manager().await?.submit(op).await.map(drop)
    }

    async fn remove_service(&self, id: &str) -> Result<(), ControlError> {
        let op = ControlOp::RemoveService { id: id.to_string() };
        self.manager().await?.submit(op).await.map(drop)
    }

    async fn list_tasks(&self) -> Result<Vec<Task>, ControlError> {
        Ok(self.manager().await?.control.list_tasks())
    }

    /// Counted in the tables, over each service's own tasks: `service ls`
    /// on 10,000 tasks copies none of them.
    async fn service_statuses(
        &self,
        services: &[Service],
    ) -> Result<HashMap<String, ServiceStatus>, ControlError> {
        let manager = self.manager().await?;
        Ok(manager.store.view(|t| {
            let down = down_nodes(t.nodes());
            statuses_by_id(services, |s| t.tasks_of_service(&s.id), &down)
        }))
    }

    async fn list_networks(&self) -> Result<Vec<Network>, ControlError> {
        Ok(self.manager().await?.control.list_networks())
    }

    async fn create_network(&self, spec: NetworkSpec) -> Result<Network, ControlError> {
        match self
            .manager()
            .await?
            .submit(ControlOp::CreateNetwork(spec))
            .await?
        {
            ControlReply::Network(network) => Ok(*network),
            _ => Err(ControlError::Internal(
                "network create answered without the network".into(),
            )),
        }
    }

    async fn remove_network(&self, id: &str) -> Result<(), ControlError> {
        let op = ControlOp::RemoveNetwork { id: id.to_string() };
        self.manager().await?.submit(op).await.map(drop)
    }

    /// Tasks of this node from its log files, tasks of other nodes from
    /// their agents through the log broker (see [`crate::task_logs`]).
    async fn logs(
        &self,
        target: LogTarget,
        options: LogOptions,
    ) -> Result<BoxStream<'static, LogMessage>, ControlError> {
        let (manager, local_node_id) = match self.node.membership.lock().await.as_ref() {
            None => return Err(ControlError::NotAManager),
            Some(active) => (
                active
                    .manager
                    .clone()
                    .ok_or(ControlError::WorkerNotManager)?,
                active.config.node_id.clone(),
            ),
        };
        let tasks: Vec<Task> = manager.store.view(|t| match &target {
            LogTarget::Service(id) => t.tasks_of_service(id).cloned().collect(),
            LogTarget::Task(id) => t.task(id).cloned().into_iter().collect(),
        });
        let sources = LogSources {
            local_node_id,
            logs: self.node.logs.clone(),
            broker: manager.log_broker,
        };
        sources.stream(tasks, options).await
    }
}

//! [`DockerExecutor`]: the `docker` runtime, tasks as containers on the
//! node's Docker engine.

use std::time::Duration;

use async_trait::async_trait;
use bollard::Docker;
use rswarm_types::Task;

use super::controller::DockerController;
use super::error;
use super::leftovers::remove_leftover_containers;
use super::spec::ContainerPlan;
use crate::{Controller, ExecError, Executor, ExecutorDescription, LogStore};

/// How long connecting (version negotiation and `/info`) may take.
const CONNECT_LIMIT: Duration = Duration::from_secs(10);

/// Request timeout of the client for calls that answer only when a
/// container stops (`wait`, followed `logs`, `stop`): the engine sends
/// their headers at once, so this is only a backstop.
const LONG_CALLS: Duration = Duration::from_secs(24 * 3600);

/// Runs each task as a container on a Docker engine (see
/// [`DockerController`]); the node's resources are the engine's.
#[derive(Clone, Debug)]
pub struct DockerExecutor {
    docker: Docker,
    long: Docker,
    host: String,
    logs: LogStore,
    node_id: String,
    description: ExecutorDescription,
}

impl DockerExecutor {
    /// Runtime name, reported as engine label `rswarm.runtime`.
    pub const RUNTIME: &'static str = "docker";
    /// The engine's socket when none is given.
    pub const DEFAULT_HOST: &'static str = "unix:///var/run/docker.sock";

    /// Connects to the engine at `docker_host` (`unix:///path`, a bare
    /// socket path, or `tcp://host:port`; default
    /// [`DEFAULT_HOST`](Self::DEFAULT_HOST)), negotiates the API version
    /// and reads the engine's `/info`. Fails with [`ExecError::Engine`]
    /// when no engine answers within 10 s.
    pub async fn connect(
        docker_host: Option<&str>,
        logs: LogStore,
        node_id: String,
    ) -> Result<Self, ExecError> {
        let host = match docker_host.map(str::trim).filter(|h| !h.is_empty()) {
            None => Self::DEFAULT_HOST.to_string(),
            Some(h) if h.starts_with('/') => format!("unix://{h}"),
            Some(h) => h.to_string(),
        };
        let unreachable = |why: String| {
            ExecError::Engine(format!("cannot reach the Docker engine at {host}: {why}"))
        };
        let docker = Docker::connect_with_host(&host).map_err(|e| unreachable(e.to_string()))?;
        let (docker, info) = tokio::time::timeout(CONNECT_LIMIT, async {
            let docker = docker.negotiate_version().await?;
            let info = docker.info().await?;
            Ok::<_, bollard::errors::Error>((docker, info))
        })
        .await
        .map_err(|_| unreachable(format!("no answer within {CONNECT_LIMIT:?}")))?
        .map_err(|e| unreachable(error::describe(&e)))?;
        let description = ExecutorDescription {
            runtime: Self::RUNTIME.into(),
            architecture: info.architecture.unwrap_or_default(),
            os: info.os_type.unwrap_or_else(|| "linux".into()),
            nano_cpus: info.ncpu.unwrap_or(0).saturating_mul(1_000_000_000),
            memory_bytes: info.mem_total.unwrap_or(0),
        };
        tracing::debug!(host, ?description, "connected to the Docker engine");
        let long = docker.clone().with_timeout(LONG_CALLS);
        Ok(Self {
            docker,
            long,
            host,
            logs,
            node_id,
            description,
        })
    }

    /// The engine's address.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The engine client.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// The store holding task output.
    pub fn logs(&self) -> &LogStore {
        &self.logs
    }

    /// A [`DockerController`] for `task` (the concrete type behind
    /// [`Executor::controller`]).
    pub fn docker_controller(&self, task: &Task) -> Result<DockerController, ExecError> {
        Ok(DockerController::new(
            ContainerPlan::from_task(task, &self.node_id)?,
            self.docker.clone(),
            self.long.clone(),
            self.logs.clone(),
        ))
    }

    /// Removes every container of node `node_id` (see
    /// [`remove_leftover_containers`]).
    pub async fn remove_leftover_containers(&self, node_id: &str) -> Result<usize, ExecError> {
        remove_leftover_containers(&self.docker, node_id).await
    }
}

#[async_trait]
impl Executor for DockerExecutor {
    fn describe(&self) -> ExecutorDescription {
        self.description.clone()
    }

    fn controller(&self, task: &Task) -> Result<Box<dyn Controller>, ExecError> {
        Ok(Box::new(self.docker_controller(task)?))
    }

    async fn cleanup_leftovers(&self, node_id: &str) -> usize {
        match self.remove_leftover_containers(node_id).await {
            Ok(0) => 0,
            Ok(n) => {
                tracing::info!("removed {n} task container(s) left by an earlier run of this node");
                n
            }
            Err(e) => {
                tracing::warn!(error = %e, "removing leftover task containers failed");
                0
            }
        }
    }
}

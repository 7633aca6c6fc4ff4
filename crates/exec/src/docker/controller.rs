//! [`DockerController`]: drives one task's container through the
//! [`Controller`] contract.

use std::sync::{Arc, Mutex as StdMutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use bollard::Docker;
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, InspectContainerOptions, RemoveContainerOptionsBuilder,
    StartContainerOptions, StopContainerOptionsBuilder,
};
use tokio::sync::{Mutex, watch};

use super::error;
use super::image::ensure_image;
use super::logs::Copier;
use super::monitor::{Outcome, monitor};
use super::sandbox::{Sandbox, join_sandbox};
use super::spec::{ContainerPlan, stop_timeout_secs};
use crate::{Controller, ExecError, ExitStatus, LogStore, TaskNetwork};

/// How long `remove` waits for a stopped container's output to be copied.
const DRAIN_WAIT: Duration = Duration::from_secs(15);

/// Where a controller is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    New,
    /// The image is there, the container created, the log opened.
    Created,
    Started {
        pid: i64,
    },
    /// Shut down (or failed to start) before it ran: it never will.
    Cancelled,
}

/// Runs one task as a container on the node's Docker engine.
///
/// - `prepare` makes sure the image is present (pulling it if not; a
///   missing image rejects the task), creates the container named
///   `<service>.<slot>.<task id>` from the [`ContainerPlan`] and opens the
///   task's log;
/// - `start` starts it and returns its PID, then copies its output into
///   the [`LogStore`] until it stops, when the log is closed;
/// - `wait` gives its exit code as the engine reports it;
/// - `shutdown` is `docker stop` with the grace period (idempotent);
/// - `remove` shuts it down, then removes it with its anonymous volumes.
///
/// A task attached to swarm networks first gets its network sandbox
/// (`network_sandbox`, see [`super::sandbox`]), whose namespace the
/// agent has the data plane plumb; `set_network` keeps the resolv.conf
/// the data plane wrote; its container joins the sandbox's namespace, and `remove`
/// removes the sandbox after it.
///
/// All methods take `&self`; `wait` and `shutdown` may run concurrently.
pub struct DockerController {
    plan: ContainerPlan,
    docker: Docker,
    /// The same engine without a short timeout: `wait`, `logs` and `stop`
    /// answer only when the container stops.
    long: Docker,
    logs: LogStore,
    phase: Mutex<Phase>,
    container_id: StdMutex<Option<String>>,
    exit: Arc<watch::Sender<Outcome>>,
    /// The network sandbox, once started.
    sandbox: Mutex<Option<Sandbox>>,
    /// Where the data plane plumbed the task (its sandbox's namespace).
    network: StdMutex<Option<TaskNetwork>>,
}

impl std::fmt::Debug for DockerController {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerController")
            .field("task_id", &self.plan.task_id)
            .field("name", &self.plan.name)
            .field("image", &self.plan.image)
            .finish_non_exhaustive()
    }
}

impl DockerController {
    pub(crate) fn new(plan: ContainerPlan, docker: Docker, long: Docker, logs: LogStore) -> Self {
        Self {
            plan,
            docker,
            long,
            logs,
            phase: Mutex::new(Phase::New),
            container_id: StdMutex::new(None),
            exit: Arc::new(watch::Sender::new(None)),
            sandbox: Mutex::new(None),
            network: StdMutex::new(None),
        }
    }

    /// The task this controller runs.
    pub fn task_id(&self) -> &str {
        &self.plan.task_id
    }

    /// The container's name, `<service>.<slot>.<task id>`.
    pub fn name(&self) -> &str {
        &self.plan.name
    }

    fn id(&self) -> Option<String> {
        self.container_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set_id(&self, id: Option<String>) {
        *self
            .container_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = id;
    }

    /// Image, container, log: everything `start` needs.
    async fn create(&self) -> Result<(), ExecError> {
        ensure_image(&self.docker, &self.plan.image).await?;
        let id = self.create_container().await?;
        self.set_id(Some(id.clone()));
        if let Err(e) = self.logs.writer(&self.plan.task_id) {
            self.set_id(None);
            if let Err(rm) = self.force_remove(&id).await {
                tracing::warn!(container = id, error = %rm, "removing a container without a log failed");
            }
            return Err(e.into());
        }
        Ok(())
    }

    /// The create body: the plan's, joined to the network sandbox when the
    /// task is on networks.
    async fn body(&self) -> Result<bollard::models::ContainerCreateBody, ExecError> {
        let mut body = self.plan.body.clone();
        let network = self
            .network
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(network) = network {
            let Some(sandbox) = self.sandbox.lock().await.clone() else {
                return Err(ExecError::NotStarted(
                    "the task's network sandbox is not running".into(),
                ));
            };
            join_sandbox(&mut body, &sandbox.id, &network.resolv_conf);
        }
        Ok(body)
    }

    /// Creates the container; one left under the same name by an earlier
    /// attempt is replaced.
    async fn create_container(&self) -> Result<String, ExecError> {
        let options = CreateContainerOptionsBuilder::new()
            .name(&self.plan.name)
            .build();
        let body = self.body().await?;
        let mut replaced = false;
        loop {
            match self
                .docker
                .create_container(Some(options.clone()), body.clone())
                .await
            {
                Ok(created) => {
                    for warning in created.warnings {
                        tracing::warn!(container = self.plan.name, warning, "engine warning");
                    }
                    return Ok(created.id);
                }
                Err(e) if error::is_conflict(&e) && !replaced => {
                    tracing::info!(
                        container = self.plan.name,
                        "replacing a container left with the task's name"
                    );
                    self.force_remove(&self.plan.name).await?;
                    replaced = true;
                }
                Err(e) if error::status(&e) == Some(400) => {
                    return Err(ExecError::InvalidSpec(format!(
                        "the engine refused the container: {}",
                        error::describe(&e)
                    )));
                }
                Err(e) => {
                    return Err(error::engine(
                        &format!("creating container {}", self.plan.name),
                        &e,
                    ));
                }
            }
        }
    }

    /// Starts the created container, its output copy and its monitor.
    async fn launch(&self, id: String) -> Result<i64, ExecError> {
        let writer = self.logs.writer(&self.plan.task_id)?;
        if let Err(e) = self
            .docker
            .start_container(&id, None::<StartContainerOptions>)
            .await
        {
            // It never ran: end its log and remove it; the agent reports
            // the failure with this message.
            if let Err(close) = self.logs.close(&self.plan.task_id) {
                tracing::warn!(task_id = self.plan.task_id, error = %close, "closing task log failed");
            }
            if let Err(rm) = self.force_remove(&id).await {
                tracing::warn!(container = id, error = %rm, "removing a container that did not start failed");
            }
            return Err(ExecError::StartFailed(format!(
                "starting container {}: {}",
                self.plan.name,
                error::describe(&e)
            )));
        }
        let mut copier = Copier::new(self.long.clone(), id.clone(), writer);
        let pump = tokio::spawn(async move {
            copier.follow().await;
            copier
        });
        tokio::spawn(monitor(
            self.long.clone(),
            id.clone(),
            pump,
            self.logs.clone(),
            self.plan.task_id.clone(),
            self.exit.clone(),
        ));
        // A container that already exited has no PID any more (0).
        let pid = match self
            .docker
            .inspect_container(&id, None::<InspectContainerOptions>)
            .await
        {
            Ok(c) => c.state.and_then(|s| s.pid).unwrap_or(0),
            Err(e) => {
                tracing::warn!(container = id, error = %error::describe(&e), "inspecting a started container failed");
                0
            }
        };
        tracing::debug!(
            task_id = self.plan.task_id,
            container = id,
            pid,
            "task container started"
        );
        Ok(pid)
    }

    /// `docker stop` with the grace period; a container that is gone or
    /// already stopped is fine.
    async fn stop(&self, id: &str) -> Result<(), ExecError> {
        let t = i32::try_from(stop_timeout_secs(self.plan.grace)).unwrap_or(i32::MAX);
        let options = StopContainerOptionsBuilder::new().t(t).build();
        match self.long.stop_container(id, Some(options)).await {
            Ok(()) => Ok(()),
            Err(e) if error::is_not_found(&e) => Ok(()),
            Err(e) => Err(error::engine(&format!("stopping container {id}"), &e)),
        }
    }

    /// Removes a container (by ID or name) and its anonymous volumes,
    /// killing it if it runs; one already gone, or being removed, is fine.
    async fn force_remove(&self, container: &str) -> Result<(), ExecError> {
        let options = RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(true)
            .build();
        match self.docker.remove_container(container, Some(options)).await {
            Ok(()) => Ok(()),
            Err(e) if error::is_not_found(&e) || error::is_conflict(&e) => Ok(()),
            Err(e) => Err(error::engine(
                &format!("removing container {container}"),
                &e,
            )),
        }
    }
}

#[async_trait]
impl Controller for DockerController {
    async fn network_sandbox(&self) -> Result<Option<std::path::PathBuf>, ExecError> {
        let mut sandbox = self.sandbox.lock().await;
        if let Some(s) = sandbox.as_ref() {
            return Ok(Some(s.netns()));
        }
        let s = Sandbox::start(&self.docker, &self.plan).await?;
        tracing::debug!(
            task_id = self.plan.task_id,
            sandbox = s.id,
            pid = s.pid,
            "network sandbox started"
        );
        let netns = s.netns();
        *sandbox = Some(s);
        Ok(Some(netns))
    }

    fn set_network(&self, network: TaskNetwork) -> Result<(), ExecError> {
        *self.network.lock().unwrap_or_else(PoisonError::into_inner) = Some(network);
        Ok(())
    }

    async fn prepare(&self) -> Result<(), ExecError> {
        let mut phase = self.phase.lock().await;
        if *phase == Phase::New {
            self.create().await?;
            *phase = Phase::Created;
        }
        Ok(())
    }

    async fn start(&self) -> Result<i64, ExecError> {
        let mut phase = self.phase.lock().await;
        if *phase == Phase::New {
            self.create().await?;
            *phase = Phase::Created;
        }
        match *phase {
            Phase::Created => {
                let Some(id) = self.id() else {
                    return Err(ExecError::NotStarted(
                        "the container was not created".into(),
                    ));
                };
                match self.launch(id).await {
                    Ok(pid) => {
                        *phase = Phase::Started { pid };
                        Ok(pid)
                    }
                    Err(e) => {
                        *phase = Phase::Cancelled;
                        Err(e)
                    }
                }
            }
            Phase::Started { pid } => Ok(pid),
            Phase::Cancelled => Err(ExecError::NotStarted(
                "the task was shut down before it started".into(),
            )),
            Phase::New => Err(ExecError::NotStarted("the task is not prepared".into())),
        }
    }

    async fn wait(&self) -> Result<ExitStatus, ExecError> {
        if !matches!(*self.phase.lock().await, Phase::Started { .. }) {
            return Err(ExecError::NotStarted("wait called before start".into()));
        }
        let mut rx = self.exit.subscribe();
        let outcome = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| ExecError::Engine("the container monitor went away".into()))?
            .clone();
        match outcome {
            Some(result) => result.map_err(ExecError::Engine),
            None => Err(ExecError::Engine("no exit status".into())),
        }
    }

    async fn shutdown(&self) -> Result<(), ExecError> {
        {
            let mut phase = self.phase.lock().await;
            match *phase {
                Phase::Started { .. } => {}
                Phase::Cancelled => return Ok(()),
                Phase::New => {
                    *phase = Phase::Cancelled;
                    return Ok(());
                }
                Phase::Created => {
                    // Its log was opened; end it so followers finish. The
                    // container stays until `remove`.
                    self.logs.close(&self.plan.task_id)?;
                    *phase = Phase::Cancelled;
                    return Ok(());
                }
            }
        }
        if self.exit.borrow().is_some() {
            return Ok(());
        }
        match self.id() {
            Some(id) => self.stop(&id).await,
            None => Ok(()),
        }
    }

    async fn remove(&self) -> Result<(), ExecError> {
        if let Err(e) = self.shutdown().await {
            tracing::warn!(task_id = self.plan.task_id, error = %e, "stopping before removal failed; removing anyway");
        }
        if matches!(*self.phase.lock().await, Phase::Started { .. }) {
            // Let the monitor drain the output of the stopped container
            // before its log file on the engine goes.
            let mut rx = self.exit.subscribe();
            let _ = tokio::time::timeout(DRAIN_WAIT, rx.wait_for(Option::is_some)).await;
        }
        if let Some(id) = self.id() {
            self.force_remove(&id).await?;
        }
        // Its namespace goes last (the agent detached the task already).
        self.release_network().await
    }

    async fn release_network(&self) -> Result<(), ExecError> {
        let sandbox = self.sandbox.lock().await.take();
        if let Some(s) = sandbox
            && let Err(e) = s.remove(&self.docker).await
        {
            *self.sandbox.lock().await = Some(s);
            return Err(e);
        }
        Ok(())
    }

    fn container_id(&self) -> Option<String> {
        self.id()
    }
}

//! The agent's session loop: register, heartbeat, follow assignments,
//! keep one task manager per assigned task. Reconnects with backoff.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rswarm_exec::Executor;
use rswarm_network::DataPlane;
use rswarm_rt::{Backoff, Clock, Shutdown};
use rswarm_types::{
    EngineDescription, NodeDescription, Platform, Resources, Task, TaskState, TlsInfo,
};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::{AgentError, DispatcherClient, network_maps, reporter, task_manager};

/// Ends a session's background task with the session.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A node's agent.
#[derive(Debug)]
pub struct Agent {
    hostname: String,
    engine_version: String,
    executor: Arc<dyn Executor>,
    clock: Arc<dyn Clock>,
    tls_info: Option<TlsInfo>,
    data_plane: Option<Arc<dyn DataPlane>>,
}

struct Running {
    desired: watch::Sender<TaskState>,
    handle: JoinHandle<()>,
}

impl Agent {
    /// An agent for this node.
    pub fn new(
        hostname: String,
        engine_version: String,
        executor: Arc<dyn Executor>,
        clock: Arc<dyn Clock>,
    ) -> Agent {
        Agent {
            hostname,
            engine_version,
            executor,
            clock,
            tls_info: None,
            data_plane: None,
        }
    }

    /// Hands the node's network map to `data_plane` during each session
    /// (see [`crate::network_maps`]).
    pub fn with_data_plane(mut self, data_plane: Arc<dyn DataPlane>) -> Agent {
        self.data_plane = Some(data_plane);
        self
    }

    /// Reports `info` (of the certificate this node holds) in its
    /// description.
    pub fn with_tls_info(mut self, info: Option<TlsInfo>) -> Agent {
        self.tls_info = info;
        self
    }

    /// What this node reports about itself.
    pub fn description(&self) -> NodeDescription {
        NodeDescription {
            tls_info: self.tls_info.clone(),
            ..node_description(&self.hostname, &self.engine_version, self.executor.as_ref())
        }
    }

    /// Runs sessions until `shutdown`; then stops every task process.
    pub async fn run(self, client: Arc<dyn DispatcherClient>, shutdown: Shutdown) {
        let (status_tx, status_rx) = mpsc::unbounded_channel();
        let reporter = tokio::spawn(reporter::run(client.clone(), status_rx, shutdown.clone()));
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut tasks: HashMap<String, Running> = HashMap::new();
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(8));
        while !shutdown.is_triggered() {
            match self
                .session(&client, &mut tasks, &status_tx, &stop_rx, &shutdown)
                .await
            {
                Ok(()) => backoff.reset(),
                Err(e) => tracing::warn!("agent: session ended: {e}"),
            }
            tokio::select! {
                _ = shutdown.wait() => {}
                _ = tokio::time::sleep(backoff.next_delay()) => {}
            }
        }
        let _ = stop_tx.send(true);
        for (_, r) in tasks.drain() {
            let _ = r.handle.await;
        }
        drop(status_tx);
        let _ = reporter.await;
    }

    async fn session(
        &self,
        client: &Arc<dyn DispatcherClient>,
        tasks: &mut HashMap<String, Running>,
        status: &task_manager::StatusSink,
        stop: &watch::Receiver<bool>,
        shutdown: &Shutdown,
    ) -> Result<(), AgentError> {
        let mut period = client.register(self.description()).await?;
        let mut assignments = client.assignments().await?;
        let _maps = self
            .data_plane
            .clone()
            .map(|dp| AbortOnDrop(tokio::spawn(network_maps::follow(client.clone(), dp))));
        let mut beat = tokio::time::interval(period);
        beat.tick().await;
        loop {
            tokio::select! {
                _ = shutdown.wait() => return Ok(()),
                _ = beat.tick() => {
                    let next = client.heartbeat().await?;
                    if next != period {
                        period = next;
                        beat = tokio::time::interval(period);
                        beat.tick().await;
                    }
                }
                set = assignments.recv() => match set {
                    Some(set) => self.assign(set, tasks, status, stop),
                    None => return Err(AgentError::Unavailable("assignment stream closed".into())),
                },
            }
        }
    }

    /// Reconciles task managers with the full assigned set.
    fn assign(
        &self,
        set: Vec<Task>,
        tasks: &mut HashMap<String, Running>,
        status: &task_manager::StatusSink,
        stop: &watch::Receiver<bool>,
    ) {
        // Finished managers stay while their task is still assigned, so a
        // status report still in flight never makes us run the task again.
        let mut seen = std::collections::HashSet::new();
        for task in set {
            seen.insert(task.id.clone());
            match tasks.get(&task.id) {
                Some(r) => {
                    r.desired.send_if_modified(|d| {
                        let changed = *d != task.desired_state;
                        *d = task.desired_state;
                        changed
                    });
                }
                None if !task.status.state.is_terminal() => {
                    let (tx, rx) = watch::channel(task.desired_state);
                    let id = task.id.clone();
                    let handle = tokio::spawn(task_manager::run(
                        task,
                        self.executor.clone(),
                        self.data_plane.clone(),
                        rx,
                        stop.clone(),
                        self.clock.clone(),
                        status.clone(),
                    ));
                    tasks.insert(
                        id,
                        Running {
                            desired: tx,
                            handle,
                        },
                    );
                }
                None => {}
            }
        }
        // Tasks no longer assigned (removed, or moved away): stop them.
        for (id, r) in tasks.iter() {
            if !seen.contains(id) {
                let _ = r.desired.send(TaskState::Remove);
            }
        }
        tasks.retain(|id, r| seen.contains(id) || !r.handle.is_finished());
    }
}

/// What a node with this hostname, engine version and executor reports
/// about itself (its `NodeDescription`, without TLS info: see
/// [`Agent::with_tls_info`]).
pub fn node_description(
    hostname: &str,
    engine_version: &str,
    executor: &dyn Executor,
) -> NodeDescription {
    let d = executor.describe();
    let mut labels = std::collections::BTreeMap::new();
    labels.insert("rswarm.runtime".to_string(), d.runtime.clone());
    NodeDescription {
        hostname: hostname.to_string(),
        platform: Platform {
            architecture: d.architecture,
            os: d.os,
        },
        resources: Resources {
            nano_cpus: d.nano_cpus,
            memory_bytes: d.memory_bytes,
            ..Default::default()
        },
        engine: EngineDescription {
            engine_version: engine_version.to_string(),
            labels,
            plugins: Vec::new(),
        },
        tls_info: None,
    }
}

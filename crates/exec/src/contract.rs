//! The executor contract. The agent's task manager calls, in order,
//! (for a task on networks: `network_sandbox` → the data plane attaches →
//! `set_network`) `prepare` → `start` → `wait`; `shutdown` may be called at any time from
//! another task (methods take `&self`), and `remove` last.

use std::path::PathBuf;

use async_trait::async_trait;
use rswarm_types::{Task, Timestamp};
use thiserror::Error;

/// Errors from executors and controllers.
#[derive(Debug, Error)]
pub enum ExecError {
    /// The task spec cannot run on this executor (task is rejected).
    #[error("{0}")]
    InvalidSpec(String),
    /// Starting failed (task fails).
    #[error("starting task failed: {0}")]
    StartFailed(String),
    /// The controller was used out of order (e.g. `wait` before `start`).
    #[error("controller misuse: {0}")]
    NotStarted(String),
    /// Any I/O error.
    #[error("executor I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The container engine failed or could not be reached.
    #[error("docker engine: {0}")]
    Engine(String),
}

/// How a task's process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitStatus {
    /// The exit code; for a signal death, 128 + signal number (137 for
    /// SIGKILL), as docker reports it.
    pub code: i64,
    /// The signal that killed it, if known (the docker runtime only learns
    /// the code, so it leaves this empty).
    pub signal: Option<i32>,
}

/// Facts about the node's runtime, for `NodeDescription`.
#[derive(Clone, Debug, Default)]
pub struct ExecutorDescription {
    /// Runtime name (`process` or `docker`), reported as engine label
    /// `rswarm.runtime`.
    pub runtime: String,
    /// `Architecture` in Docker's words (`x86_64`).
    pub architecture: String,
    /// `OS` (`linux`).
    pub os: String,
    /// Logical CPUs × 1e9.
    pub nano_cpus: i64,
    /// Total memory in bytes.
    pub memory_bytes: i64,
}

/// Which output stream a log line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LogStream {
    /// stdout (frame type 1).
    Stdout,
    /// stderr (frame type 2).
    Stderr,
}

/// One line of task output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// When the line was read.
    pub timestamp: Timestamp,
    /// stdout or stderr.
    pub stream: LogStream,
    /// The line without its trailing newline.
    pub line: String,
}

/// Where a task attached to networks runs, as the node's data plane
/// plumbed it (see `rswarm_network::Attached`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskNetwork {
    /// The network namespace file the task runs in.
    pub netns: PathBuf,
    /// The file mounted on the task's `/etc/resolv.conf`.
    pub resolv_conf: PathBuf,
}

/// Creates controllers for tasks.
#[async_trait]
pub trait Executor: Send + Sync + std::fmt::Debug {
    /// Facts about this runtime for the node description.
    fn describe(&self) -> ExecutorDescription;

    /// A controller for `task`. Fails with [`ExecError::InvalidSpec`] when the
    /// spec cannot run here (e.g. no command for the process runtime).
    fn controller(&self, task: &Task) -> Result<Box<dyn Controller>, ExecError>;

    /// Removes what tasks of node `node_id` left in this runtime (a crashed
    /// or stopped daemon's containers); called when the node starts and
    /// after its agent stopped. Returns how many were removed. The default
    /// does nothing (the process runtime's leftovers are handled by
    /// [`kill_leftovers`](crate::kill_leftovers)).
    async fn cleanup_leftovers(&self, node_id: &str) -> usize {
        let _ = node_id;
        0
    }
}

/// Drives one task's process.
#[async_trait]
pub trait Controller: Send + Sync {
    /// The network namespace this runtime keeps for the task, for the
    /// node's data plane to plumb (`TaskNetns::Existing`); called first,
    /// for tasks attached to networks, then [`set_network`](Self::set_network)
    /// with what the data plane made of it. `None` (the default): the data
    /// plane creates the namespace (the process runtime). The docker
    /// runtime starts the task's sandbox container here; `remove` removes
    /// it (after the task's container, and after the agent detached it).
    async fn network_sandbox(&self) -> Result<Option<PathBuf>, ExecError> {
        Ok(None)
    }
    /// The task's process is gone and the data plane detached it: drops
    /// what the runtime kept for its network (the docker runtime removes
    /// the sandbox container at once, instead of when the managers remove
    /// the task; the task's own container stays for `logs` and
    /// `inspect`). The default has nothing to drop.
    async fn release_network(&self) -> Result<(), ExecError> {
        Ok(())
    }
    /// Runs the task in `network` (called before `prepare`, for tasks
    /// attached to networks). The default refuses: a runtime that cannot
    /// place a task in a network namespace rejects such tasks.
    fn set_network(&self, network: TaskNetwork) -> Result<(), ExecError> {
        let _ = network;
        Err(ExecError::InvalidSpec(
            "this runtime cannot attach tasks to networks yet".into(),
        ))
    }
    /// Gets everything ready (directories, user lookup). Idempotent.
    async fn prepare(&self) -> Result<(), ExecError>;
    /// Starts the process; returns its PID.
    async fn start(&self) -> Result<i64, ExecError>;
    /// Resolves when the process exits.
    async fn wait(&self) -> Result<ExitStatus, ExecError>;
    /// Sends the stop signal, waits the grace period, then kills the whole
    /// process group. A no-op when not running.
    async fn shutdown(&self) -> Result<(), ExecError>;
    /// Releases resources; logs stay readable until the task is deleted.
    async fn remove(&self) -> Result<(), ExecError>;
    /// The runtime's ID for the task (the container ID), once created.
    fn container_id(&self) -> Option<String> {
        None
    }
}

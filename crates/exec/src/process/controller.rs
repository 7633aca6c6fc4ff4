//! [`ProcessController`]: drives one task's host process through the
//! [`Controller`] contract.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::sync::Mutex;

use super::launch::{Outcome, Shared, launch};
use super::plan::Plan;
use super::user::{Identity, resolve_user};
use crate::{Controller, ExecError, ExitStatus, LogStore, LogWriter, TaskNetwork};

/// How long `shutdown` waits for the process to go after SIGKILL.
const KILL_LIMIT: Duration = Duration::from_secs(10);

/// Where a controller is in its life.
enum Phase {
    New,
    Prepared {
        identity: Option<Identity>,
        writer: LogWriter,
    },
    Started {
        pid: i32,
    },
    /// Shut down before it started: it never will.
    Cancelled,
}

/// Runs one task as a host process: `Command ++ Args` with the spec's env,
/// working directory (default `/`) and user, in a process group of its own,
/// stdout and stderr going to the [`LogStore`].
///
/// Besides the spec's env, the process gets `PATH` (the agent's) and `HOME`
/// (the user's, else the agent's), and these, which identify task
/// processes on the host:
///
/// | variable            | value               |
/// |---------------------|---------------------|
/// | `RSWARM_TASK_ID`    | the task's ID       |
/// | `RSWARM_SERVICE_ID` | its service's ID    |
/// | `RSWARM_NODE_ID`    | this node's ID      |
/// | `RSWARM_TASK_SLOT`  | its slot (0: global)|
///
/// All methods take `&self`; `wait` and `shutdown` may run concurrently.
/// When the process exits, anything left in its process group is killed
/// and the log is closed before `wait` resolves.
pub struct ProcessController {
    plan: Plan,
    logs: LogStore,
    phase: Mutex<Phase>,
    shared: Arc<Shared>,
    /// Where the task runs when it is attached to networks.
    network: std::sync::Mutex<Option<TaskNetwork>>,
}

impl std::fmt::Debug for ProcessController {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessController")
            .field("task_id", &self.plan.task_id)
            .field("argv", &self.plan.argv)
            .finish_non_exhaustive()
    }
}

impl ProcessController {
    pub(crate) fn new(plan: Plan, logs: LogStore) -> Self {
        Self {
            plan,
            logs,
            phase: Mutex::new(Phase::New),
            shared: Shared::new(),
            network: std::sync::Mutex::new(None),
        }
    }

    /// The task this controller runs.
    pub fn task_id(&self) -> &str {
        &self.plan.task_id
    }

    /// Resolves the user, checks the working directory, opens the log.
    async fn prepared(&self) -> Result<Phase, ExecError> {
        if let Some(dir) = &self.plan.dir {
            match tokio::fs::metadata(dir).await {
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    return Err(ExecError::InvalidSpec(format!(
                        "working directory {} is not a directory",
                        dir.display()
                    )));
                }
                Err(e) => {
                    return Err(ExecError::InvalidSpec(format!(
                        "working directory {} cannot be used: {e}",
                        dir.display()
                    )));
                }
            }
        }
        let user = self.plan.user.clone();
        let identity = if user.is_empty() {
            None
        } else {
            // passwd/group lookups may block (NSS); keep them off the workers.
            tokio::task::spawn_blocking(move || resolve_user(&user))
                .await
                .map_err(|e| ExecError::StartFailed(format!("user lookup did not finish: {e}")))?
                .map_err(ExecError::InvalidSpec)?
        };
        let writer = self.logs.writer(&self.plan.task_id)?;
        Ok(Phase::Prepared { identity, writer })
    }

    /// The outcome once published.
    fn outcome(&self) -> Outcome {
        self.shared.exit.borrow().clone()
    }

    /// Waits up to `limit` for the outcome; `false` on timeout.
    async fn exited_within(&self, limit: Duration) -> bool {
        let mut rx = self.shared.exit.subscribe();
        matches!(
            tokio::time::timeout(limit, rx.wait_for(Option::is_some)).await,
            Ok(Ok(_))
        )
    }

    /// Signals the process group unless the process was already reaped.
    fn signal_group(&self, pid: i32, signal: Signal) -> Result<(), ExecError> {
        if self.shared.reaped.load(Ordering::SeqCst) {
            return Ok(());
        }
        match killpg(Pid::from_raw(pid), signal) {
            Ok(()) | Err(Errno::ESRCH) => Ok(()),
            Err(e) => Err(ExecError::Io(e.into())),
        }
    }
}

fn outcome_result(outcome: Result<ExitStatus, String>) -> Result<ExitStatus, ExecError> {
    outcome.map_err(|e| ExecError::Io(std::io::Error::other(e)))
}

#[async_trait]
impl Controller for ProcessController {
    fn set_network(&self, network: TaskNetwork) -> Result<(), ExecError> {
        *self
            .network
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(network);
        Ok(())
    }

    async fn prepare(&self) -> Result<(), ExecError> {
        let mut phase = self.phase.lock().await;
        if matches!(*phase, Phase::New) {
            *phase = self.prepared().await?;
        }
        Ok(())
    }

    async fn start(&self) -> Result<i64, ExecError> {
        let mut phase = self.phase.lock().await;
        if matches!(*phase, Phase::New) {
            *phase = self.prepared().await?;
        }
        match &*phase {
            Phase::Prepared { identity, writer } => {
                let network = self
                    .network
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clone();
                let pid = launch(
                    &self.plan,
                    identity.as_ref(),
                    network.as_ref(),
                    writer.clone(),
                    self.logs.clone(),
                    self.shared.clone(),
                )?;
                tracing::debug!(task_id = %self.plan.task_id, pid, argv = ?self.plan.argv, "task process started");
                *phase = Phase::Started { pid };
                Ok(i64::from(pid))
            }
            Phase::Started { pid } => Ok(i64::from(*pid)),
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
        let mut rx = self.shared.exit.subscribe();
        let outcome = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| ExecError::Io(std::io::Error::other("the process monitor went away")))?
            .clone();
        match outcome {
            Some(o) => outcome_result(o),
            None => Err(ExecError::Io(std::io::Error::other("no exit status"))),
        }
    }

    async fn shutdown(&self) -> Result<(), ExecError> {
        let pid = {
            let mut phase = self.phase.lock().await;
            match &*phase {
                Phase::Started { pid } => *pid,
                Phase::Cancelled => return Ok(()),
                Phase::New | Phase::Prepared { .. } => {
                    if matches!(*phase, Phase::Prepared { .. }) {
                        // Its log was opened; end it so followers finish.
                        self.logs.close(&self.plan.task_id)?;
                    }
                    *phase = Phase::Cancelled;
                    return Ok(());
                }
            }
        };
        if self.outcome().is_some() {
            return Ok(());
        }
        self.signal_group(pid, self.plan.stop_signal)?;
        if self.exited_within(self.plan.grace).await {
            return Ok(());
        }
        tracing::debug!(task_id = %self.plan.task_id, pid, "grace period over; killing the task's process group");
        self.signal_group(pid, Signal::SIGKILL)?;
        if self.exited_within(KILL_LIMIT).await {
            Ok(())
        } else {
            Err(ExecError::Io(std::io::Error::other(format!(
                "process {pid} did not exit after SIGKILL"
            ))))
        }
    }

    async fn remove(&self) -> Result<(), ExecError> {
        self.shutdown().await
    }
}

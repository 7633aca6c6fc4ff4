//! Launching a task's process and watching it to the end.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::output::pump;
use super::plan::Plan;
use super::user::Identity;
use crate::{ExecError, ExitStatus, LogStore, LogStream, LogWriter, TaskNetwork};

/// `PATH` when the agent has none.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// How long output may keep flowing after the process exited (from
/// something that left its process group) before it is cut off.
const DRAIN_LIMIT: Duration = Duration::from_secs(2);

/// The end of a process: its status, or why it could not be collected.
pub(crate) type Outcome = Option<Result<ExitStatus, String>>;

/// State shared between a controller and its process's monitor.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Set once the process is reaped, its leftovers killed, its output
    /// drained and its log closed.
    pub exit: watch::Sender<Outcome>,
    /// Set as soon as the process is reaped: its PID (and process group
    /// ID) must no longer be signalled.
    pub reaped: AtomicBool,
}

impl Shared {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            exit: watch::Sender::new(None),
            reaped: AtomicBool::new(false),
        })
    }
}

/// Builds the command: argv, environment, working directory, identity, its
/// own process group, piped output, and its network when it has one.
fn command(
    plan: &Plan,
    identity: Option<&Identity>,
    network: Option<&TaskNetwork>,
) -> Result<Command, ExecError> {
    let mut cmd = Command::new(&plan.argv[0]);
    cmd.args(&plan.argv[1..]);
    cmd.env_clear();
    cmd.env(
        "PATH",
        std::env::var_os("PATH").unwrap_or_else(|| DEFAULT_PATH.into()),
    );
    let home = match identity.and_then(|i| i.home.clone()) {
        Some(h) => h.into_os_string(),
        None => std::env::var_os("HOME").unwrap_or_else(|| "/".into()),
    };
    cmd.env("HOME", home);
    for entry in &plan.env {
        match entry.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                cmd.env(k, v);
            }
            Some(_) => {}
            None => {
                cmd.env_remove(entry);
            }
        }
    }
    cmd.env("RSWARM_TASK_ID", &plan.task_id);
    cmd.env("RSWARM_SERVICE_ID", &plan.service_id);
    cmd.env("RSWARM_NODE_ID", &plan.node_id);
    cmd.env("RSWARM_TASK_SLOT", plan.slot.to_string());
    cmd.current_dir(plan.dir.as_deref().unwrap_or("/".as_ref()));
    match network {
        // The namespace calls need the agent's privileges: the user is
        // taken after them.
        Some(net) => super::enter::install(&mut cmd, net, identity)?,
        None => {
            if let Some(id) = identity {
                cmd.gid(id.gid);
                cmd.uid(id.uid);
            }
        }
    }
    cmd.process_group(0);
    cmd.kill_on_drop(false);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    Ok(cmd)
}

/// Starts the process, its output pumps and its monitor; returns its PID.
pub(crate) fn launch(
    plan: &Plan,
    identity: Option<&Identity>,
    network: Option<&TaskNetwork>,
    writer: LogWriter,
    logs: LogStore,
    shared: Arc<Shared>,
) -> Result<i32, ExecError> {
    let program = &plan.argv[0];
    let mut child = command(plan, identity, network)?
        .spawn()
        .map_err(|e| ExecError::StartFailed(format!("cannot run {program:?}: {e}")))?;
    let pid = child.id().and_then(|p| i32::try_from(p).ok());
    let (Some(pid), Some(stdout), Some(stderr)) = (pid, child.stdout.take(), child.stderr.take())
    else {
        // Not expected: spawn gives all three. Do not leave it running.
        if let Err(e) = child.start_kill() {
            tracing::warn!(error = %e, "killing a half-started task failed");
        }
        tokio::spawn(async move { child.wait().await });
        return Err(ExecError::StartFailed(format!(
            "{program:?} started without a PID or output pipes"
        )));
    };
    let pumps = [
        tokio::spawn(pump(stdout, LogStream::Stdout, writer.clone())),
        tokio::spawn(pump(stderr, LogStream::Stderr, writer)),
    ];
    tokio::spawn(monitor(
        child,
        pid,
        pumps,
        logs,
        plan.task_id.clone(),
        shared,
    ));
    Ok(pid)
}

/// Waits for the process, kills what it left in its process group (as a
/// container's PID namespace ends with its first process), lets its output
/// drain, closes its log, then publishes the exit status. Owning the child,
/// it always reaps it, even if the controller is gone.
async fn monitor(
    mut child: Child,
    pid: i32,
    pumps: [JoinHandle<()>; 2],
    logs: LogStore,
    task_id: String,
    shared: Arc<Shared>,
) {
    let outcome = child
        .wait()
        .await
        .map(exit_status)
        .map_err(|e| format!("waiting for the task's process failed: {e}"));
    shared.reaped.store(true, Ordering::SeqCst);
    // The kernel keeps the group ID allocated while any member lives, so
    // this reaches only our leftovers; with none left it fails with ESRCH
    // (reuse of the number in between would need a full PID wrap-around).
    let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    let aborts: Vec<_> = pumps.iter().map(JoinHandle::abort_handle).collect();
    let drained = tokio::time::timeout(DRAIN_LIMIT, async {
        for p in pumps {
            let _ = p.await;
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            task_id,
            "task output still open after its process exited; cutting it off"
        );
        aborts.iter().for_each(tokio::task::AbortHandle::abort);
    }
    if let Err(e) = logs.close(&task_id) {
        tracing::warn!(task_id, error = %e, "closing task log failed");
    }
    shared.exit.send_replace(Some(outcome));
}

/// Docker's view of an exit: the code, or 128 + signal.
fn exit_status(status: std::process::ExitStatus) -> ExitStatus {
    match (status.code(), status.signal()) {
        (Some(code), _) => ExitStatus {
            code: i64::from(code),
            signal: None,
        },
        (None, Some(sig)) => ExitStatus {
            code: 128 + i64::from(sig),
            signal: Some(sig),
        },
        (None, None) => ExitStatus {
            code: -1,
            signal: None,
        },
    }
}

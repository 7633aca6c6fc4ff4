//! A task's place on its networks, for its task manager: the network IDs
//! of its attachments (in order: `eth0`, `eth1`, ...), plumbing through
//! the node's [`DataPlane`] before the task starts, and undoing it once
//! its process is gone. The namespace is the runtime's when it keeps one
//! (`Controller::network_sandbox`: the docker runtime's sandbox
//! container), else the data plane creates it.
//!
//! The managers push the node's network map on its own stream, so the map
//! that carries a new task's endpoints may arrive a little after the
//! assignment: attaching retries while the data plane does not know the
//! network or the endpoint yet, for at most [`ATTACH_PATIENCE`].

use std::sync::Arc;
use std::time::Duration;

use rswarm_exec::TaskNetwork;
use rswarm_network::{AttachRequest, DataPlane, DnsSettings, NetError, TaskNetns};
use rswarm_types::{Task, TaskState};
use tokio::sync::watch;

/// How long a task waits for its endpoints to reach the node's map.
pub const ATTACH_PATIENCE: Duration = Duration::from_secs(30);

/// How often attaching is tried again meanwhile.
const RETRY: Duration = Duration::from_millis(200);

/// The networks `task` attaches to, in interface order.
pub fn networks(task: &Task) -> Vec<String> {
    task.networks_attachments
        .iter()
        .map(|a| a.network.id.clone())
        .filter(|id| !id.is_empty())
        .collect()
}

/// Why a task could not be plumbed.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    /// The node runs without a data plane.
    #[error(
        "this node cannot attach tasks to networks: its data plane is not running (the daemon needs root and nftables; see its log)"
    )]
    NoDataPlane,
    /// The runtime could not make the task's namespace (its sandbox).
    #[error("{0}")]
    Sandbox(#[from] rswarm_exec::ExecError),
    /// The data plane refused or failed.
    #[error("attaching the task to its networks failed: {0}")]
    Failed(#[from] NetError),
    /// The managers want the task stopped, or the agent stops.
    #[error("the task was stopped while waiting for its networks")]
    Stopped,
}

/// A task plumbed into its networks; [`Attachment::release`] undoes it.
pub struct Attachment {
    data_plane: Arc<dyn DataPlane>,
    task_id: String,
    released: bool,
}

impl Attachment {
    /// Plumbs `task` into `nets` in `netns` (the runtime's, or one the
    /// data plane creates), retrying while its endpoints are not in the
    /// node's map yet; gives up when `desired` wants the task stopped or
    /// `stop` fires.
    pub async fn attach(
        dp: &Arc<dyn DataPlane>,
        task: &Task,
        nets: Vec<String>,
        netns: TaskNetns,
        desired: &mut watch::Receiver<TaskState>,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<(Attachment, TaskNetwork), AttachError> {
        let req = AttachRequest {
            task_id: task.id.clone(),
            netns,
            networks: nets,
            dns: DnsSettings::default(),
        };
        let deadline = tokio::time::Instant::now() + ATTACH_PATIENCE;
        loop {
            match dp.attach(&req).await {
                Ok(a) => {
                    let attachment = Attachment {
                        data_plane: dp.clone(),
                        task_id: task.id.clone(),
                        released: false,
                    };
                    let network = TaskNetwork {
                        netns: a.netns,
                        resolv_conf: a.resolv_conf,
                    };
                    return Ok((attachment, network));
                }
                Err(NetError::NoEndpoint { .. } | NetError::UnknownNetwork(_))
                    if tokio::time::Instant::now() < deadline =>
                {
                    if desired.borrow().wants_stop() || *stop.borrow() {
                        return Err(AttachError::Stopped);
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(RETRY) => {}
                        _ = stop.changed() => return Err(AttachError::Stopped),
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Removes the task's plumbing (its process must be gone).
    pub async fn release(mut self) {
        self.released = true;
        if let Err(e) = self.data_plane.detach(&self.task_id).await {
            tracing::warn!(task_id = %self.task_id, "agent: detaching the task from its networks failed: {e}");
        }
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        if !self.released {
            // Not expected (every path releases); do not leave it behind.
            let (dp, id) = (self.data_plane.clone(), self.task_id.clone());
            let Ok(rt) = tokio::runtime::Handle::try_current() else {
                return;
            };
            rt.spawn(async move {
                if let Err(e) = dp.detach(&id).await {
                    tracing::warn!(task_id = %id, "agent: detaching the task from its networks failed: {e}");
                }
            });
        }
    }
}

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

/// The task's own DNS settings (`ContainerSpec.DNSConfig`: `docker
/// service create --dns/--dns-search/--dns-option`); the data plane uses
/// the host's for whatever they leave empty.
pub fn dns_settings(task: &Task) -> Result<DnsSettings, AttachError> {
    let Some(c) = task
        .spec
        .container_spec
        .as_ref()
        .and_then(|c| c.dns_config.as_ref())
    else {
        return Ok(DnsSettings::default());
    };
    let nameservers = c
        .nameservers
        .iter()
        .map(|n| n.parse().map_err(|_| AttachError::Nameserver(n.clone())))
        .collect::<Result<_, _>>()?;
    Ok(DnsSettings {
        nameservers,
        search: c.search.clone(),
        options: c.options.clone(),
    })
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
    /// The service's `ContainerSpec.DNSConfig` names a server that is not
    /// an IP address.
    #[error("invalid DNS nameserver {0:?} in the service's DNSConfig: not an IP address")]
    Nameserver(String),
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
            dns: dns_settings(task)?,
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

#[cfg(test)]
mod tests {
    use rswarm_types::{ContainerSpec, DnsConfig};

    use super::*;

    fn task(dns: Option<DnsConfig>) -> Task {
        let mut t = Task::default();
        t.spec.container_spec = Some(ContainerSpec {
            dns_config: dns,
            ..Default::default()
        });
        t
    }

    #[test]
    fn dns_settings_come_from_the_container_spec() {
        assert_eq!(
            dns_settings(&task(None)).expect("none"),
            DnsSettings::default()
        );
        let s = dns_settings(&task(Some(DnsConfig {
            nameservers: vec!["198.18.0.254".into(), "2001:db8::53".into()],
            search: vec!["corp.example".into()],
            options: vec!["ndots:2".into()],
        })))
        .expect("valid");
        assert_eq!(
            s.nameservers,
            [
                "198.18.0.254".parse::<std::net::IpAddr>().expect("ip"),
                "2001:db8::53".parse().expect("ip")
            ]
        );
        assert_eq!(s.search, ["corp.example"]);
        assert_eq!(s.options, ["ndots:2"]);
    }

    #[test]
    fn a_nameserver_that_is_no_address_is_named_in_the_error() {
        let e = dns_settings(&task(Some(DnsConfig {
            nameservers: vec!["dns.example".into()],
            ..Default::default()
        })))
        .expect_err("invalid");
        assert!(e.to_string().contains("\"dns.example\""), "{e}");
    }
}

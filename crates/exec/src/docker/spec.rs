//! A task's `ContainerSpec` → the engine's container-create body, the way
//! Docker Swarm's container adapter builds it. Pure: nothing here talks to
//! the engine.
//!
//! | ContainerSpec / Task            | container                               |
//! |---------------------------------|-----------------------------------------|
//! | `Image`                         | `Image`                                 |
//! | `Command`                       | `Entrypoint` (overrides the image's)    |
//! | `Args`                          | `Cmd`                                   |
//! | `Env`, `Dir`, `User`, `Hostname`| `Env`, `WorkingDir`, `User`, `Hostname` |
//! | `TTY`                           | `Tty`                                   |
//! | `StopSignal`                    | `StopSignal`                            |
//! | `StopGracePeriod`               | `StopTimeout` (seconds, rounded up)     |
//! | `Labels` + swarm labels         | `Labels`                                |
//! | `Resources.Limits`              | `HostConfig.NanoCpus`, `.Memory`        |
//! | `Resources.Reservations` memory | `HostConfig.MemoryReservation`          |
//! | host-mode published ports       | `ExposedPorts`, `HostConfig.PortBindings` (0: engine picks) |
//! | `DNSConfig` (a task on no network) | `HostConfig.Dns`, `.DnsSearch`, `.DnsOptions` |
//! | `<service>.<slot>.<task id>`    | the container name                      |

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::{ContainerCreateBody, HostConfig, PortBinding};
use rswarm_types::{ContainerSpec, DEFAULT_STOP_GRACE_PERIOD, Task};

use crate::ExecError;
use crate::process::parse_signal;

/// Label holding the node ID (leftover cleanup filters on it).
pub const LABEL_NODE_ID: &str = "com.docker.swarm.node.id";
/// Label holding the service ID.
pub const LABEL_SERVICE_ID: &str = "com.docker.swarm.service.id";
/// Label holding the service name.
pub const LABEL_SERVICE_NAME: &str = "com.docker.swarm.service.name";
/// Label present (empty) on every swarm task container.
pub const LABEL_TASK: &str = "com.docker.swarm.task";
/// Label holding the task ID.
pub const LABEL_TASK_ID: &str = "com.docker.swarm.task.id";
/// Label holding the task name (`<service>.<slot>.<task id>`).
pub const LABEL_TASK_NAME: &str = "com.docker.swarm.task.name";

/// Everything needed to create one task's container.
#[derive(Clone, Debug)]
pub struct ContainerPlan {
    /// The task's ID (names its log).
    pub task_id: String,
    /// The container name, `<service>.<slot>.<task id>`.
    pub name: String,
    /// The image reference as the spec gives it.
    pub image: String,
    /// How long `docker stop` waits before killing.
    pub grace: Duration,
    /// The create request body.
    pub body: ContainerCreateBody,
}

impl ContainerPlan {
    /// Checks `task` for the docker runtime and builds its container.
    /// `node_id` is used when the task does not name its node.
    pub fn from_task(task: &Task, node_id: &str) -> Result<Self, ExecError> {
        crate::unsupported::check_supported(task, "docker")?;
        let Some(spec) = &task.spec.container_spec else {
            return Err(ExecError::InvalidSpec(
                "the docker runtime runs a container: the task has no container spec".into(),
            ));
        };
        let image = spec.image.trim();
        if image.is_empty() {
            return Err(ExecError::InvalidSpec(
                "the docker runtime runs a container: the service has no image".into(),
            ));
        }
        let dir = spec.dir.trim();
        if !dir.is_empty() && !dir.starts_with('/') {
            return Err(ExecError::InvalidSpec(format!(
                "the working directory {dir:?} is invalid: it needs to be an absolute path"
            )));
        }
        parse_signal(&spec.stop_signal).map_err(ExecError::InvalidSpec)?;
        let grace_nanos = spec
            .stop_grace_period
            .unwrap_or(DEFAULT_STOP_GRACE_PERIOD)
            .max(0);
        let grace = Duration::from_nanos(u64::try_from(grace_nanos).unwrap_or(0));
        let name = task_name(task);
        let node_id = if task.node_id.is_empty() {
            node_id
        } else {
            &task.node_id
        };
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            entrypoint: non_empty(&spec.command),
            cmd: non_empty(&spec.args),
            env: non_empty(&spec.env),
            working_dir: Some(dir.to_string()).filter(|d| !d.is_empty()),
            user: Some(spec.user.clone()).filter(|u| !u.is_empty()),
            hostname: Some(spec.hostname.clone()).filter(|h| !h.is_empty()),
            tty: spec.tty.then_some(true),
            stop_signal: Some(spec.stop_signal.trim().to_string()).filter(|s| !s.is_empty()),
            stop_timeout: Some(stop_timeout_secs(grace)),
            labels: Some(labels(task, spec, &name, node_id)),
            exposed_ports: non_empty(
                &host_ports(task)
                    .into_iter()
                    .map(|(k, _)| k)
                    .collect::<Vec<_>>(),
            ),
            host_config: Some(host_config(task)),
            ..Default::default()
        };
        Ok(Self {
            task_id: task.id.clone(),
            name,
            image: image.to_string(),
            grace,
            body,
        })
    }
}

/// Swarm's task name, `<service>.<slot>.<task id>` (`<service>.<node
/// id>.<task id>` for global tasks), usable as a container name: the
/// service ID stands in when the task does not carry its service's name.
pub fn task_name(task: &Task) -> String {
    if task.service_annotations.name.is_empty() {
        let mut t = task.clone();
        t.service_annotations.name = if task.service_id.is_empty() {
            "task".into()
        } else {
            task.service_id.clone()
        };
        return t.full_name();
    }
    task.full_name()
}

/// The grace period in whole seconds, rounded up (the engine's unit).
pub fn stop_timeout_secs(grace: Duration) -> i64 {
    let secs = grace.as_secs() + u64::from(grace.subsec_nanos() > 0);
    i64::try_from(secs).unwrap_or(i64::MAX)
}

/// The spec's labels with the swarm labels on top.
fn labels(task: &Task, spec: &ContainerSpec, name: &str, node_id: &str) -> HashMap<String, String> {
    let mut labels: HashMap<String, String> = spec
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, v) in [
        (LABEL_NODE_ID, node_id),
        (LABEL_SERVICE_ID, task.service_id.as_str()),
        (LABEL_SERVICE_NAME, task.service_annotations.name.as_str()),
        (LABEL_TASK, ""),
        (LABEL_TASK_ID, task.id.as_str()),
        (LABEL_TASK_NAME, name),
    ] {
        labels.insert(k.to_string(), v.to_string());
    }
    labels
}

/// `"<target>/<protocol>"` and the host port of each port `task`
/// publishes in host mode (empty: the engine picks one).
fn host_ports(task: &Task) -> Vec<(String, String)> {
    task.endpoint_spec
        .iter()
        .flat_map(|e| e.ports.iter())
        .filter(|p| p.publish_mode == "host")
        .map(|p| {
            let proto = if p.protocol.is_empty() {
                "tcp"
            } else {
                p.protocol.as_str()
            };
            let host = if p.published_port == 0 {
                String::new()
            } else {
                p.published_port.to_string()
            };
            (format!("{}/{proto}", p.target_port), host)
        })
        .collect()
}

/// CPU and memory limits, memory reservation, host-mode port bindings.
fn host_config(task: &Task) -> HostConfig {
    let bindings: HashMap<String, Option<Vec<PortBinding>>> = host_ports(task)
        .into_iter()
        .map(|(port, host)| {
            let binding = PortBinding {
                host_ip: None,
                host_port: Some(host),
            };
            (port, Some(vec![binding]))
        })
        .collect();
    let resources = task.spec.resources.as_ref();
    let limits = resources.and_then(|r| r.limits.as_ref());
    let reservations = resources.and_then(|r| r.reservations.as_ref());
    let positive = |v: i64| Some(v).filter(|v| *v > 0);
    let dns = task
        .spec
        .container_spec
        .as_ref()
        .and_then(|c| c.dns_config.as_ref());
    HostConfig {
        dns: dns.and_then(|d| non_empty(&d.nameservers)),
        dns_search: dns.and_then(|d| non_empty(&d.search)),
        dns_options: dns.and_then(|d| non_empty(&d.options)),
        nano_cpus: limits.and_then(|l| positive(l.nano_cpus)),
        memory: limits.and_then(|l| positive(l.memory_bytes)),
        memory_reservation: reservations.and_then(|r| positive(r.memory_bytes)),
        port_bindings: (!bindings.is_empty()).then_some(bindings),
        ..Default::default()
    }
}

fn non_empty(v: &[String]) -> Option<Vec<String>> {
    (!v.is_empty()).then(|| v.to_vec())
}

/// `fromImage` and `tag` for pulling `image`: a digest reference is pulled
/// as is, a reference without a tag gets `latest` (an empty tag would pull
/// every tag).
pub fn pull_reference(image: &str) -> (String, Option<String>) {
    if image.contains('@') {
        return (image.to_string(), None);
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        Some((_, tag)) => {
            let repo = &image[..image.len() - tag.len() - 1];
            (repo.to_string(), Some(tag.to_string()))
        }
        None => (image.to_string(), Some("latest".to_string())),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "spec_tests.rs"]
mod tests;

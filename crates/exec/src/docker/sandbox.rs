//! The network sandbox of a task attached to swarm networks: a small
//! container with `NetworkMode: none` that only holds the task's network
//! namespace. The node's data plane plumbs that namespace
//! (`/proc/<pid>/ns/net`); the task container then joins it
//! (`NetworkMode: container:<sandbox id>`) with the data plane's
//! resolv.conf bind-mounted read-only on `/etc/resolv.conf`.
//!
//! * The sandbox runs the task's own image with `sleep 2147483647` (an
//!   image without `sleep` cannot run on networks in this runtime: the
//!   task is rejected with the engine's reason). It carries the task's
//!   hostname (a container joining another's network cannot set one),
//!   logs nothing, is named `<task name>-sandbox` and labelled with the
//!   node ID (the leftovers sweep removes it) and [`LABEL_SANDBOX`] = the
//!   task ID; it has no task label, so it is not a task container.
//! * It is removed once the task's process is gone and the agent
//!   detached the task from its networks (`release_network`), while the
//!   task's container stays for logs and inspect; or with the task
//!   container when the task is removed before it ran.
//!
//! The bodies are pure ([`sandbox_body`], [`join_sandbox`]); [`Sandbox`]
//! talks to the engine.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig, HostConfigLogConfig, Mount, MountType};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, InspectContainerOptions, RemoveContainerOptionsBuilder,
    StartContainerOptions,
};

use super::error;
use super::image::ensure_image;
use super::spec::{ContainerPlan, LABEL_NODE_ID};
use crate::ExecError;

/// Label of a sandbox container, holding its task's ID.
pub const LABEL_SANDBOX: &str = "rswarm.sandbox.task.id";

/// Where the task container finds its resolver configuration.
const RESOLV_CONF: &str = "/etc/resolv.conf";

/// The sandbox container's name for the task container `task_name`.
pub fn sandbox_name(task_name: &str) -> String {
    format!("{task_name}-sandbox")
}

/// The create body of `plan`'s sandbox. Fails when the task publishes
/// host-mode ports (a container without a network of its own cannot).
pub fn sandbox_body(plan: &ContainerPlan) -> Result<ContainerCreateBody, ExecError> {
    let publishes = plan
        .body
        .host_config
        .as_ref()
        .is_some_and(|h| h.port_bindings.is_some());
    if publishes {
        return Err(ExecError::InvalidSpec(
            "the docker runtime cannot publish host-mode ports of a task attached to swarm networks yet"
                .into(),
        ));
    }
    let node = plan
        .body
        .labels
        .as_ref()
        .and_then(|l| l.get(LABEL_NODE_ID))
        .cloned()
        .unwrap_or_default();
    Ok(ContainerCreateBody {
        image: Some(plan.image.clone()),
        entrypoint: Some(vec!["sleep".into()]),
        cmd: Some(vec!["2147483647".into()]),
        hostname: plan.body.hostname.clone(),
        labels: Some(HashMap::from([
            (LABEL_NODE_ID.to_string(), node),
            (LABEL_SANDBOX.to_string(), plan.task_id.clone()),
        ])),
        host_config: Some(HostConfig {
            network_mode: Some("none".into()),
            log_config: Some(HostConfigLogConfig {
                typ: Some("none".into()),
                config: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// Makes task container `body` join sandbox `sandbox_id`'s network
/// namespace with `resolv_conf` on `/etc/resolv.conf` (read-only; the
/// data plane wrote the task's DNS settings there, and the engine refuses
/// DNS settings with a container's network); its hostname is the
/// sandbox's.
pub fn join_sandbox(body: &mut ContainerCreateBody, sandbox_id: &str, resolv_conf: &Path) {
    body.hostname = None;
    let host = body.host_config.get_or_insert_with(HostConfig::default);
    host.network_mode = Some(format!("container:{sandbox_id}"));
    host.dns = None;
    host.dns_search = None;
    host.dns_options = None;
    host.mounts.get_or_insert_with(Vec::new).push(Mount {
        target: Some(RESOLV_CONF.into()),
        source: Some(resolv_conf.to_string_lossy().into_owned()),
        typ: Some(MountType::BIND),
        read_only: Some(true),
        ..Default::default()
    });
}

/// A running sandbox container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sandbox {
    pub id: String,
    pub pid: i64,
}

impl Sandbox {
    /// Its network namespace, for the data plane.
    pub fn netns(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/ns/net", self.pid))
    }

    /// Creates and starts `plan`'s sandbox (one left under its name by an
    /// earlier attempt is replaced); on failure nothing stays.
    pub async fn start(docker: &Docker, plan: &ContainerPlan) -> Result<Sandbox, ExecError> {
        let body = sandbox_body(plan)?;
        ensure_image(docker, &plan.image).await?;
        let name = sandbox_name(&plan.name);
        let options = CreateContainerOptionsBuilder::new().name(&name).build();
        let created = match docker
            .create_container(Some(options.clone()), body.clone())
            .await
        {
            Err(e) if error::is_conflict(&e) => {
                remove(docker, &name).await?;
                docker.create_container(Some(options), body).await
            }
            r => r,
        }
        .map_err(|e| error::engine(&format!("creating the network sandbox {name}"), &e))?;
        let id = created.id;
        let started = async {
            docker
                .start_container(&id, None::<StartContainerOptions>)
                .await
                .map_err(|e| {
                    ExecError::InvalidSpec(format!(
                        "starting the network sandbox {name} (the image runs `sleep` there): {}",
                        error::describe(&e)
                    ))
                })?;
            let c = docker
                .inspect_container(&id, None::<InspectContainerOptions>)
                .await
                .map_err(|e| {
                    error::engine(&format!("inspecting the network sandbox {name}"), &e)
                })?;
            match c.state.and_then(|s| s.pid).filter(|p| *p > 0) {
                Some(pid) => Ok(pid),
                None => Err(ExecError::StartFailed(format!(
                    "the network sandbox {name} exited at once"
                ))),
            }
        }
        .await;
        match started {
            Ok(pid) => Ok(Sandbox { id, pid }),
            Err(e) => {
                if let Err(rm) = remove(docker, &id).await {
                    tracing::warn!(container = id, error = %rm, "removing a network sandbox that did not start failed");
                }
                Err(e)
            }
        }
    }

    /// Kills and removes it (gone already is fine).
    pub async fn remove(&self, docker: &Docker) -> Result<(), ExecError> {
        remove(docker, &self.id).await
    }
}

async fn remove(docker: &Docker, container: &str) -> Result<(), ExecError> {
    let options = RemoveContainerOptionsBuilder::new()
        .force(true)
        .v(true)
        .build();
    match docker.remove_container(container, Some(options)).await {
        Ok(()) => Ok(()),
        Err(e) if error::is_not_found(&e) || error::is_conflict(&e) => Ok(()),
        Err(e) => Err(error::engine(
            &format!("removing the network sandbox {container}"),
            &e,
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use rswarm_types::{ContainerSpec, Task};

    use super::*;

    fn plan() -> ContainerPlan {
        let mut t = Task {
            id: "task1".into(),
            service_id: "svc1".into(),
            node_id: "node1".into(),
            slot: 2,
            ..Default::default()
        };
        t.service_annotations.name = "web".into();
        t.spec.container_spec = Some(ContainerSpec {
            image: "busybox".into(),
            hostname: "h".into(),
            ..Default::default()
        });
        ContainerPlan::from_task(&t, "node1").unwrap()
    }

    #[test]
    fn sandbox_holds_the_network_and_hostname_only() {
        let p = plan();
        let b = sandbox_body(&p).unwrap();
        assert_eq!(b.image.as_deref(), Some("busybox"));
        assert_eq!(b.hostname.as_deref(), Some("h"));
        let h = b.host_config.unwrap();
        assert_eq!(h.network_mode.as_deref(), Some("none"));
        assert_eq!(h.log_config.unwrap().typ.as_deref(), Some("none"));
        let l = b.labels.unwrap();
        assert_eq!(l[LABEL_NODE_ID], "node1");
        assert_eq!(l[LABEL_SANDBOX], "task1");
        assert!(!l.contains_key(super::super::spec::LABEL_TASK_ID));
        assert_eq!(sandbox_name(&p.name), format!("{}-sandbox", p.name));
    }

    #[test]
    fn task_container_joins_the_sandbox() {
        let mut b = plan().body;
        // DNS settings reach the task through its resolv.conf instead.
        let h = b.host_config.get_or_insert_with(HostConfig::default);
        h.dns = Some(vec!["198.18.0.254".into()]);
        h.dns_search = Some(vec!["corp.example".into()]);
        h.dns_options = Some(vec!["ndots:2".into()]);
        join_sandbox(
            &mut b,
            "abc",
            Path::new("/data/tasks/net/task1/resolv.conf"),
        );
        assert_eq!(b.hostname, None);
        let h = b.host_config.unwrap();
        assert_eq!(h.network_mode.as_deref(), Some("container:abc"));
        assert_eq!((h.dns, h.dns_search, h.dns_options), (None, None, None));
        let m = &h.mounts.unwrap()[0];
        assert_eq!(m.target.as_deref(), Some("/etc/resolv.conf"));
        assert_eq!(
            m.source.as_deref(),
            Some("/data/tasks/net/task1/resolv.conf")
        );
        assert_eq!(m.typ, Some(MountType::BIND));
        assert_eq!(m.read_only, Some(true));
    }

    #[test]
    fn host_mode_ports_are_refused_on_networks() {
        let mut p = plan();
        p.body.host_config.as_mut().unwrap().port_bindings = Some(HashMap::new());
        let e = sandbox_body(&p).unwrap_err();
        assert!(e.to_string().contains("host-mode ports"), "{e}");
    }
}

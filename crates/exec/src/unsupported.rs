//! Spec features no executor applies yet. A task that asks for one is
//! rejected with a clear reason instead of running without it.
//! (Host-mode published ports: the docker runtime binds them, a process
//! binds its port itself; ingress ports are refused by the managers.)

use rswarm_types::Task;

use crate::ExecError;

/// Fails when `task` needs something `runtime` cannot give it yet:
/// mounts (both runtimes).
pub fn check_supported(task: &Task, runtime: &str) -> Result<(), ExecError> {
    let mounts = task
        .spec
        .container_spec
        .as_ref()
        .is_some_and(|c| !c.mounts.is_empty());
    if mounts {
        return Err(ExecError::InvalidSpec(format!(
            "the {runtime} runtime does not support mounts yet (ContainerSpec.Mounts)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::{ContainerSpec, EndpointSpec, PortConfig};

    #[test]
    fn mounts_are_refused_ports_are_not() {
        let mut task = Task::default();
        let mut c = ContainerSpec {
            image: "busybox".into(),
            ..Default::default()
        };
        check_supported(&task, "process").expect("plain task");
        c.mounts.push(rswarm_types::Mount {
            kind: "bind".into(),
            source: "/tmp".into(),
            target: "/x".into(),
            ..Default::default()
        });
        task.spec.container_spec = Some(c);
        let err = check_supported(&task, "process").expect_err("mounts");
        assert!(err.to_string().contains("does not support mounts"));
        task.spec.container_spec = Some(ContainerSpec {
            image: "busybox".into(),
            ..Default::default()
        });
        task.endpoint_spec = Some(EndpointSpec {
            ports: vec![PortConfig {
                target_port: 80,
                published_port: 8080,
                publish_mode: "host".into(),
                ..Default::default()
            }],
            ..Default::default()
        });
        check_supported(&task, "process").expect("a process binds its own port");
        check_supported(&task, "docker").expect("the engine binds it");
    }
}

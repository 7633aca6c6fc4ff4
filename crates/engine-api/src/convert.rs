//! The few conversions between stored objects and Engine API JSON that the
//! serde forms of `rswarm-types` do not already do:
//!
//! - outgoing services and tasks never carry a null where the CLI
//!   dereferences a pointer (`ContainerSpec`, `Replicas`, job counts,
//!   `JobStatus`), and internal bookkeeping fields are dropped (a task's
//!   `ServiceAnnotations`, a node's certificate role);
//! - a task's `ContainerStatus` carries all three of moby's fields, zero
//!   values included, as Docker prints them;
//! - `insertDefaults=true` fills swarmkit's defaults
//!   (`api/defaults.InterpolateService`);
//! - incoming specs move the deprecated top-level `Networks` into
//!   `TaskTemplate.Networks`;
//! - incoming specs get moby's conversions (see [`spec_in`]).

use rswarm_types::{
    ControlError, DEFAULT_RESTART_DELAY, DEFAULT_STOP_GRACE_PERIOD, JobStatus, ModeKind, Node,
    Placement, ResourceRequirements, RestartCondition, RestartPolicy, SECOND, Service, ServiceSpec,
    Task, TaskSpec, UpdateConfig,
};

/// Default `Monitor` of update and rollback configs (5 s).
pub const DEFAULT_MONITOR: i64 = 5 * SECOND;

/// Makes a service safe for the CLI to decode and dereference.
pub fn service_out(mut s: Service) -> Service {
    spec_out(&mut s.spec);
    if let Some(prev) = s.previous_spec.as_mut() {
        spec_out(prev);
    }
    let is_job = matches!(
        s.spec.mode.kind(),
        Some(ModeKind::ReplicatedJob) | Some(ModeKind::GlobalJob)
    );
    if is_job && s.job_status.is_none() {
        s.job_status = Some(JobStatus::default());
    }
    s.spec_version = None;
    s.previous_spec_version = None;
    s
}

fn spec_out(spec: &mut ServiceSpec) {
    task_spec_out(&mut spec.task_template);
    if let Some(r) = spec.mode.replicated.as_mut() {
        r.replicas.get_or_insert(1);
    }
    if let Some(j) = spec.mode.replicated_job.as_mut() {
        let max = *j.max_concurrent.get_or_insert(1);
        j.total_completions.get_or_insert(max);
    }
}

fn task_spec_out(spec: &mut TaskSpec) {
    spec.container_spec.get_or_insert_with(Default::default);
}

/// A task as the Engine API shows it: non-null `Spec.ContainerSpec`, no
/// `Spec.Runtime`, a `ContainerStatus` (once there is one) with all of
/// `ContainerID`, `PID` and `ExitCode` (moby's `swarm.ContainerStatus` has
/// no `omitempty`: a running task shows `"ExitCode": 0`, an exited one
/// `"PID": 0`), and none of rswarm's internal bookkeeping
/// (`ServiceAnnotations`, spec versions, the endpoint copy).
pub fn task_out(mut t: Task) -> serde_json::Value {
    task_spec_out(&mut t.spec);
    // moby shows `Runtime` on service specs only.
    t.spec.runtime.clear();
    t.spec_version = None;
    t.endpoint_spec = None;
    let mut v = serde_json::to_value(t).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.remove("ServiceAnnotations");
    }
    if let Some(c) = v
        .pointer_mut("/Status/ContainerStatus")
        .and_then(serde_json::Value::as_object_mut)
    {
        c.entry("ContainerID").or_insert_with(|| "".into());
        c.entry("PID").or_insert_with(|| 0.into());
        c.entry("ExitCode").or_insert_with(|| 0.into());
    }
    v
}

/// A node as the Engine API shows it: without the role its certificate
/// grants (internal; clients read the desired role in `Spec.Role` and
/// moby's `swarm.Node` has no top-level `Role`) and without its network
/// attachments (swarmkit keeps them; moby's `swarm.Node` does not show them).
pub fn node_out(n: Node) -> serde_json::Value {
    let mut v = serde_json::to_value(n).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.remove("Role");
        o.remove("Attachments");
    }
    v
}

/// Fills swarmkit's defaults into a spec, for `insertDefaults=true`.
pub fn insert_defaults(spec: &mut ServiceSpec) {
    let task = &mut spec.task_template;
    if let Some(c) = task.container_spec.as_mut() {
        c.stop_grace_period.get_or_insert(DEFAULT_STOP_GRACE_PERIOD);
        c.dns_config.get_or_insert_with(Default::default);
    }
    task.resources
        .get_or_insert_with(ResourceRequirements::default);
    let restart = task
        .restart_policy
        .get_or_insert_with(RestartPolicy::default);
    restart.condition.get_or_insert(RestartCondition::Any);
    restart.delay.get_or_insert(DEFAULT_RESTART_DELAY);
    restart.max_attempts.get_or_insert(0);
    task.placement.get_or_insert_with(Placement::default);
    fill_update_config(&mut spec.update_config);
    fill_update_config(&mut spec.rollback_config);
}

/// swarmkit's default update (and rollback) config.
pub fn default_update_config() -> UpdateConfig {
    UpdateConfig {
        parallelism: 1,
        delay: None,
        failure_action: "pause".into(),
        monitor: Some(DEFAULT_MONITOR),
        max_failure_ratio: 0.0,
        order: "stop-first".into(),
    }
}

/// A missing config becomes the default; a present one gets its missing
/// `Monitor` and the enum defaults swarmkit would report (`pause`,
/// `stop-first`), keeping every value the user set.
fn fill_update_config(config: &mut Option<UpdateConfig>) {
    let u = config.get_or_insert_with(default_update_config);
    if u.failure_action.is_empty() {
        u.failure_action = "pause".into();
    }
    u.monitor.get_or_insert(DEFAULT_MONITOR);
    if u.order.is_empty() {
        u.order = "stop-first".into();
    }
}

/// Moves the deprecated top-level `Networks` of a spec into
/// `TaskTemplate.Networks` (400 when both are set).
pub fn move_deprecated_networks(spec: &mut ServiceSpec) -> Result<(), ControlError> {
    if spec.networks.is_empty() {
        return Ok(());
    }
    if !spec.task_template.networks.is_empty() {
        return Err(ControlError::invalid(
            "cannot specify both Networks and TaskTemplate.Networks: use TaskTemplate.Networks only",
        ));
    }
    spec.task_template.networks = std::mem::take(&mut spec.networks);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::{ContainerSpec, ReplicatedJob, ReplicatedService, ServiceMode};

    #[test]
    fn outgoing_never_null_where_cli_dereferences() {
        let mut s = Service::default();
        s.spec.mode = ServiceMode {
            replicated: Some(ReplicatedService { replicas: None }),
            ..Default::default()
        };
        let j = serde_json::to_value(service_out(s)).expect("json");
        assert_eq!(j["Spec"]["Mode"]["Replicated"]["Replicas"], 1);
        assert!(j["Spec"]["TaskTemplate"]["ContainerSpec"].is_object());
        assert!(j.get("SpecVersion").is_none());

        let mut s = Service::default();
        s.spec.mode.replicated_job = Some(ReplicatedJob {
            max_concurrent: Some(3),
            total_completions: None,
        });
        let j = serde_json::to_value(service_out(s)).expect("json");
        assert_eq!(j["Spec"]["Mode"]["ReplicatedJob"]["TotalCompletions"], 3);
        assert_eq!(j["JobStatus"]["JobIteration"]["Index"], 0);

        let j = task_out(Task::default());
        assert!(j["Spec"]["ContainerSpec"].is_object());
        assert!(j.get("ServiceAnnotations").is_none());
    }

    #[test]
    fn container_status_has_moby_fields_with_zero_values() {
        use rswarm_types::ContainerStatus;
        // Not started yet: no ContainerStatus at all, as in Docker.
        let j = task_out(Task::default());
        assert!(j["Status"].get("ContainerStatus").is_none(), "{j}");

        let mut running = Task::default();
        running.status.container_status = Some(ContainerStatus {
            pid: 42,
            ..Default::default()
        });
        let j = task_out(running);
        assert_eq!(
            j["Status"]["ContainerStatus"],
            serde_json::json!({"ContainerID": "", "PID": 42, "ExitCode": 0})
        );

        let mut exited = Task::default();
        exited.status.container_status = Some(ContainerStatus {
            container_id: "c0ffee".into(),
            exit_code: 3,
            ..Default::default()
        });
        let j = task_out(exited);
        assert_eq!(
            j["Status"]["ContainerStatus"],
            serde_json::json!({"ContainerID": "c0ffee", "PID": 0, "ExitCode": 3})
        );
    }

    #[test]
    fn node_has_no_top_level_role_or_attachments() {
        let n = Node {
            role: rswarm_types::NodeRole::Manager,
            attachments: vec![rswarm_types::NetworkAttachment::default()],
            spec: rswarm_types::NodeSpec {
                role: rswarm_types::NodeRole::Manager,
                ..Default::default()
            },
            ..Default::default()
        };
        let j = node_out(n);
        assert!(j.get("Role").is_none(), "{j}");
        assert!(j.get("Attachments").is_none(), "{j}");
        assert_eq!(j["Spec"]["Role"], "manager");
    }

    #[test]
    fn defaults_like_swarmkit() {
        let mut spec = ServiceSpec::default();
        spec.task_template.container_spec = Some(ContainerSpec {
            image: "busybox".into(),
            ..Default::default()
        });
        insert_defaults(&mut spec);
        let j = serde_json::to_value(&spec).expect("json");
        let u = &j["UpdateConfig"];
        assert_eq!(
            (u["Parallelism"].as_u64(), u["FailureAction"].as_str()),
            (Some(1), Some("pause"))
        );
        assert_eq!(
            (u["Monitor"].as_i64(), u["Order"].as_str()),
            (Some(5 * SECOND), Some("stop-first"))
        );
        assert_eq!(u["MaxFailureRatio"], 0.0);
        assert_eq!(j["RollbackConfig"], j["UpdateConfig"]);
        let r = &j["TaskTemplate"]["RestartPolicy"];
        assert_eq!(
            (
                r["Condition"].as_str(),
                r["Delay"].as_i64(),
                r["MaxAttempts"].as_u64()
            ),
            (Some("any"), Some(5 * SECOND), Some(0))
        );
        let c = &j["TaskTemplate"]["ContainerSpec"];
        assert_eq!(c["StopGracePeriod"], 10 * SECOND);
        assert!(c["DNSConfig"].is_object());
        assert!(
            j["TaskTemplate"]["Placement"].is_object()
                && j["TaskTemplate"]["Resources"].is_object()
        );
    }

    #[test]
    fn user_values_survive_defaults() {
        let mut spec = ServiceSpec {
            update_config: Some(UpdateConfig {
                parallelism: 0,
                order: "start-first".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        insert_defaults(&mut spec);
        let u = spec.update_config.expect("set");
        assert_eq!(
            (u.parallelism, u.order.as_str(), u.failure_action.as_str()),
            (0, "start-first", "pause")
        );
    }

    #[test]
    fn deprecated_networks_move() {
        let mut spec: ServiceSpec =
            serde_json::from_str(r#"{"Name":"a","Networks":[{"Target":"net1"}]}"#).expect("parse");
        move_deprecated_networks(&mut spec).expect("ok");
        assert_eq!(spec.task_template.networks[0].target, "net1");
        assert!(spec.networks.is_empty());
        let mut both: ServiceSpec = serde_json::from_str(
            r#"{"Networks":[{"Target":"a"}],"TaskTemplate":{"Networks":[{"Target":"b"}]}}"#,
        )
        .expect("parse");
        assert!(move_deprecated_networks(&mut both).is_err());
    }
}

//! `ServiceStatus` for `GET /services?status=true`, computed like swarmkit's
//! `ListServiceStatuses`: running = tasks observed `running` (ignoring
//! nodes that are down, as the CLI's own fallback does); desired =
//! replicas (replicated), `MaxConcurrent` (replicated job), or the count
//! of tasks that should run or complete (global and global job). Jobs
//! only count tasks of the current iteration.

use std::collections::{HashMap, HashSet};

use rswarm_types::{ModeKind, Node, NodeState, Service, ServiceStatus, Task, TaskState};

/// The status of `service` given its tasks (others are skipped, so all
/// tasks do too) and the IDs of down nodes.
pub fn service_status<'a>(
    service: &Service,
    tasks: impl IntoIterator<Item = &'a Task>,
    down_nodes: &HashSet<&str>,
) -> ServiceStatus {
    let mut status = ServiceStatus::default();
    let kind = service.spec.mode.kind();
    let global = matches!(kind, Some(ModeKind::Global) | Some(ModeKind::GlobalJob));
    match kind {
        Some(ModeKind::Replicated) => {
            status.desired_tasks = service.spec.mode.replicas().unwrap_or(1)
        }
        Some(ModeKind::ReplicatedJob) => {
            status.desired_tasks = service
                .spec
                .mode
                .replicated_job
                .as_ref()
                .and_then(|j| j.max_concurrent)
                .unwrap_or(1)
        }
        _ => {}
    }
    let iteration = service.job_status.as_ref().map(|j| j.job_iteration);
    for task in tasks.into_iter().filter(|t| t.service_id == service.id) {
        if let Some(it) = iteration {
            if task.job_iteration != Some(it) {
                continue;
            }
            if task.status.state == TaskState::Complete {
                status.completed_tasks += 1;
            }
        }
        if task.status.state == TaskState::Running && !down_nodes.contains(task.node_id.as_str()) {
            status.running_tasks += 1;
        }
        if global && task.desired_state == TaskState::Running {
            status.desired_tasks += 1;
        }
        if global
            && task.desired_state == TaskState::Complete
            && task.status.state != TaskState::Complete
        {
            status.desired_tasks += 1;
        }
    }
    status
}

/// The status of each of `services`, by service ID, given each one's
/// tasks (`tasks_of`) and the IDs of down nodes.
pub fn statuses_by_id<'a, I: IntoIterator<Item = &'a Task>>(
    services: &'a [Service],
    mut tasks_of: impl FnMut(&'a Service) -> I,
    down_nodes: &HashSet<&str>,
) -> HashMap<String, ServiceStatus> {
    services
        .iter()
        .map(|s| (s.id.clone(), service_status(s, tasks_of(s), down_nodes)))
        .collect()
}

/// IDs of nodes whose state is `down`.
pub fn down_nodes<'a>(nodes: impl IntoIterator<Item = &'a Node>) -> HashSet<&'a str> {
    nodes
        .into_iter()
        .filter(|n| n.status.state == NodeState::Down)
        .map(|n| n.id.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::{ServiceMode, Version};

    fn task(svc: &str, node: &str, desired: TaskState, state: TaskState) -> Task {
        let mut t = Task {
            service_id: svc.into(),
            node_id: node.into(),
            desired_state: desired,
            ..Default::default()
        };
        t.status.state = state;
        t
    }

    #[test]
    fn replicated_and_global() {
        let svc = Service {
            id: "s".into(),
            spec: rswarm_types::ServiceSpec {
                mode: ServiceMode::replicated(3),
                ..Default::default()
            },
            ..Default::default()
        };
        let tasks = vec![
            task("s", "n1", TaskState::Running, TaskState::Running),
            task("s", "n2", TaskState::Running, TaskState::Running),
            task("s", "n3", TaskState::Shutdown, TaskState::Running),
            task("s", "n1", TaskState::Shutdown, TaskState::Failed),
            task("other", "n1", TaskState::Running, TaskState::Running),
        ];
        let down: HashSet<&str> = ["n3"].into_iter().collect();
        let st = service_status(&svc, &tasks, &down);
        assert_eq!(
            (st.running_tasks, st.desired_tasks, st.completed_tasks),
            (2, 3, 0)
        );

        let mut g = svc.clone();
        g.spec.mode = ServiceMode::global();
        let st = service_status(&g, &tasks, &HashSet::new());
        assert_eq!((st.running_tasks, st.desired_tasks), (3, 2));
    }

    #[test]
    fn jobs_count_current_iteration() {
        let mut svc = Service {
            id: "j".into(),
            ..Default::default()
        };
        svc.spec.mode.replicated_job = Some(rswarm_types::ReplicatedJob {
            max_concurrent: Some(2),
            total_completions: Some(4),
        });
        svc.job_status = Some(rswarm_types::JobStatus {
            job_iteration: Version { index: 7 },
            last_execution: None,
        });
        let mut done = task("j", "n1", TaskState::Complete, TaskState::Complete);
        done.job_iteration = Some(Version { index: 7 });
        let mut old = task("j", "n1", TaskState::Complete, TaskState::Complete);
        old.job_iteration = Some(Version { index: 3 });
        let mut run = task("j", "n1", TaskState::Complete, TaskState::Running);
        run.job_iteration = Some(Version { index: 7 });
        let st = service_status(&svc, &[done, old, run], &HashSet::new());
        assert_eq!(
            (st.running_tasks, st.desired_tasks, st.completed_tasks),
            (1, 2, 1)
        );
    }
}

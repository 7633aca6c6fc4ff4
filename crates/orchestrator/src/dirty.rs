//! Is a task out of date with its service? (`IsTaskDirty` in swarmkit.)

use rswarm_types::{Service, Task, TaskSpec};

/// True when `task` no longer matches `service`'s current task template or
/// endpoint spec, so an update must replace it.
///
/// Same spec version ⇒ clean. Otherwise the specs are compared, ignoring
/// placement (a placement change alone does not restart tasks; the
/// scheduler's filters decide whether the node still fits).
pub fn is_task_dirty(service: &Service, task: &Task) -> bool {
    if let (Some(s), Some(t)) = (service.spec_version, task.spec_version)
        && s == t
    {
        return false;
    }
    !same_ignoring_placement(&service.spec.task_template, &task.spec)
        || task.endpoint_spec != service.spec.endpoint_spec
}

/// True when `a` and `b` were made from different task templates or
/// endpoint specs (placement ignored): one replaces the other in an update
/// rather than a restart.
pub(crate) fn tasks_differ(a: &Task, b: &Task) -> bool {
    if let (Some(x), Some(y)) = (a.spec_version, b.spec_version)
        && x == y
    {
        return false;
    }
    !same_ignoring_placement(&a.spec, &b.spec) || a.endpoint_spec != b.endpoint_spec
}

fn same_ignoring_placement(a: &TaskSpec, b: &TaskSpec) -> bool {
    if a.placement == b.placement {
        return a == b;
    }
    let mut a = a.clone();
    let mut b = b.clone();
    a.placement = None;
    b.placement = None;
    a == b
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::{ContainerSpec, Placement, Version};

    fn svc() -> Service {
        let mut s = Service::default();
        s.spec.task_template.container_spec = Some(ContainerSpec {
            image: "a".into(),
            ..Default::default()
        });
        s.spec_version = Some(Version { index: 2 });
        s
    }

    #[test]
    fn dirty_rules() {
        let s = svc();
        let mut t = Task {
            spec: s.spec.task_template.clone(),
            spec_version: Some(Version { index: 1 }),
            ..Default::default()
        };
        assert!(
            !is_task_dirty(&s, &t),
            "equal spec is clean despite version"
        );
        t.spec.force_update = 1;
        assert!(is_task_dirty(&s, &t));
        t.spec_version = Some(Version { index: 2 });
        assert!(!is_task_dirty(&s, &t), "same version is clean");
        let mut t2 = Task {
            spec: s.spec.task_template.clone(),
            ..Default::default()
        };
        t2.spec.placement = Some(Placement {
            constraints: vec!["node.role==manager".into()],
            ..Default::default()
        });
        assert!(!is_task_dirty(&s, &t2), "placement alone is not dirty");
    }
}

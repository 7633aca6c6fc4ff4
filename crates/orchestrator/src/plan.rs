//! The output of a reconcile pass ([`Plan`]) and the working copy it is
//! built from ([`Draft`]).
//!
//! Every phase edits the draft (desired states, new tasks, deletions) and
//! later phases see earlier edits, so one pass reaches a fixed point: the
//! plan, once applied, makes the next pass return an empty plan.

use std::borrow::Cow;

use rswarm_types::{
    Meta, Nanos, Service, ServiceAnnotations, Task, TaskState, TaskStatus, Timestamp,
};

use crate::group::Key;

/// What the orchestrator wants written to the store, in one transaction.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// New tasks (state `new`), `meta.created_at` = now, version 0.
    pub create_tasks: Vec<Task>,
    /// Full copies of existing tasks with changed fields (mostly
    /// `desired_state`).
    pub update_tasks: Vec<Task>,
    /// IDs of tasks to delete (task reaper).
    pub delete_tasks: Vec<String>,
    /// Services whose `update_status` (or, on automatic rollback, spec)
    /// changed.
    pub update_services: Vec<Service>,
}

impl Plan {
    /// True when there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.create_tasks.is_empty()
            && self.update_tasks.is_empty()
            && self.delete_tasks.is_empty()
            && self.update_services.is_empty()
    }
}

/// `t + nanos`, saturating at the far future.
pub(crate) fn after(t: Timestamp, nanos: Nanos) -> Timestamp {
    t.checked_add_signed(chrono::TimeDelta::nanoseconds(nanos))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
}

/// The working copy of all tasks during one pass. Indices `0..orig.len()`
/// are the snapshot's tasks in order; later ones are created in this pass.
/// A task is copied only when the pass changes it (most passes change a
/// few of thousands), and only copies are compared with the snapshot.
pub(crate) struct Draft<'v, 'f> {
    orig: Vec<&'v Task>,
    tasks: Vec<Cow<'v, Task>>,
    deleted: Vec<bool>,
    wakeups: Vec<Timestamp>,
    now: Timestamp,
    new_id: &'f mut dyn FnMut() -> String,
}

impl<'v, 'f> Draft<'v, 'f> {
    pub(crate) fn new(
        orig: impl IntoIterator<Item = &'v Task>,
        now: Timestamp,
        new_id: &'f mut dyn FnMut() -> String,
    ) -> Self {
        let orig: Vec<&Task> = orig.into_iter().collect();
        Draft {
            tasks: orig.iter().map(|t| Cow::Borrowed(*t)).collect(),
            deleted: vec![false; orig.len()],
            orig,
            wakeups: Vec::new(),
            now,
            new_id,
        }
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.now
    }

    pub(crate) fn len(&self) -> usize {
        self.tasks.len()
    }

    pub(crate) fn task(&self, i: usize) -> &Task {
        &self.tasks[i]
    }

    /// Mutable access, for fields set right after [`Draft::spawn`].
    pub(crate) fn task_mut(&mut self, i: usize) -> &mut Task {
        self.tasks[i].to_mut()
    }

    pub(crate) fn is_deleted(&self, i: usize) -> bool {
        self.deleted[i]
    }

    /// Sets a task's desired state (no-op when unchanged).
    pub(crate) fn set_desired(&mut self, i: usize, state: TaskState) {
        if self.tasks[i].desired_state != state {
            self.tasks[i].to_mut().desired_state = state;
        }
    }

    /// Marks a task for deletion.
    pub(crate) fn delete(&mut self, i: usize) {
        self.deleted[i] = true;
    }

    /// Records a future time at which a pass would decide something new.
    pub(crate) fn wake_at(&mut self, t: Timestamp) {
        if t > self.now {
            self.wakeups.push(t);
        }
    }

    /// Creates a task of `svc` in the slot or on the node `key` names.
    pub(crate) fn spawn(&mut self, svc: &Service, key: &Key, desired: TaskState) -> usize {
        let (slot, node_id) = match key {
            Key::Slot(s) => (*s, String::new()),
            Key::Node(n) => (0, n.clone()),
        };
        let now = self.now;
        let task = Task {
            id: (self.new_id)(),
            meta: Meta {
                version: Default::default(),
                created_at: now,
                updated_at: now,
            },
            spec: svc.spec.task_template.clone(),
            service_id: svc.id.clone(),
            slot,
            node_id,
            status: TaskStatus {
                timestamp: now,
                state: TaskState::New,
                message: "created".into(),
                ..Default::default()
            },
            desired_state: desired,
            service_annotations: ServiceAnnotations {
                name: svc.spec.name.clone(),
                labels: svc.spec.labels.clone(),
            },
            spec_version: svc.spec_version,
            endpoint_spec: svc.spec.endpoint_spec.clone(),
            ..Default::default()
        };
        self.tasks.push(Cow::Owned(task));
        self.deleted.push(false);
        self.tasks.len() - 1
    }

    /// The plan's task part and the earliest recorded wake-up.
    pub(crate) fn finish(self) -> (Plan, Option<Timestamp>) {
        let mut plan = Plan::default();
        for (i, t) in self.tasks.into_iter().enumerate() {
            match (self.orig.get(i), t) {
                (Some(orig), _) if self.deleted[i] => plan.delete_tasks.push(orig.id.clone()),
                (Some(orig), Cow::Owned(mut t)) if **orig != t => {
                    t.meta.updated_at = self.now;
                    plan.update_tasks.push(t);
                }
                (Some(_), _) => {}
                // A task created and dropped in the same pass is never written.
                (None, t) if self.deleted[i] || t.desired_state == TaskState::Remove => {}
                (None, t) => plan.create_tasks.push(t.into_owned()),
            }
        }
        (plan, self.wakeups.into_iter().min())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("time")
    }

    #[test]
    fn finish_diffs_creates_and_drops() {
        let orig = vec![
            Task {
                id: "a".into(),
                ..Default::default()
            },
            Task {
                id: "b".into(),
                ..Default::default()
            },
            Task {
                id: "c".into(),
                ..Default::default()
            },
        ];
        let mut n = 0;
        let mut ids = || {
            n += 1;
            format!("new{n}")
        };
        let mut d = Draft::new(&orig, now(), &mut ids);
        d.set_desired(0, TaskState::Shutdown);
        d.delete(1);
        let svc = Service {
            id: "s".into(),
            ..Default::default()
        };
        let kept = d.spawn(&svc, &Key::Slot(2), TaskState::Running);
        let dropped = d.spawn(&svc, &Key::Node("n".into()), TaskState::Running);
        d.set_desired(dropped, TaskState::Remove);
        d.wake_at(after(now(), 7));
        d.wake_at(now());
        assert_eq!(d.task(kept).status.message, "created");
        let (plan, wake) = d.finish();
        assert_eq!(plan.update_tasks.len(), 1);
        assert_eq!(plan.update_tasks[0].meta.updated_at, now());
        assert_eq!(plan.delete_tasks, vec!["b".to_string()]);
        assert_eq!(plan.create_tasks.len(), 1);
        assert_eq!(
            (plan.create_tasks[0].id.as_str(), plan.create_tasks[0].slot),
            ("new1", 2)
        );
        assert_eq!(wake, Some(after(now(), 7)));
        assert!(!plan.is_empty());
        assert!(Plan::default().is_empty());
    }

    #[test]
    fn after_saturates() {
        let max = chrono::DateTime::<chrono::Utc>::MAX_UTC;
        assert_eq!(after(max, 1), max);
        assert!(after(now(), 1) > now());
    }
}

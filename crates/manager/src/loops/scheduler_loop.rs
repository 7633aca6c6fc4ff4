//! Allocator and scheduler: gives new tasks their network addresses and
//! moves them to `pending` (see `allocator`), then places pending tasks
//! with the pure scheduler and writes its decisions (in transactions of at
//! most 200 tasks, see `batch`).

use std::collections::HashMap;
use std::sync::Arc;

use rswarm_rt::{Clock, Shutdown};
use rswarm_scheduler::{Decision, Outcome};
use rswarm_store::{Commit, Event, Kind, Object, Store, StoreError, Tables};
use rswarm_types::{Node, Task, TaskState, Timestamp};

use super::batch::apply_in_batches;
use super::wait::{self, Wake};
use crate::allocator;

/// A task to write: its new attachments (when it is allocated in this
/// pass) and the scheduler's decision.
type Change = (
    String,
    Option<Vec<rswarm_types::NetworkAttachment>>,
    Option<Decision>,
);

/// The attachments of the tasks allocated in a pass, by task ID.
type Allocated = HashMap<String, Vec<rswarm_types::NetworkAttachment>>;

/// The loop body; returns when `shutdown` fires.
pub async fn run(store: Store, clock: Arc<dyn Clock>, shutdown: Shutdown) {
    let mut rx = store.watch();
    loop {
        match schedule_once(&store, clock.as_ref()).await {
            // Addresses taken meanwhile: allocate again at once.
            Ok(Pass::Again) => continue,
            Ok(Pass::Done) => {}
            Err(e) => tracing::warn!("scheduler: commit failed, will retry: {e}"),
        }
        if wait::next(&mut rx, relevant, None, &shutdown).await == Wake::Shutdown {
            return;
        }
    }
}

/// Node changes and task creations or state changes can unblock tasks;
/// a placed task's progress from `assigned` to `running` cannot (it
/// holds its node from assignment until it ends), and a pass reads every
/// task: agents' reports would otherwise start one per batch.
fn relevant(c: &Commit) -> bool {
    let placed = |s: TaskState| (TaskState::Assigned..=TaskState::Running).contains(&s);
    c.events.iter().any(|e| match e {
        Event::Created(o) => matches!(o.kind(), Kind::Task | Kind::Node | Kind::Network),
        Event::Updated {
            old: Object::Task(a),
            new: Object::Task(b),
        } => {
            let progress = placed(a.status.state) && placed(b.status.state);
            (a.status.state != b.status.state && !progress)
                || a.desired_state != b.desired_state
                || a.node_id != b.node_id
        }
        Event::Updated { .. } => e.kind() == Kind::Node,
        Event::Deleted(o) => o.kind() == Kind::Task,
    })
}

/// What a pass asks of the loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// Wait for the next relevant change.
    Done,
    /// Run again now: addresses given to new tasks were taken between
    /// the pass's read and its write (a service's new VIP), so those
    /// tasks stayed new.
    Again,
}

/// One pass: allocate new tasks, then schedule pending ones.
pub async fn schedule_once(store: &Store, clock: &dyn Clock) -> Result<Pass, StoreError> {
    let now = clock.now();
    let reader = store.clone();
    // On a blocking thread: with tens of thousands of tasks a pass takes
    // long enough to hold up Raft's heartbeats on a worker thread.
    let pass = tokio::task::spawn_blocking(move || reader.view(|t| decide(t, now)));
    let (allocated, decisions) = match pass.await {
        Ok(v) => v,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // The runtime is shutting down.
        Err(_) => return Ok(Pass::Done),
    };
    let changes = merge(allocated, decisions);
    if changes.is_empty() {
        return Ok(Pass::Done);
    }
    let mut again = Pass::Done;
    apply_in_batches(store, changes, |tx, (id, attachments, decision)| {
        let Some(mut task) = tx.task(&id) else {
            return Ok(());
        };
        if task.status.state == TaskState::New {
            let Some(attachments) = attachments else {
                return Ok(());
            };
            if allocator::vip_taken(tx.base(), &attachments) {
                again = Pass::Again;
                return Ok(());
            }
            task.networks_attachments = attachments;
        }
        if !apply_decision(&mut task, decision, now) {
            return Ok(());
        }
        match tx.update(Object::Task(task)) {
            Err(StoreError::SequenceConflict) => Ok(()),
            other => other,
        }
    })
    .await?;
    Ok(again)
}

/// One change per task: the scheduler's decisions in their order (with
/// the attachments of the tasks allocated in this pass), then the
/// allocated tasks it had nothing to say about. Linear in the number of
/// tasks.
fn merge(mut allocated: Allocated, decisions: Vec<Decision>) -> Vec<Change> {
    let mut changes: Vec<Change> = decisions
        .into_iter()
        .map(|d| (d.task_id.clone(), allocated.remove(&d.task_id), Some(d)))
        .collect();
    let mut rest: Vec<Change> = allocated
        .into_iter()
        .map(|(id, a)| (id, Some(a), None))
        .collect();
    rest.sort_by(|a, b| a.0.cmp(&b.0));
    changes.extend(rest);
    changes
}

/// Allocates the new tasks of `t` and decides where pending ones go.
fn decide(t: &Tables, now: Timestamp) -> (Allocated, Vec<Decision>) {
    let nodes: Vec<Node> = t.nodes().cloned().collect();
    let mut tasks: Vec<Task> = t.tasks().cloned().collect();
    let mut allocated = HashMap::new();
    let mut used = HashMap::new();
    for task in tasks.iter_mut() {
        if task.status.state == TaskState::New && !task.desired_state.wants_stop() {
            // Addresses first; a task whose network is gone or full
            // stays new.
            let Some(attachments) = allocator::task_attachments(t, task, &mut used) else {
                continue;
            };
            task.status.state = TaskState::Pending;
            task.status.message = "pending task scheduling".into();
            task.status.timestamp = now;
            allocated.insert(task.id.clone(), attachments);
        }
    }
    let decisions = rswarm_scheduler::schedule(&nodes, &tasks);
    (allocated, decisions)
}

/// Applies a decision to a task read inside the transaction. Returns
/// whether anything changed.
fn apply_decision(
    task: &mut Task,
    decision: Option<Decision>,
    now: rswarm_types::Timestamp,
) -> bool {
    if task.desired_state.wants_stop() || task.status.state > TaskState::Pending {
        return false;
    }
    let mut changed = false;
    if task.status.state == TaskState::New {
        task.status.state = TaskState::Pending;
        task.status.message = "pending task scheduling".into();
        task.status.timestamp = now;
        changed = true;
    }
    match decision.map(|d| d.outcome) {
        Some(Outcome::Assign { node_id }) => {
            task.node_id = node_id;
            task.status.state = TaskState::Assigned;
            task.status.message = "scheduler assigned task to node".into();
            task.status.err.clear();
            task.status.timestamp = now;
            true
        }
        Some(Outcome::Unschedulable { reason }) if task.status.err != reason => {
            task.status.err = reason;
            task.status.timestamp = now;
            true
        }
        _ => changed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unschedulable(id: &str) -> Decision {
        Decision {
            task_id: id.into(),
            outcome: Outcome::Unschedulable {
                reason: "no suitable node".into(),
            },
        }
    }

    #[test]
    fn one_change_per_task_decisions_first() {
        let allocated = HashMap::from([
            ("c".to_string(), vec![]),
            ("a".to_string(), vec![]),
            ("b".to_string(), vec![]),
        ]);
        let changes = merge(allocated, vec![unschedulable("b"), unschedulable("z")]);
        let ids: Vec<(&str, bool, bool)> = changes
            .iter()
            .map(|(id, a, d)| (id.as_str(), a.is_some(), d.is_some()))
            .collect();
        assert_eq!(
            ids,
            [
                ("b", true, true),
                ("z", false, true),
                ("a", true, false),
                ("c", true, false)
            ]
        );
    }

    fn task_update(a: TaskState, b: TaskState) -> Commit {
        let task = |state| {
            let mut t = Task {
                id: "t".into(),
                node_id: "n1".into(),
                desired_state: TaskState::Running,
                ..Default::default()
            };
            t.status.state = state;
            Object::Task(t)
        };
        Commit {
            index: 1,
            events: vec![Event::Updated {
                old: task(a),
                new: task(b),
            }],
        }
    }

    #[test]
    fn a_placed_task_starting_starts_no_pass() {
        use TaskState::*;
        for (a, b) in [
            (Assigned, Accepted),
            (Preparing, Running),
            (Assigned, Running),
        ] {
            assert!(!relevant(&task_update(a, b)), "{a:?} -> {b:?}");
        }
        for (a, b) in [
            (New, Pending),
            (Pending, Assigned),
            (Running, Failed),
            (Starting, Rejected),
        ] {
            assert!(relevant(&task_update(a, b)), "{a:?} -> {b:?}");
        }
    }

    #[test]
    fn twenty_thousand_tasks_merge_in_one_pass() {
        let allocated: Allocated = (0..20_000).map(|i| (format!("t{i}"), vec![])).collect();
        let decisions = (0..20_000)
            .map(|i| unschedulable(&format!("t{i}")))
            .collect();
        let changes = merge(allocated, decisions);
        assert_eq!(changes.len(), 20_000);
        assert!(changes.iter().all(|(_, a, d)| a.is_some() && d.is_some()));
    }
}

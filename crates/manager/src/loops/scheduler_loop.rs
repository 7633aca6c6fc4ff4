//! Allocator and scheduler: gives new tasks their network addresses and
//! moves them to `pending` (see `allocator`), then places pending tasks
//! with the pure scheduler and writes its decisions.

use std::collections::HashMap;
use std::sync::Arc;

use rswarm_rt::{Clock, Shutdown};
use rswarm_scheduler::{Decision, Outcome};
use rswarm_store::{Commit, Event, Kind, Object, Store, StoreError};
use rswarm_types::{Node, Task, TaskState};

use super::wait::{self, Wake};
use crate::allocator;

/// A task to write: its new attachments (when it is allocated in this
/// pass) and the scheduler's decision.
type Change = (
    String,
    Option<Vec<rswarm_types::NetworkAttachment>>,
    Option<Decision>,
);

/// The loop body; returns when `shutdown` fires.
pub async fn run(store: Store, clock: Arc<dyn Clock>, shutdown: Shutdown) {
    let mut rx = store.watch();
    loop {
        if let Err(e) = schedule_once(&store, clock.as_ref()).await {
            tracing::warn!("scheduler: commit failed, will retry: {e}");
        }
        if wait::next(&mut rx, relevant, None, &shutdown).await == Wake::Shutdown {
            return;
        }
    }
}

/// Node changes and task creations or state changes can unblock tasks.
fn relevant(c: &Commit) -> bool {
    c.events.iter().any(|e| match e {
        Event::Created(o) => matches!(o.kind(), Kind::Task | Kind::Node | Kind::Network),
        Event::Updated {
            old: Object::Task(a),
            new: Object::Task(b),
        } => a.status.state != b.status.state || a.desired_state != b.desired_state,
        Event::Updated { .. } => e.kind() == Kind::Node,
        Event::Deleted(o) => o.kind() == Kind::Task,
    })
}

/// One pass: allocate new tasks, then schedule pending ones.
pub async fn schedule_once(store: &Store, clock: &dyn Clock) -> Result<(), StoreError> {
    let now = clock.now();
    let (allocated, decisions) = store.view(|t| {
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
    });
    let changes: Vec<Change> = {
        let mut v: Vec<Change> = allocated
            .into_iter()
            .map(|(id, a)| (id, Some(a), None))
            .collect();
        for d in decisions {
            match v.iter_mut().find(|(id, _, _)| *id == d.task_id) {
                Some(entry) => entry.2 = Some(d),
                None => v.push((d.task_id.clone(), None, Some(d))),
            }
        }
        v
    };
    if changes.is_empty() {
        return Ok(());
    }
    store
        .update(|tx| {
            for (id, attachments, decision) in changes {
                let Some(mut task) = tx.task(&id) else {
                    continue;
                };
                if task.status.state == TaskState::New {
                    let Some(attachments) = attachments else {
                        continue;
                    };
                    task.networks_attachments = attachments;
                }
                if !apply_decision(&mut task, decision, now) {
                    continue;
                }
                match tx.update(Object::Task(task)) {
                    Err(StoreError::SequenceConflict) => continue,
                    other => other?,
                }
            }
            Ok(())
        })
        .await
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

//! Runs the orchestrators: reconcile services into tasks whenever services,
//! tasks, nodes or the cluster change, and when a timer (restart delay,
//! update delay) comes due. Task progress the orchestrators never look at
//! (`new` → `pending`, `assigned` → `starting`) does not start a pass: a
//! pass reads every task, and with 20,000 tasks the scheduler's and the
//! agents' reports would otherwise start hundreds of them. The pass runs
//! on a blocking thread so it never holds up Raft's heartbeats.

use std::sync::Arc;

use rswarm_orchestrator::{Plan, View};
use rswarm_rt::{Clock, Shutdown};
use rswarm_store::{Commit, Event, Kind, Object, Store, StoreError, Tables};
use rswarm_types::{DEFAULT_TASK_HISTORY, Service, Task, TaskState, Timestamp};

use super::batch::apply_in_batches;
use super::wait::{self, Wake};

/// The loop body; returns when `shutdown` fires.
pub async fn run(store: Store, clock: Arc<dyn Clock>, shutdown: Shutdown) {
    let mut rx = store.watch();
    let mut deadline = None;
    loop {
        match reconcile_once(&store, clock.as_ref()).await {
            Ok(wake_at) => deadline = wake_at.map(|at| wait::instant_at(at, clock.now())),
            Err(e) => tracing::warn!("orchestrator: applying plan failed, will retry: {e}"),
        }
        if wait::next(&mut rx, relevant, deadline, &shutdown).await == Wake::Shutdown {
            return;
        }
    }
}

/// Whether a commit can change what the orchestrators decide: anything
/// but task updates that keep the desired state and node and stay below
/// `assigned` or within `assigned`..`starting` (the orchestrators only
/// tell below `assigned`, `assigned`..=`running`, `running` and past
/// `running` apart).
fn relevant(c: &Commit) -> bool {
    fn band(s: TaskState) -> Option<u8> {
        if s < TaskState::Assigned {
            Some(0)
        } else if s < TaskState::Running {
            Some(1)
        } else {
            None
        }
    }
    c.events.iter().any(|e| match e {
        Event::Updated {
            old: Object::Task(a),
            new: Object::Task(b),
        } => {
            band(a.status.state).is_none()
                || band(a.status.state) != band(b.status.state)
                || a.desired_state != b.desired_state
                || a.node_id != b.node_id
        }
        _ => true,
    })
}

/// One reconcile pass: compute a plan from a snapshot and apply it.
/// Returns when the orchestrators next want to run without a change.
pub async fn reconcile_once(
    store: &Store,
    clock: &dyn Clock,
) -> Result<Option<Timestamp>, StoreError> {
    let now = clock.now();
    let reader = store.clone();
    let pass = tokio::task::spawn_blocking(move || reader.view(|t| plan(t, now)));
    let (plan, wake_at) = match pass.await {
        Ok(v) => v,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // The runtime is shutting down.
        Err(_) => return Ok(None),
    };
    if !is_empty(&plan) {
        apply(store, plan).await?;
    }
    Ok(wake_at)
}

/// The orchestrators' plan for the tables at `now`, and when they next
/// want to run.
fn plan(t: &Tables, now: Timestamp) -> (Plan, Option<Timestamp>) {
    {
        let limit = t
            .cluster()
            .map(|c| c.spec.task_history_limit())
            .unwrap_or(DEFAULT_TASK_HISTORY);
        let view = View {
            task_history_limit: limit,
            nodes: t.nodes().collect(),
            services: t.services().collect(),
            tasks: t.tasks().collect(),
        };
        rswarm_orchestrator::reconcile_and_wakeup(&view, now, &mut rswarm_rt::new_id)
    }
}

fn is_empty(plan: &Plan) -> bool {
    plan.create_tasks.is_empty()
        && plan.update_tasks.is_empty()
        && plan.delete_tasks.is_empty()
        && plan.update_services.is_empty()
}

/// One write of a plan (objects boxed: the variants stay small).
enum Change {
    UpdateService(Box<Service>),
    UpdateTask(Box<Task>),
    CreateTask(Box<Task>),
    DeleteTask(String),
}

/// Applies a plan: in one transaction when it is small, else in
/// transactions of at most 200 changes (services first, then task
/// updates, creations, deletions). Objects that changed since the
/// snapshot are skipped (the next pass recomputes them).
async fn apply(store: &Store, plan: Plan) -> Result<(), StoreError> {
    let changes: Vec<Change> = plan
        .update_services
        .into_iter()
        .map(|s| Change::UpdateService(Box::new(s)))
        .chain(
            plan.update_tasks
                .into_iter()
                .map(|t| Change::UpdateTask(Box::new(t))),
        )
        .chain(
            plan.create_tasks
                .into_iter()
                .map(|t| Change::CreateTask(Box::new(t))),
        )
        .chain(plan.delete_tasks.into_iter().map(Change::DeleteTask))
        .collect();
    apply_in_batches(store, changes, |tx, change| match change {
        Change::UpdateService(s) => skip_conflict(tx.update(Object::Service(*s))),
        Change::UpdateTask(t) => skip_conflict(tx.update(Object::Task(*t))),
        Change::CreateTask(t) => {
            if tx.service(&t.service_id).is_some() {
                tx.create(Object::Task(*t))?;
            }
            Ok(())
        }
        Change::DeleteTask(id) => skip_conflict(tx.delete(Kind::Task, &id)),
    })
    .await
}

fn skip_conflict(r: Result<(), StoreError>) -> Result<(), StoreError> {
    match r {
        Err(StoreError::SequenceConflict) | Err(StoreError::NotFound { .. }) => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(state: TaskState, desired: TaskState, node: &str) -> Object {
        let mut t = Task {
            id: "t".into(),
            node_id: node.into(),
            desired_state: desired,
            ..Default::default()
        };
        t.status.state = state;
        Object::Task(t)
    }

    fn update(old: Object, new: Object) -> Commit {
        Commit {
            index: 1,
            events: vec![Event::Updated { old, new }],
        }
    }

    #[test]
    fn progress_the_orchestrators_never_read_starts_no_pass() {
        use TaskState::*;
        let quiet = [
            (New, Pending, ""),
            (Assigned, Accepted, "n1"),
            (Preparing, Starting, "n1"),
        ];
        for (a, b, node) in quiet {
            let c = update(task(a, Running, node), task(b, Running, node));
            assert!(!relevant(&c), "{a:?} -> {b:?}");
        }
    }

    #[test]
    fn everything_else_starts_a_pass() {
        use TaskState::*;
        let loud = [
            update(task(Pending, Running, ""), task(Assigned, Running, "n1")),
            update(task(Starting, Running, "n1"), task(Running, Running, "n1")),
            update(task(Running, Running, "n1"), task(Failed, Running, "n1")),
            update(task(Running, Running, "n1"), task(Running, Running, "n1")),
            update(task(Pending, Running, ""), task(Pending, Shutdown, "")),
            update(task(Assigned, Running, "n1"), task(Assigned, Running, "n2")),
            Commit {
                index: 1,
                events: vec![Event::Created(task(New, Running, ""))],
            },
            Commit {
                index: 1,
                events: vec![Event::Deleted(task(Complete, Shutdown, "n1"))],
            },
        ];
        for c in loud {
            assert!(relevant(&c), "{c:?}");
        }
    }
}

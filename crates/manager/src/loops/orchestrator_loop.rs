//! Runs the orchestrators: reconcile services into tasks whenever services,
//! tasks, nodes or the cluster change, and when a timer (restart delay,
//! update delay) comes due.

use std::sync::Arc;

use rswarm_orchestrator::{Plan, View};
use rswarm_rt::{Clock, Shutdown};
use rswarm_store::{Kind, Object, Store, StoreError};
use rswarm_types::{DEFAULT_TASK_HISTORY, Node, Service, Task, Timestamp};

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
        if wait::next(&mut rx, |_| true, deadline, &shutdown).await == Wake::Shutdown {
            return;
        }
    }
}

/// One reconcile pass: compute a plan from a snapshot and apply it.
/// Returns when the orchestrators next want to run without a change.
pub async fn reconcile_once(
    store: &Store,
    clock: &dyn Clock,
) -> Result<Option<Timestamp>, StoreError> {
    let now = clock.now();
    let (plan, wake_at) = store.view(|t| {
        let limit = t
            .cluster()
            .map(|c| c.spec.task_history_limit())
            .unwrap_or(DEFAULT_TASK_HISTORY);
        let nodes: Vec<Node> = t.nodes().cloned().collect();
        let services: Vec<Service> = t.services().cloned().collect();
        let tasks: Vec<Task> = t.tasks().cloned().collect();
        let view = View {
            task_history_limit: limit,
            nodes: &nodes,
            services: &services,
            tasks: &tasks,
        };
        let plan = rswarm_orchestrator::reconcile(&view, now, &mut rswarm_rt::new_id);
        (plan, rswarm_orchestrator::next_wakeup(&view, now))
    });
    if !is_empty(&plan) {
        apply(store, plan).await?;
    }
    Ok(wake_at)
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

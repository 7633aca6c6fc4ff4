//! Runs the orchestrators: reconcile services into tasks whenever services,
//! tasks, nodes or the cluster change, and when a timer (restart delay,
//! update delay) comes due.

use std::sync::Arc;

use rswarm_orchestrator::{Plan, View};
use rswarm_rt::{Clock, Shutdown};
use rswarm_store::{Kind, Object, Store, StoreError};
use rswarm_types::{DEFAULT_TASK_HISTORY, Node, Service, Task, Timestamp};

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

/// Applies a plan in one transaction. Objects that changed since the
/// snapshot are skipped (the next pass recomputes them).
async fn apply(store: &Store, plan: Plan) -> Result<(), StoreError> {
    store
        .update(|tx| {
            for s in plan.update_services {
                skip_conflict(tx.update(Object::Service(s)))?;
            }
            for t in plan.update_tasks {
                skip_conflict(tx.update(Object::Task(t)))?;
            }
            for t in plan.create_tasks {
                if tx.service(&t.service_id).is_some() {
                    tx.create(Object::Task(t))?;
                }
            }
            for id in plan.delete_tasks {
                skip_conflict(tx.delete(Kind::Task, &id))?;
            }
            Ok(())
        })
        .await
}

fn skip_conflict(r: Result<(), StoreError>) -> Result<(), StoreError> {
    match r {
        Err(StoreError::SequenceConflict) | Err(StoreError::NotFound { .. }) => Ok(()),
        other => other,
    }
}

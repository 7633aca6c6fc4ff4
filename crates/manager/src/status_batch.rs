//! Group commit of the agents' task status reports.
//!
//! Every store write is one Raft entry, and writes are serial: a thousand
//! agents each reporting its own tasks would wait in line for a thousand
//! commits (a report then waits seconds, and the agent's call times out).
//! Instead the dispatcher queues each report here; one flusher takes every
//! report queued while the previous write was in flight (up to
//! [`MAX_BATCH`] statuses) and writes them in one transaction, then
//! answers each report with its own verdict. Under no load a report is
//! written alone, at once; under load the batches grow with the queue.
//!
//! The rules per report are the dispatcher's: a report naming a task of
//! another node is refused whole (and writes nothing); a status that
//! would move a task backwards, or changes nothing, is skipped; tasks
//! gone from the store are skipped.

use std::sync::OnceLock;

use rswarm_store::{Object, Store, WriteTx};
use rswarm_types::ControlError;
use tokio::sync::{mpsc, oneshot};

use crate::dispatcher::TaskStatusUpdate;

/// Most statuses written in one transaction.
pub const MAX_BATCH: usize = 2_000;

/// One agent's report and where its verdict goes.
struct Report {
    node_id: String,
    updates: Vec<TaskStatusUpdate>,
    done: oneshot::Sender<Result<(), ControlError>>,
}

/// The queue in front of the store; the flusher starts with the first
/// report and ends when the last handle is dropped.
#[derive(Debug)]
pub(crate) struct StatusBatcher {
    store: Store,
    queue: OnceLock<mpsc::UnboundedSender<Report>>,
}

impl StatusBatcher {
    pub(crate) fn new(store: Store) -> StatusBatcher {
        StatusBatcher {
            store,
            queue: OnceLock::new(),
        }
    }

    /// Writes `updates` from `node_id` (with whatever else is queued) and
    /// returns this report's verdict once the write is committed.
    pub(crate) async fn submit(
        &self,
        node_id: &str,
        updates: Vec<TaskStatusUpdate>,
    ) -> Result<(), ControlError> {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(flush(self.store.clone(), rx));
            tx
        });
        let (done, verdict) = oneshot::channel();
        let report = Report {
            node_id: node_id.to_string(),
            updates,
            done,
        };
        let stopped = || ControlError::Unavailable("the dispatcher is stopping".into());
        queue.send(report).map_err(|_| stopped())?;
        verdict.await.map_err(|_| stopped())?
    }
}

/// The flusher: one transaction per batch of queued reports.
async fn flush(store: Store, mut queue: mpsc::UnboundedReceiver<Report>) {
    while let Some(first) = queue.recv().await {
        let mut statuses = first.updates.len();
        let mut batch = vec![first];
        while statuses < MAX_BATCH {
            match queue.try_recv() {
                Ok(r) => {
                    statuses += r.updates.len();
                    batch.push(r);
                }
                Err(_) => break,
            }
        }
        write(&store, batch).await;
    }
}

/// Writes a batch and answers every report in it.
async fn write(store: &Store, batch: Vec<Report>) {
    let result = store
        .update(|tx| {
            batch
                .iter()
                .map(|r| apply(tx, &r.node_id, &r.updates))
                .collect::<Result<Vec<_>, ControlError>>()
        })
        .await;
    match result {
        Ok(verdicts) => {
            for (report, verdict) in batch.into_iter().zip(verdicts) {
                let _ = report.done.send(verdict);
            }
        }
        Err(e) => {
            for report in batch {
                let _ = report.done.send(Err(e.clone()));
            }
        }
    }
}

/// Applies one report inside the batch's transaction. The outer error
/// fails the whole transaction (a store error); the inner one is this
/// report's refusal, which writes nothing of it.
fn apply(
    tx: &mut WriteTx<'_>,
    node_id: &str,
    updates: &[TaskStatusUpdate],
) -> Result<Result<(), ControlError>, ControlError> {
    let foreign = updates.iter().find(|u| {
        tx.task(&u.task_id)
            .is_some_and(|task| task.node_id != node_id)
    });
    if let Some(u) = foreign {
        return Ok(Err(ControlError::FailedPrecondition(format!(
            "task {} is not assigned to node {node_id}",
            u.task_id
        ))));
    }
    for u in updates {
        let Some(mut task) = tx.task(&u.task_id) else {
            continue;
        };
        let forward = u.status.state == task.status.state
            || task.status.state.can_transition_to(u.status.state);
        if task.status == u.status || !forward {
            continue;
        }
        task.status = u.status.clone();
        tx.update(Object::Task(task))?;
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rswarm_rt::SystemClock;
    use rswarm_store::MemoryProposer;
    use rswarm_types::{Task, TaskState, TaskStatus};

    use super::*;

    fn status(state: TaskState) -> TaskStatus {
        TaskStatus {
            state,
            message: format!("{state:?}"),
            ..Default::default()
        }
    }

    fn report(task: usize, state: TaskState) -> TaskStatusUpdate {
        TaskStatusUpdate {
            task_id: format!("t{task}"),
            status: status(state),
        }
    }

    /// 400 tasks on 100 nodes (`n0`..`n99`), all assigned.
    async fn store_with_tasks() -> Store {
        let store = Store::open(Arc::new(MemoryProposer), Arc::new(SystemClock)).expect("store");
        store
            .update(|tx| {
                for i in 0..400 {
                    let task = Task {
                        id: format!("t{i}"),
                        node_id: format!("n{}", i % 100),
                        desired_state: TaskState::Running,
                        status: status(TaskState::Assigned),
                        ..Default::default()
                    };
                    tx.create(Object::Task(task))?;
                }
                Ok::<_, ControlError>(())
            })
            .await
            .expect("tasks");
        store
    }

    #[tokio::test]
    async fn concurrent_reports_share_writes_and_each_gets_its_verdict() {
        let store = store_with_tasks().await;
        let batcher = Arc::new(StatusBatcher::new(store.clone()));
        let before = store.index();
        let mut calls = Vec::new();
        for node in 0..100 {
            let batcher = batcher.clone();
            calls.push(tokio::spawn(async move {
                let tasks = (0..4).map(|k| report(node + 100 * k, TaskState::Running));
                batcher.submit(&format!("n{node}"), tasks.collect()).await
            }));
        }
        // A node reporting another node's task is refused, and writes
        // nothing of its report, not even its own task's status.
        let foreign = batcher
            .submit(
                "n0",
                vec![report(0, TaskState::Failed), report(1, TaskState::Running)],
            )
            .await;
        assert!(
            matches!(&foreign, Err(ControlError::FailedPrecondition(m)) if m.contains("t1")),
            "{foreign:?}"
        );
        for call in calls {
            call.await.expect("join").expect("accepted");
        }
        store.view(|t| {
            assert!(t.tasks().all(|t| t.status.state == TaskState::Running));
        });
        let writes = store.index() - before;
        assert!((1..100).contains(&writes), "100 reports in {writes} writes");
        // Backwards and unchanged statuses write nothing.
        let before = store.index();
        batcher
            .submit(
                "n5",
                vec![
                    report(5, TaskState::Assigned),
                    report(105, TaskState::Running),
                ],
            )
            .await
            .expect("accepted");
        assert_eq!(store.index(), before);
    }
}

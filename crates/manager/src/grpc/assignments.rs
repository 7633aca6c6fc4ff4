//! The Assignments stream of one node: the COMPLETE set at once, then
//! INCREMENTAL messages ([`Increments`]) built from the store's commits,
//! woken by [`NodeWatch`] only for commits that touch the node's tasks.
//!
//! Changes are batched like swarmkit's dispatcher: after the first commit
//! touching the node's tasks, the stream waits until [`QUIET`] passes
//! without another, at most [`MAX_DELAY`] or [`MAX_CHANGES`] changes, and
//! then sends one message with the difference between what the client has
//! and the node's set at that moment. A lagging store watcher is just
//! another change (the diff is against the whole current set).

use std::pin::Pin;
use std::time::Duration;

use futures_util::Stream;
use rswarm_proto::dispatcher::AssignmentsMessage;
use rswarm_rt::Shutdown;
use rswarm_store::{Store, Tables};
use rswarm_types::{Task, TaskState};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tonic::Status;

use super::increments::Increments;
use super::node_watch::{NodeWatch, Signals};

/// A batch is sent once no further change arrives for this long...
pub(super) const QUIET: Duration = Duration::from_millis(50);
/// ...or this long after its first change...
pub(super) const MAX_DELAY: Duration = Duration::from_millis(500);
/// ...or once this many task changes are pending.
pub(super) const MAX_CHANGES: usize = 100;

/// The stream of messages served to `node_id`; ends when the client goes
/// away or `shutdown` fires.
pub(super) fn stream(
    store: Store,
    watch: &NodeWatch,
    node_id: String,
    shutdown: Shutdown,
) -> Pin<Box<dyn Stream<Item = Result<AssignmentsMessage, Status>> + Send>> {
    let (tx, rx) = mpsc::channel(16);
    let signals = watch.tasks_on(&node_id);
    tokio::spawn(async move {
        tokio::select! {
            _ = shutdown.wait() => {}
            _ = tx.closed() => {}
            r = serve(&store, signals, &node_id, &tx) => if let Err(status) = r {
                let _ = tx.send(Err(status)).await;
            },
        }
    });
    Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|m| (m, rx))
    }))
}

type Sender = mpsc::Sender<Result<AssignmentsMessage, Status>>;

/// Sends until the signals end (the server stops) or the client goes away.
async fn serve(
    store: &Store,
    mut signals: Signals,
    node_id: &str,
    tx: &Sender,
) -> Result<(), Status> {
    // Subscribed before this view (see `node_watch`).
    let initial = store.view(|t| assigned(t, node_id));
    let mut increments = Increments::default();
    let first = increments.complete(&initial).map_err(encoding)?;
    if tx.send(Ok(first)).await.is_err() {
        return Ok(());
    }
    loop {
        let Some(changes) = signals.recv().await else {
            return Ok(());
        };
        if !gather(&mut signals, changes).await {
            return Ok(());
        }
        let current = store.view(|t| assigned(t, node_id));
        if let Some(message) = increments.incremental(&current).map_err(encoding)?
            && tx.send(Ok(message)).await.is_err()
        {
            return Ok(());
        }
    }
}

/// Collects further changes until the batch is due; false when the
/// signals ended.
async fn gather(signals: &mut Signals, mut pending: usize) -> bool {
    let last_call = Instant::now() + MAX_DELAY;
    while pending < MAX_CHANGES {
        let due = (Instant::now() + QUIET).min(last_call);
        tokio::select! {
            _ = tokio::time::sleep_until(due) => return true,
            r = signals.recv() => match r {
                Some(n) => pending += n,
                None => return false,
            },
        }
    }
    true
}

/// The tasks the node must know about: placed on it (state ≥ assigned).
fn assigned(t: &Tables, node_id: &str) -> Vec<Task> {
    t.tasks_on_node(node_id)
        .filter(|t| t.status.state >= TaskState::Assigned)
        .cloned()
        .collect()
}

fn encoding(e: serde_json::Error) -> Status {
    Status::internal(format!("encoding assignments: {e}"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use futures_util::StreamExt;
    use rswarm_proto::dispatcher::assignments_message::Type;
    use rswarm_rt::SystemClock;
    use rswarm_store::{MemoryProposer, Object};
    use rswarm_types::TaskStatus;

    use super::*;

    fn task(node: &str) -> Task {
        Task {
            id: rswarm_rt::new_id(),
            node_id: node.into(),
            status: TaskStatus {
                state: TaskState::Assigned,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    async fn create(store: &Store, task: Task) {
        store
            .update(|tx| tx.create(Object::Task(task)))
            .await
            .expect("create");
    }

    #[tokio::test(start_paused = true)]
    async fn changes_close_together_arrive_in_one_increment() {
        let store = Store::open(Arc::new(MemoryProposer), Arc::new(SystemClock)).expect("store");
        let before = task("n1");
        create(&store, before.clone()).await;
        let shutdown = Shutdown::new();
        let watch = NodeWatch::start(&store, shutdown.clone());
        let mut s = stream(store.clone(), &watch, "n1".into(), shutdown.clone());
        let first = s.next().await.expect("message").expect("ok");
        assert_eq!(first.r#type(), Type::Complete);
        assert_eq!(first.changes.len(), 1);

        // Five tasks for n1 and one elsewhere, back to back, plus a deletion.
        let mut ids = Vec::new();
        for _ in 0..5 {
            let t = task("n1");
            ids.push(t.id.clone());
            create(&store, t).await;
        }
        create(&store, task("n2")).await;
        store
            .update(|tx| tx.delete(rswarm_store::Kind::Task, &before.id))
            .await
            .expect("delete");
        let next = s.next().await.expect("message").expect("ok");
        assert_eq!(next.r#type(), Type::Incremental);
        assert_eq!(
            (next.applies_to.as_str(), next.results_in.as_str()),
            ("1", "2")
        );
        ids.sort();
        let mut expected: Vec<String> = ids;
        expected.push(before.id.clone());
        let got: Vec<String> = next.changes.iter().map(|c| c.task_id.clone()).collect();
        assert_eq!(got, expected);

        shutdown.trigger();
        assert!(s.next().await.is_none(), "the stream ends at shutdown");
    }
}

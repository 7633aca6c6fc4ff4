//! The client's half of the assignments protocol: rebuilds the node's
//! full task set from a COMPLETE message and the INCREMENTAL ones chained
//! after it ([`AssignmentSet`]), and restarts the stream when the chain
//! breaks ([`follow`]), so the agent keeps receiving full sets.

use std::collections::BTreeMap;
use std::pin::Pin;

use futures_util::{Stream, StreamExt};
use rswarm_proto::dispatcher::assignment_change::Action;
use rswarm_proto::dispatcher::assignments_message::Type;
use rswarm_proto::dispatcher::{AssignmentChange, AssignmentsMessage};
use rswarm_types::Task;
use tokio::sync::mpsc;
use tonic::Status;

use super::describe;

/// Gaps in a row after which the stream is given up (the session then
/// ends and the agent reconnects with backoff).
pub(crate) const MAX_RESTARTS: u32 = 3;

/// A stream of assignments messages as tonic yields them.
pub(crate) type Messages = Pin<Box<dyn Stream<Item = Result<AssignmentsMessage, Status>> + Send>>;

/// Why a message could not be applied.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum ChainError {
    /// An INCREMENTAL message that does not follow the last one applied
    /// (`expected` is empty before the first COMPLETE): restart the stream.
    #[error("assignments message applies to {got:?}, expected {expected:?}")]
    Gap {
        /// `results_in` of the last message applied.
        expected: String,
        /// The message's `applies_to`.
        got: String,
    },
    /// A message this client cannot read.
    #[error("bad assignments message: {0}")]
    Malformed(String),
}

/// The node's assigned tasks as rebuilt so far.
#[derive(Debug, Default)]
pub(crate) struct AssignmentSet {
    tasks: BTreeMap<String, Task>,
    /// `results_in` of the last message applied; `None` before a COMPLETE.
    last: Option<String>,
}

impl AssignmentSet {
    /// Applies `message` and returns the full set after it. On error the
    /// set is unchanged.
    pub(crate) fn apply(&mut self, message: AssignmentsMessage) -> Result<Vec<Task>, ChainError> {
        let kind = Type::try_from(message.r#type)
            .map_err(|_| ChainError::Malformed(format!("unknown type {}", message.r#type)))?;
        let changes = decode(message.changes)?;
        match kind {
            Type::Complete => self.tasks.clear(),
            Type::Incremental => {
                let expected = self.last.clone().unwrap_or_default();
                if self.last.is_none() || message.applies_to != expected {
                    return Err(ChainError::Gap {
                        expected,
                        got: message.applies_to,
                    });
                }
            }
        }
        for (task_id, task) in changes {
            match task {
                Some(task) => self.tasks.insert(task_id, task),
                None => self.tasks.remove(&task_id),
            };
        }
        self.last = Some(message.results_in);
        Ok(self.tasks.values().cloned().collect())
    }
}

/// Decodes every change before any is applied: (task ID, task or removal).
fn decode(changes: Vec<AssignmentChange>) -> Result<Vec<(String, Option<Task>)>, ChainError> {
    changes
        .into_iter()
        .map(|c| match Action::try_from(c.action) {
            Ok(Action::Update) => serde_json::from_slice::<Task>(&c.task)
                .map(|t| (c.task_id.clone(), Some(t)))
                .map_err(|e| ChainError::Malformed(format!("task {}: {e}", c.task_id))),
            Ok(Action::Remove) => Ok((c.task_id, None)),
            Err(_) => Err(ChainError::Malformed(format!(
                "unknown action {} for task {}",
                c.action, c.task_id
            ))),
        })
        .collect()
}

/// Sends a full set to `tx` after every message of `stream`; on a gap,
/// opens a new stream with `reopen` (which starts with a COMPLETE). Ends
/// when `tx` is closed, the stream ends or fails, a message is malformed,
/// or [`MAX_RESTARTS`] gaps come in a row.
pub(crate) async fn follow<R, F>(mut stream: Messages, mut reopen: R, tx: mpsc::Sender<Vec<Task>>)
where
    R: FnMut() -> F,
    F: Future<Output = Result<Messages, String>>,
{
    let mut set = AssignmentSet::default();
    let mut gaps = 0;
    loop {
        let message = tokio::select! {
            _ = tx.closed() => return,
            m = stream.next() => m,
        };
        let message = match message {
            Some(Ok(m)) => m,
            None => return tracing::debug!("agent: assignments stream ended"),
            Some(Err(s)) => return tracing::debug!("agent: assignments stream: {}", describe(&s)),
        };
        match set.apply(message) {
            Ok(tasks) => {
                gaps = 0;
                if tx.send(tasks).await.is_err() {
                    return;
                }
            }
            Err(gap @ ChainError::Gap { .. }) => {
                gaps += 1;
                if gaps > MAX_RESTARTS {
                    return tracing::warn!("agent: {gap}; giving up after {MAX_RESTARTS} restarts");
                }
                tracing::info!("agent: {gap}; restarting the assignments stream");
                stream = match reopen().await {
                    Ok(s) => s,
                    Err(e) => return tracing::warn!("agent: restarting assignments: {e}"),
                };
                set = AssignmentSet::default();
            }
            Err(e) => return tracing::warn!("agent: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn task(id: &str, version: u64) -> Task {
        let mut t = Task {
            id: id.into(),
            ..Default::default()
        };
        t.meta.version.index = version;
        t
    }

    fn update(t: &Task) -> AssignmentChange {
        AssignmentChange {
            action: Action::Update.into(),
            task_id: t.id.clone(),
            task: serde_json::to_vec(t).expect("json"),
        }
    }

    fn remove(id: &str) -> AssignmentChange {
        AssignmentChange {
            action: Action::Remove.into(),
            task_id: id.into(),
            task: Vec::new(),
        }
    }

    fn message(
        kind: Type,
        applies_to: &str,
        results_in: &str,
        changes: Vec<AssignmentChange>,
    ) -> AssignmentsMessage {
        AssignmentsMessage {
            r#type: kind.into(),
            applies_to: applies_to.into(),
            results_in: results_in.into(),
            changes,
        }
    }

    fn ids_versions(set: &[Task]) -> Vec<(String, u64)> {
        set.iter()
            .map(|t| (t.id.clone(), t.meta.version.index))
            .collect()
    }

    #[test]
    fn increments_rebuild_the_full_set() {
        let mut set = AssignmentSet::default();
        let full = set
            .apply(message(
                Type::Complete,
                "",
                "1",
                vec![update(&task("a", 1)), update(&task("b", 1))],
            ))
            .expect("complete");
        assert_eq!(ids_versions(&full), [("a".into(), 1), ("b".into(), 1)]);
        let full = set
            .apply(message(
                Type::Incremental,
                "1",
                "2",
                vec![update(&task("b", 2)), update(&task("c", 2)), remove("a")],
            ))
            .expect("increment");
        assert_eq!(ids_versions(&full), [("b".into(), 2), ("c".into(), 2)]);
        // A new COMPLETE replaces everything.
        let full = set
            .apply(message(
                Type::Complete,
                "",
                "3",
                vec![update(&task("d", 3))],
            ))
            .expect("complete");
        assert_eq!(ids_versions(&full), [("d".into(), 3)]);
    }

    #[test]
    fn a_broken_chain_is_a_gap_and_changes_nothing() {
        let mut set = AssignmentSet::default();
        assert_eq!(
            set.apply(message(Type::Incremental, "", "1", vec![])),
            Err(ChainError::Gap {
                expected: String::new(),
                got: String::new()
            }),
            "an increment before any COMPLETE"
        );
        set.apply(message(
            Type::Complete,
            "",
            "1",
            vec![update(&task("a", 1))],
        ))
        .expect("complete");
        assert_eq!(
            set.apply(message(Type::Incremental, "2", "3", vec![remove("a")])),
            Err(ChainError::Gap {
                expected: "1".into(),
                got: "2".into()
            })
        );
        let bad = AssignmentChange {
            task: b"{not json".to_vec(),
            ..update(&task("x", 1))
        };
        assert!(matches!(
            set.apply(message(Type::Incremental, "1", "2", vec![remove("a"), bad])),
            Err(ChainError::Malformed(_))
        ));
        // Still the set of "1", still chained to "1".
        let full = set
            .apply(message(
                Type::Incremental,
                "1",
                "2",
                vec![update(&task("b", 2))],
            ))
            .expect("increment");
        assert_eq!(ids_versions(&full), [("a".into(), 1), ("b".into(), 2)]);
    }

    fn messages(items: Vec<AssignmentsMessage>) -> Messages {
        // Stays open after its items, like a live stream.
        Box::pin(
            futures_util::stream::iter(items.into_iter().map(Ok))
                .chain(futures_util::stream::pending()),
        )
    }

    #[tokio::test]
    async fn a_gap_restarts_the_stream_and_the_agent_sees_full_sets() {
        let first = messages(vec![
            message(Type::Complete, "", "1", vec![update(&task("a", 1))]),
            // "2" never arrived.
            message(Type::Incremental, "2", "3", vec![remove("a")]),
        ]);
        let opened = Arc::new(AtomicU32::new(0));
        let counter = opened.clone();
        let reopen = move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async {
                Ok(messages(vec![
                    message(Type::Complete, "", "1", vec![update(&task("b", 3))]),
                    message(Type::Incremental, "1", "2", vec![update(&task("c", 4))]),
                ]))
            }
        };
        let (tx, mut rx) = mpsc::channel(8);
        let run = tokio::spawn(follow(first, reopen, tx));
        let sets: Vec<Vec<(String, u64)>> = vec![
            ids_versions(&rx.recv().await.expect("set")),
            ids_versions(&rx.recv().await.expect("set")),
            ids_versions(&rx.recv().await.expect("set")),
        ];
        assert_eq!(
            sets,
            vec![
                vec![("a".into(), 1)],
                vec![("b".into(), 3)],
                vec![("b".into(), 3), ("c".into(), 4)],
            ]
        );
        assert_eq!(opened.load(Ordering::SeqCst), 1, "one restart");
        drop(rx);
        run.await
            .expect("follow ends when the agent stops listening");
    }

    #[tokio::test]
    async fn endless_gaps_end_the_stream() {
        let gap = || messages(vec![message(Type::Incremental, "9", "10", vec![])]);
        let opened = Arc::new(AtomicU32::new(0));
        let counter = opened.clone();
        let reopen = move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async move { Ok(gap()) }
        };
        let (tx, mut rx) = mpsc::channel(8);
        follow(gap(), reopen, tx).await;
        assert_eq!(opened.load(Ordering::SeqCst), MAX_RESTARTS);
        assert!(
            rx.recv().await.is_none(),
            "the channel closes: the session restarts"
        );
    }
}

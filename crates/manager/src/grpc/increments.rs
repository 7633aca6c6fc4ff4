//! The server's half of the assignments protocol, decided purely: what a
//! stream has sent so far, and the next message given the node's current
//! set (a COMPLETE first, then INCREMENTAL diffs chained by
//! `applies_to` / `results_in`).
//!
//! A task counts as changed when its store version differs from the one
//! sent (every write stamps the commit index as the version).

use std::collections::HashMap;

use rswarm_proto::dispatcher::assignment_change::Action;
use rswarm_proto::dispatcher::assignments_message::Type;
use rswarm_proto::dispatcher::{AssignmentChange, AssignmentsMessage};
use rswarm_types::Task;

/// What one Assignments stream has told its client.
#[derive(Debug, Default)]
pub(super) struct Increments {
    /// Task ID → version the client has.
    sent: HashMap<String, u64>,
    /// `results_in` of the last message; 0 before the first.
    seq: u64,
}

impl Increments {
    /// The first message of a stream: the whole `set`.
    pub(super) fn complete(
        &mut self,
        set: &[Task],
    ) -> Result<AssignmentsMessage, serde_json::Error> {
        self.sent.clear();
        let changes = set
            .iter()
            .map(|t| self.update(t))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.message(Type::Complete, changes))
    }

    /// The changes from what was sent to `current` (the node's whole set
    /// now), or `None` when nothing changed. Removals come after updates,
    /// each group in task ID order.
    pub(super) fn incremental(
        &mut self,
        current: &[Task],
    ) -> Result<Option<AssignmentsMessage>, serde_json::Error> {
        let mut updated: Vec<&Task> = current
            .iter()
            .filter(|t| self.sent.get(&t.id) != Some(&t.meta.version.index))
            .collect();
        updated.sort_by(|a, b| a.id.cmp(&b.id));
        let present: std::collections::HashSet<&str> =
            current.iter().map(|t| t.id.as_str()).collect();
        let mut removed: Vec<String> = self
            .sent
            .keys()
            .filter(|id| !present.contains(id.as_str()))
            .cloned()
            .collect();
        removed.sort();
        if updated.is_empty() && removed.is_empty() {
            return Ok(None);
        }
        let mut changes = updated
            .into_iter()
            .map(|t| self.update(t))
            .collect::<Result<Vec<_>, _>>()?;
        for task_id in removed {
            self.sent.remove(&task_id);
            changes.push(AssignmentChange {
                action: Action::Remove.into(),
                task_id,
                task: Vec::new(),
            });
        }
        Ok(Some(self.message(Type::Incremental, changes)))
    }

    /// An UPDATE change for `task`, recorded as sent.
    fn update(&mut self, task: &Task) -> Result<AssignmentChange, serde_json::Error> {
        let json = serde_json::to_vec(task)?;
        self.sent.insert(task.id.clone(), task.meta.version.index);
        Ok(AssignmentChange {
            action: Action::Update.into(),
            task_id: task.id.clone(),
            task: json,
        })
    }

    /// The next message in the chain.
    fn message(&mut self, kind: Type, changes: Vec<AssignmentChange>) -> AssignmentsMessage {
        let applies_to = match kind {
            Type::Complete => String::new(),
            Type::Incremental => self.seq.to_string(),
        };
        self.seq += 1;
        AssignmentsMessage {
            r#type: kind.into(),
            applies_to,
            results_in: self.seq.to_string(),
            changes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str, version: u64) -> Task {
        let mut t = Task {
            id: id.into(),
            ..Default::default()
        };
        t.meta.version.index = version;
        t
    }

    fn summary(m: &AssignmentsMessage) -> Vec<(Action, String, Option<u64>)> {
        m.changes
            .iter()
            .map(|c| {
                let version = (!c.task.is_empty()).then(|| {
                    serde_json::from_slice::<Task>(&c.task)
                        .expect("task json")
                        .meta
                        .version
                        .index
                });
                (c.action(), c.task_id.clone(), version)
            })
            .collect()
    }

    #[test]
    fn complete_then_only_what_changed_chained() {
        let mut inc = Increments::default();
        let first = inc.complete(&[task("a", 1), task("b", 1)]).expect("encode");
        assert_eq!(first.r#type(), Type::Complete);
        assert_eq!(
            (first.applies_to.as_str(), first.results_in.as_str()),
            ("", "1")
        );
        assert_eq!(
            summary(&first),
            vec![
                (Action::Update, "a".into(), Some(1)),
                (Action::Update, "b".into(), Some(1))
            ]
        );

        // b changed, c is new, a is gone.
        let next = inc
            .incremental(&[task("c", 3), task("b", 2)])
            .expect("encode")
            .expect("changes");
        assert_eq!(next.r#type(), Type::Incremental);
        assert_eq!(
            (next.applies_to.as_str(), next.results_in.as_str()),
            ("1", "2")
        );
        assert_eq!(
            summary(&next),
            vec![
                (Action::Update, "b".into(), Some(2)),
                (Action::Update, "c".into(), Some(3)),
                (Action::Remove, "a".into(), None)
            ]
        );

        // Nothing changed: no message, and the chain does not move.
        assert!(
            inc.incremental(&[task("b", 2), task("c", 3)])
                .expect("encode")
                .is_none()
        );
        let last = inc
            .incremental(&[task("b", 2)])
            .expect("encode")
            .expect("changes");
        assert_eq!(
            (last.applies_to.as_str(), last.results_in.as_str()),
            ("2", "3")
        );
        assert_eq!(summary(&last), vec![(Action::Remove, "c".into(), None)]);
    }

    #[test]
    fn a_new_complete_restarts_the_chain() {
        let mut inc = Increments::default();
        inc.complete(&[task("a", 1)]).expect("encode");
        inc.incremental(&[]).expect("encode").expect("removal");
        let again = inc.complete(&[task("b", 4)]).expect("encode");
        assert_eq!(again.r#type(), Type::Complete);
        assert_eq!(again.applies_to, "");
        assert_eq!(summary(&again), vec![(Action::Update, "b".into(), Some(4))]);
        // "a" is not remembered from before the new COMPLETE.
        let next = inc.incremental(&[task("b", 4)]).expect("encode");
        assert!(next.is_none());
    }
}

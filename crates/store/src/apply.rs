//! Turning a transaction's actions into a commit: stamping times and
//! versions, and checking a replicated entry again at apply time.

use rswarm_types::Timestamp;

use crate::{Action, StoreError, Tables, WriteTx};

/// Refreshes `updated_at` of every written object and sets `created_at`
/// on creates (unless the creator set a real time).
pub(crate) fn stamp_times(actions: &mut [Action], now: Timestamp) {
    for action in actions {
        let (obj, create) = match action {
            Action::Create(obj) => (obj, true),
            Action::Update(obj) => (obj, false),
            Action::Delete(..) => continue,
        };
        let meta = obj.meta_mut();
        meta.updated_at = now;
        if create && meta.created_at.timestamp() <= 0 {
            meta.created_at = now;
        }
    }
}

/// Sets the commit index as every written object's version.
pub(crate) fn stamp_versions(actions: &mut [Action], index: u64) {
    for action in actions {
        if let Action::Create(obj) | Action::Update(obj) = action {
            obj.meta_mut().version.index = index;
        }
    }
}

/// Replays `actions` as a transaction on `tables`: the same checks
/// (existence, names, base versions) the proposer's transaction made, now
/// against the state the entry is applied to. Deterministic: every
/// manager applying the same entry on the same state gets the same answer.
pub(crate) fn replay(tables: &Tables, actions: Vec<Action>) -> Result<Vec<Action>, StoreError> {
    let mut tx = WriteTx::new(tables);
    for action in actions {
        match action {
            Action::Create(obj) => tx.create(obj)?,
            Action::Update(obj) => tx.update(obj)?,
            Action::Delete(kind, id) => tx.delete(kind, &id)?,
        }
    }
    Ok(tx.into_actions())
}

#[cfg(test)]
mod tests {
    use rswarm_types::Service;

    use super::*;
    use crate::{Kind, Object};

    fn service(id: &str, name: &str, version: u64) -> Object {
        let mut s = Service {
            id: id.into(),
            ..Default::default()
        };
        s.spec.name = name.into();
        s.meta.version.index = version;
        Object::Service(s)
    }

    fn tables_with(obj: Object) -> Tables {
        let mut t = Tables::default();
        t.insert(obj);
        t
    }

    #[test]
    fn replay_accepts_what_still_fits() {
        let t = tables_with(service("s1", "web", 5));
        let actions = vec![
            Action::Update(service("s1", "web", 5)),
            // A second update of the same object in one entry carries the
            // same base version.
            Action::Update(service("s1", "api", 5)),
            Action::Create(service("s2", "web", 0)),
        ];
        assert_eq!(replay(&t, actions.clone()), Ok(actions));
    }

    #[test]
    fn replay_refuses_what_moved() {
        let t = tables_with(service("s1", "web", 7));
        assert_eq!(
            replay(&t, vec![Action::Update(service("s1", "web", 5))]),
            Err(StoreError::SequenceConflict)
        );
        assert!(matches!(
            replay(&t, vec![Action::Create(service("s1", "x", 0))]),
            Err(StoreError::Exists { .. })
        ));
        assert!(matches!(
            replay(&t, vec![Action::Create(service("s2", "WEB", 0))]),
            Err(StoreError::NameConflict { .. })
        ));
        assert!(matches!(
            replay(&t, vec![Action::Delete(Kind::Service, "nope".into())]),
            Err(StoreError::NotFound { .. })
        ));
    }

    #[test]
    fn versions_are_stamped_on_writes_only() {
        let mut actions = vec![
            Action::Create(service("s1", "web", 0)),
            Action::Delete(Kind::Task, "t1".into()),
        ];
        stamp_versions(&mut actions, 42);
        assert!(matches!(&actions[0], Action::Create(o) if o.meta().version.index == 42));
    }
}

//! Large decisions written in several transactions, as swarmkit's
//! `store.Batch` does (at most 200 changes per transaction): a service
//! with 20,000 replicas becomes 100 Raft entries of 200 tasks instead of
//! one entry of tens of megabytes that holds the Raft core (and so
//! heartbeats and every other write) for seconds, and followers receive
//! the tasks as they are committed. Each transaction still sees the
//! latest state; a batch that fails stops the rest (the loop's next pass
//! recomputes what is left from the store).

use rswarm_store::{Store, StoreError, WriteTx};

/// Changes per transaction (swarmkit's `MaxChangesPerTransaction`).
pub const MAX_CHANGES_PER_TRANSACTION: usize = 200;

/// Applies `f` to every item, in order, at most
/// [`MAX_CHANGES_PER_TRANSACTION`] items per transaction. Stops at the
/// first transaction that fails and returns its error.
pub async fn apply_in_batches<T>(
    store: &Store,
    items: Vec<T>,
    mut f: impl FnMut(&mut WriteTx<'_>, T) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        let batch: Vec<T> = items.by_ref().take(MAX_CHANGES_PER_TRANSACTION).collect();
        store
            .update(|tx| {
                for item in batch {
                    f(tx, item)?;
                }
                Ok::<_, StoreError>(())
            })
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rswarm_rt::SystemClock;
    use rswarm_store::{Kind, MemoryProposer, Object};
    use rswarm_types::Service;

    use super::*;

    fn service(i: usize) -> Object {
        let mut s = Service {
            id: format!("s{i}"),
            ..Default::default()
        };
        s.spec.name = format!("web{i}");
        Object::Service(s)
    }

    #[tokio::test]
    async fn a_large_change_becomes_transactions_of_at_most_200() {
        let store = Store::open(Arc::new(MemoryProposer), Arc::new(SystemClock)).expect("store");
        let before = store.index();
        apply_in_batches(&store, (0..450).collect(), |tx, i| tx.create(service(i)))
            .await
            .expect("batches");
        assert_eq!(store.view(|t| t.count(Kind::Service)), 450);
        assert_eq!(store.index() - before, 3, "200 + 200 + 50");
        apply_in_batches(&store, Vec::<usize>::new(), |tx, i| tx.create(service(i)))
            .await
            .expect("nothing to do");
        assert_eq!(store.index() - before, 3);
    }

    #[tokio::test]
    async fn a_failing_batch_stops_the_rest() {
        let store = Store::open(Arc::new(MemoryProposer), Arc::new(SystemClock)).expect("store");
        // Item 250 already exists: the second batch fails as a whole.
        apply_in_batches(&store, vec![250], |tx, i| tx.create(service(i)))
            .await
            .expect("first");
        let err = apply_in_batches(&store, (0..450).collect(), |tx, i| tx.create(service(i)))
            .await
            .expect_err("duplicate");
        assert!(matches!(err, StoreError::Exists { .. }), "{err:?}");
        assert_eq!(store.view(|t| t.count(Kind::Service)), 201);
    }
}

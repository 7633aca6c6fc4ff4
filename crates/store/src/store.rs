//! The store: tables behind a lock, serialized writes, commit events.

use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use rswarm_rt::Clock;
use tokio::sync::{Mutex, broadcast};

use crate::apply::{replay, stamp_times, stamp_versions};
use crate::{Commit, Proposal, Proposer, Replicator, StoreError, Tables, WriteTx};

/// Capacity of the commit channel; a watcher further behind gets `Lagged`
/// and resyncs from a fresh view. The channel keeps this many commits (with
/// their objects) alive, so it stays small.
const WATCH_CAPACITY: usize = 256;

/// The cluster store. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    tables: RwLock<(Tables, u64)>,
    write_lock: Mutex<()>,
    events: broadcast::Sender<Arc<Commit>>,
    backend: Backend,
    clock: Arc<dyn Clock>,
}

/// Where commits go.
#[derive(Debug)]
enum Backend {
    /// Persisted locally, then applied by `update` itself.
    Local(Arc<dyn Proposer>),
    /// Replicated; every commit comes back through `apply_committed`. The
    /// replicator is attached once, after the store exists (the log's
    /// state machine needs the store first).
    Replicated(OnceLock<Arc<dyn Replicator>>),
}

impl Store {
    /// Opens a store with the state the proposer has persisted.
    pub fn open(proposer: Arc<dyn Proposer>, clock: Arc<dyn Clock>) -> Result<Store, StoreError> {
        let (tables, index) = proposer.load()?;
        Ok(Store::with_backend(
            tables,
            index,
            Backend::Local(proposer),
            clock,
        ))
    }

    /// A replicated store starting from `tables` at commit `index` (what
    /// the log's latest snapshot holds). Writes fail with
    /// [`StoreError::NoLeader`] until [`Store::attach_replicator`] is
    /// called; commits are applied with [`Store::apply_committed`].
    pub fn replicated(tables: Tables, index: u64, clock: Arc<dyn Clock>) -> Store {
        Store::with_backend(tables, index, Backend::Replicated(OnceLock::new()), clock)
    }

    fn with_backend(tables: Tables, index: u64, backend: Backend, clock: Arc<dyn Clock>) -> Store {
        let (events, _) = broadcast::channel(WATCH_CAPACITY);
        Store {
            inner: Arc::new(Inner {
                tables: RwLock::new((tables, index)),
                write_lock: Mutex::new(()),
                events,
                backend,
                clock,
            }),
        }
    }

    /// Attaches the replicator of a store made by [`Store::replicated`].
    /// Returns false (and changes nothing) for a local store or when one
    /// is attached already.
    pub fn attach_replicator(&self, replicator: Arc<dyn Replicator>) -> bool {
        match &self.inner.backend {
            Backend::Replicated(slot) => slot.set(replicator).is_ok(),
            Backend::Local(_) => false,
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, (Tables, u64)> {
        // A poisoned lock means a panic mid-apply; the tables are still a
        // consistent map (apply does not panic half-way), so keep serving.
        self.inner.tables.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, (Tables, u64)> {
        self.inner.tables.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on a consistent view of the tables.
    pub fn view<R>(&self, f: impl FnOnce(&Tables) -> R) -> R {
        f(&self.read().0)
    }

    /// The index of the last commit.
    pub fn index(&self) -> u64 {
        self.read().1
    }

    /// Subscribes to commits from now on.
    pub fn watch(&self) -> broadcast::Receiver<Arc<Commit>> {
        self.inner.events.subscribe()
    }

    /// Runs `f` on a view and subscribes in the same instant, so the
    /// events received start exactly after the state `f` saw.
    pub fn view_and_watch<R>(
        &self,
        f: impl FnOnce(&Tables) -> R,
    ) -> (R, broadcast::Receiver<Arc<Commit>>) {
        let guard = self.read();
        let rx = self.inner.events.subscribe();
        (f(&guard.0), rx)
    }

    /// Runs a write transaction. Its changes are proposed, applied and
    /// published together, or not at all (when `f` or the proposal fails).
    ///
    /// On a replicated store the transaction runs only on the leader
    /// (elsewhere it fails with [`StoreError::NotLeader`] or
    /// [`StoreError::NoLeader`] before `f` is called), and returns once its
    /// entry is committed and applied here.
    pub async fn update<R, E>(
        &self,
        f: impl FnOnce(&mut WriteTx<'_>) -> Result<R, E>,
    ) -> Result<R, E>
    where
        E: From<StoreError>,
    {
        let _serial = self.inner.write_lock.lock().await;
        let replicator = match &self.inner.backend {
            Backend::Local(_) => None,
            Backend::Replicated(slot) => {
                let r = slot.get().ok_or(StoreError::NoLeader)?;
                r.ready().await?;
                Some(r)
            }
        };
        let (result, mut actions, index) = {
            let guard = self.read();
            let mut tx = WriteTx::new(&guard.0);
            let result = f(&mut tx)?;
            (result, tx.into_actions(), guard.1 + 1)
        };
        if actions.is_empty() {
            return Ok(result);
        }
        stamp_times(&mut actions, self.inner.clock.now());
        match (&self.inner.backend, replicator) {
            (_, Some(r)) => {
                r.replicate(Proposal { actions }).await?;
            }
            (Backend::Local(proposer), None) => {
                stamp_versions(&mut actions, index);
                proposer.propose(index, &actions).await?;
                let mut guard = self.write();
                let events = actions
                    .into_iter()
                    .filter_map(|a| guard.0.apply(a))
                    .collect();
                guard.1 = index;
                self.publish(index, events);
            }
            (Backend::Replicated(_), None) => return Err(StoreError::NoLeader.into()),
        }
        Ok(result)
    }

    /// Applies a committed log entry (on every manager, in log order):
    /// checks its actions again against the current tables, stamps them
    /// with `index` as their version, applies them and publishes the
    /// commit. An entry that no longer fits (an object changed or appeared
    /// since its proposer read it) changes nothing and returns the check's
    /// error, e.g. [`StoreError::SequenceConflict`]; the same on every
    /// manager.
    pub fn apply_committed(&self, index: u64, proposal: Proposal) -> Result<(), StoreError> {
        let mut guard = self.write();
        let mut actions = replay(&guard.0, proposal.actions)?;
        stamp_versions(&mut actions, index);
        let events = actions
            .into_iter()
            .filter_map(|a| guard.0.apply(a))
            .collect();
        guard.1 = index;
        // Published under the lock: a concurrent view_and_watch sees either
        // the state before and this commit, or the state after and not it.
        self.publish(index, events);
        Ok(())
    }

    /// A copy of the tables and the index they are at (for a snapshot).
    pub fn snapshot(&self) -> (Tables, u64) {
        let guard = self.read();
        (guard.0.clone(), guard.1)
    }

    /// Replaces the whole state (an installed snapshot) and publishes the
    /// difference as one commit, so watchers stay consistent.
    pub fn install(&self, tables: Tables, index: u64) {
        let mut guard = self.write();
        let events = guard.0.diff(&tables);
        *guard = (tables, index);
        self.publish(index, events);
    }

    fn publish(&self, index: u64, events: Vec<crate::Event>) {
        if !events.is_empty() {
            let _ = self.inner.events.send(Arc::new(Commit { index, events }));
        }
    }
}

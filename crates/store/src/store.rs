//! The store: tables behind a lock, serialized writes, commit events.

use std::sync::{Arc, RwLock, RwLockReadGuard};

use rswarm_rt::Clock;
use tokio::sync::{Mutex, broadcast};

use crate::{Action, Commit, Proposer, StoreError, Tables, WriteTx};

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
    proposer: Arc<dyn Proposer>,
    clock: Arc<dyn Clock>,
}

impl Store {
    /// Opens a store with the state the proposer has persisted.
    pub fn open(proposer: Arc<dyn Proposer>, clock: Arc<dyn Clock>) -> Result<Store, StoreError> {
        let (tables, index) = proposer.load()?;
        let (events, _) = broadcast::channel(WATCH_CAPACITY);
        Ok(Store {
            inner: Arc::new(Inner {
                tables: RwLock::new((tables, index)),
                write_lock: Mutex::new(()),
                events,
                proposer,
                clock,
            }),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, (Tables, u64)> {
        // A poisoned lock means a panic mid-apply; the tables are still a
        // consistent map (apply does not panic half-way), so keep serving.
        self.inner.tables.read().unwrap_or_else(|e| e.into_inner())
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
    pub async fn update<R, E>(
        &self,
        f: impl FnOnce(&mut WriteTx<'_>) -> Result<R, E>,
    ) -> Result<R, E>
    where
        E: From<StoreError>,
    {
        let _serial = self.inner.write_lock.lock().await;
        let (result, mut actions, index) = {
            let guard = self.read();
            let mut tx = WriteTx::new(&guard.0);
            let result = f(&mut tx)?;
            (result, tx.into_actions(), guard.1 + 1)
        };
        if actions.is_empty() {
            return Ok(result);
        }
        let now = self.inner.clock.now();
        stamp(&mut actions, index, now);
        self.inner.proposer.propose(index, &actions).await?;
        let events = {
            let mut guard = self.inner.tables.write().unwrap_or_else(|e| e.into_inner());
            let events: Vec<_> = actions
                .into_iter()
                .filter_map(|a| guard.0.apply(a))
                .collect();
            guard.1 = index;
            events
        };
        let _ = self.inner.events.send(Arc::new(Commit { index, events }));
        Ok(result)
    }
}

/// Sets the commit index as every written object's version, refreshes
/// `updated_at`, and sets `created_at` on creates (unless the creator set
/// a real time).
fn stamp(actions: &mut [Action], index: u64, now: rswarm_types::Timestamp) {
    for action in actions {
        let (obj, create) = match action {
            Action::Create(obj) => (obj, true),
            Action::Update(obj) => (obj, false),
            Action::Delete(..) => continue,
        };
        let meta = obj.meta_mut();
        meta.version.index = index;
        meta.updated_at = now;
        if create && meta.created_at.timestamp() <= 0 {
            meta.created_at = now;
        }
    }
}

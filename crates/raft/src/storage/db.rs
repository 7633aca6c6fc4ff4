//! The redb database under `<data-root>/swarm/raft/`: the log, the vote,
//! the commit point and the latest snapshot, in one file.
//!
//! Tables: `log` (index → JSON entry), `meta` (`vote`, `committed`,
//! `purged` → JSON), `snapshot` (`meta` → JSON, `data` → bytes).

use std::fs::{DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::sync::Arc;

use redb::{Database, TableDefinition};
use tokio::sync::watch;

use crate::error::RaftNodeError;

/// The database file inside the raft directory.
pub const DB_FILE: &str = "raft.redb";

/// Page cache: the log is read back rarely (followers, restarts).
const CACHE_BYTES: usize = 8 * 1024 * 1024;

pub(crate) const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("log");
pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
pub(crate) const SNAPSHOT: TableDefinition<&str, &[u8]> = TableDefinition::new("snapshot");

pub(crate) const VOTE: &str = "vote";
pub(crate) const COMMITTED: &str = "committed";
pub(crate) const PURGED: &str = "purged";
pub(crate) const SNAPSHOT_META: &str = "meta";
pub(crate) const SNAPSHOT_DATA: &str = "data";

/// The open database. Dropping the last reference closes the file (and
/// releases its lock) *then* reports it closed: whoever drops it last
/// (an openraft task), a restart in the same process can wait for that.
#[derive(Debug)]
pub(crate) struct Db {
    // Fields drop in order: the database first, then the signal.
    db: Database,
    _closed: ClosedSignal,
}

#[derive(Debug)]
struct ClosedSignal(watch::Sender<bool>);

impl Drop for ClosedSignal {
    fn drop(&mut self) {
        self.0.send_replace(true);
    }
}

impl std::ops::Deref for Db {
    type Target = Database;

    fn deref(&self) -> &Database {
        &self.db
    }
}

/// Opens (or creates) `dir/raft.redb`, owner-only: it holds the cluster
/// state, CA key included. The receiver turns true once it is closed.
pub(crate) fn open(dir: &Path) -> Result<(Arc<Db>, watch::Receiver<bool>), RaftNodeError> {
    let err = |e: &dyn std::fmt::Display| RaftNodeError::Storage(format!("{}: {e}", dir.display()));
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| err(&e))?;
    let path = dir.join(DB_FILE);
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(|e| err(&e))?;
    let db = redb::Builder::new()
        .set_cache_size(CACHE_BYTES)
        .create(&path)
        .map_err(|e| err(&e))?;
    let tx = db.begin_write().map_err(|e| err(&e))?;
    {
        tx.open_table(LOG).map_err(|e| err(&e))?;
        tx.open_table(META).map_err(|e| err(&e))?;
        tx.open_table(SNAPSHOT).map_err(|e| err(&e))?;
    }
    tx.commit().map_err(|e| err(&e))?;
    let (closed, closed_rx) = watch::channel(false);
    Ok((
        Arc::new(Db {
            db,
            _closed: ClosedSignal(closed),
        }),
        closed_rx,
    ))
}

/// Runs blocking database work off the async threads.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, openraft::StorageError<u64>>
where
    F: FnOnce() -> Result<T, openraft::StorageError<u64>> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(crate::error::storage_err)?
}

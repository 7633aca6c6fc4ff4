//! Openraft's log storage over redb: entries, vote, commit point, purge
//! point. Every write transaction commits with fsync before returning (and
//! before an append is reported flushed).

use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{OptionalSend, RaftLogReader, StorageError, Vote};
use redb::{Database, ReadableDatabase, ReadableTable};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::storage_err;
use crate::storage::db::{COMMITTED, Db, LOG, META, PURGED, VOTE, blocking};
use crate::types::{LogId, TypeConfig};

type Entry = openraft::Entry<TypeConfig>;
type Result<T> = std::result::Result<T, StorageError<u64>>;

/// The log, vote and commit point of one manager.
#[derive(Clone, Debug)]
pub struct LogStore {
    db: Arc<Db>,
}

impl LogStore {
    pub(crate) fn new(db: Arc<Db>) -> LogStore {
        LogStore { db }
    }
}

/// Reads a JSON value of the meta table.
pub(crate) fn read_meta<T: DeserializeOwned>(db: &Database, key: &str) -> Result<Option<T>> {
    let tx = db.begin_read().map_err(storage_err)?;
    let table = tx.open_table(META).map_err(storage_err)?;
    match table.get(key).map_err(storage_err)? {
        Some(v) => Ok(Some(
            serde_json::from_slice(v.value()).map_err(storage_err)?,
        )),
        None => Ok(None),
    }
}

/// Writes a JSON value of the meta table (committed, fsynced).
pub(crate) fn write_meta<T: Serialize>(db: &Database, key: &str, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec(value).map_err(storage_err)?;
    let tx = db.begin_write().map_err(storage_err)?;
    {
        let mut table = tx.open_table(META).map_err(storage_err)?;
        table.insert(key, bytes.as_slice()).map_err(storage_err)?;
    }
    tx.commit().map_err(storage_err)
}

/// Entries with indexes in `range`, in order.
pub(crate) fn read_entries(db: &Database, range: (Bound<u64>, Bound<u64>)) -> Result<Vec<Entry>> {
    let tx = db.begin_read().map_err(storage_err)?;
    let table = tx.open_table(LOG).map_err(storage_err)?;
    let mut entries = Vec::new();
    for row in table.range::<u64>(range).map_err(storage_err)? {
        let (_, v) = row.map_err(storage_err)?;
        entries.push(serde_json::from_slice(v.value()).map_err(storage_err)?);
    }
    Ok(entries)
}

/// Removes the entries with indexes in `range`.
pub(crate) fn remove_entries(db: &Database, range: (Bound<u64>, Bound<u64>)) -> Result<()> {
    let tx = db.begin_write().map_err(storage_err)?;
    {
        let mut table = tx.open_table(LOG).map_err(storage_err)?;
        table
            .retain_in::<u64, _>(range, |_, _| false)
            .map_err(storage_err)?;
    }
    tx.commit().map_err(storage_err)
}

fn owned_range(range: impl RangeBounds<u64>) -> (Bound<u64>, Bound<u64>) {
    (range.start_bound().cloned(), range.end_bound().cloned())
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>> {
        let db = self.db.clone();
        let range = owned_range(range);
        blocking(move || read_entries(&db, range)).await
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>> {
        let db = self.db.clone();
        blocking(move || {
            let purged: Option<LogId> = read_meta(&db, PURGED)?;
            let tx = db.begin_read().map_err(storage_err)?;
            let table = tx.open_table(LOG).map_err(storage_err)?;
            let last = match table.last().map_err(storage_err)? {
                Some((_, v)) => {
                    let e: Entry = serde_json::from_slice(v.value()).map_err(storage_err)?;
                    Some(e.log_id)
                }
                None => purged,
            };
            Ok(LogState {
                last_purged_log_id: purged,
                last_log_id: last,
            })
        })
        .await
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<u64>) -> Result<()> {
        let db = self.db.clone();
        let vote = *vote;
        blocking(move || write_meta(&db, VOTE, &vote)).await
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<u64>>> {
        let db = self.db.clone();
        blocking(move || read_meta(&db, VOTE)).await
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<()> {
        let db = self.db.clone();
        blocking(move || write_meta(&db, COMMITTED, &committed)).await
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>> {
        let db = self.db.clone();
        blocking(move || Ok(read_meta::<Option<LogId>>(&db, COMMITTED)?.flatten())).await
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> Result<()>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let rows = entries
            .into_iter()
            .map(|e| Ok((e.log_id.index, serde_json::to_vec(&e).map_err(storage_err)?)))
            .collect::<Result<Vec<_>>>()?;
        let db = self.db.clone();
        let written = blocking(move || {
            let tx = db.begin_write().map_err(storage_err)?;
            {
                let mut table = tx.open_table(LOG).map_err(storage_err)?;
                for (index, bytes) in &rows {
                    table
                        .insert(*index, bytes.as_slice())
                        .map_err(storage_err)?;
                }
            }
            tx.commit().map_err(storage_err)
        })
        .await;
        match &written {
            Ok(()) => callback.log_io_completed(Ok(())),
            Err(e) => callback.log_io_completed(Err(std::io::Error::other(e.to_string()))),
        }
        written
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<()> {
        let db = self.db.clone();
        blocking(move || remove_entries(&db, (Bound::Included(log_id.index), Bound::Unbounded)))
            .await
    }

    async fn purge(&mut self, log_id: LogId) -> Result<()> {
        let db = self.db.clone();
        blocking(move || {
            write_meta(&db, PURGED, &log_id)?;
            remove_entries(&db, (Bound::Unbounded, Bound::Included(log_id.index)))
        })
        .await
    }
}

//! Openraft's state machine: the store's tables. Committed entries are
//! applied through [`Store::apply_committed`] (on every manager);
//! snapshots are built from the tables and installed by replacing them.

use std::io::Cursor;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{EntryPayload, OptionalSend, RaftSnapshotBuilder, StorageError};
use rswarm_store::{Kind, Store, Tables};

use crate::storage::db::{Db, blocking};
use crate::storage::snapshot;
use crate::types::{Applied, LogId, SnapshotMeta, StoredMembership, TypeConfig};

type Entry = openraft::Entry<TypeConfig>;
type Result<T> = std::result::Result<T, StorageError<u64>>;

/// The replicated state of one manager.
#[derive(Debug)]
pub struct StateMachine {
    store: Store,
    db: Arc<Db>,
    last_applied: Option<LogId>,
    membership: StoredMembership,
}

impl StateMachine {
    /// A state machine over `store`, whose tables hold everything up to
    /// `last_applied` (from the latest snapshot).
    pub(crate) fn new(
        store: Store,
        db: Arc<Db>,
        last_applied: Option<LogId>,
        membership: StoredMembership,
    ) -> StateMachine {
        StateMachine {
            store,
            db,
            last_applied,
            membership,
        }
    }

    /// Applies one entry (also used offline by force-new-cluster).
    pub(crate) fn apply_entry(&mut self, entry: Entry) -> Applied {
        let index = entry.log_id.index;
        self.last_applied = Some(entry.log_id);
        let refused = match entry.payload {
            EntryPayload::Blank => None,
            EntryPayload::Normal(proposal) => self.store.apply_committed(index, proposal).err(),
            EntryPayload::Membership(m) => {
                self.membership = StoredMembership::new(Some(entry.log_id), m);
                None
            }
        };
        Applied { index, refused }
    }

    /// The last applied log ID and membership.
    pub(crate) fn applied(&self) -> (Option<LogId>, StoredMembership) {
        (self.last_applied, self.membership.clone())
    }
}

/// Builds a snapshot from a copy of the tables taken between two applies.
#[derive(Debug)]
pub struct SnapshotBuilder {
    tables: Tables,
    index: u64,
    last_applied: Option<LogId>,
    membership: StoredMembership,
    db: Arc<Db>,
}

impl SnapshotBuilder {
    pub(crate) fn of(sm: &StateMachine) -> SnapshotBuilder {
        let (tables, index) = sm.store.snapshot();
        SnapshotBuilder {
            tables,
            index,
            last_applied: sm.last_applied,
            membership: sm.membership.clone(),
            db: sm.db.clone(),
        }
    }
}

fn snapshot_id(last: Option<LogId>) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    match last {
        Some(l) => format!("{}-{}-{nanos}", l.leader_id.term, l.index),
        None => format!("0-0-{nanos}"),
    }
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>> {
        let tables = std::mem::take(&mut self.tables);
        let meta = SnapshotMeta {
            last_log_id: self.last_applied,
            last_membership: self.membership.clone(),
            snapshot_id: snapshot_id(self.last_applied),
        };
        let db = self.db.clone();
        let index = self.index;
        let (meta, data) = blocking(move || {
            let data = snapshot::encode(&tables, index)?;
            snapshot::save(&db, &meta, &data)?;
            Ok((meta, data))
        })
        .await?;
        tracing::info!(
            "raft snapshot {} taken ({} bytes)",
            meta.snapshot_id,
            data.len()
        );
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership)> {
        Ok(self.applied())
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Applied>>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        Ok(entries.into_iter().map(|e| self.apply_entry(e)).collect())
    }

    async fn get_snapshot_builder(&mut self) -> SnapshotBuilder {
        SnapshotBuilder::of(self)
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<()> {
        let data = snapshot.into_inner();
        let db = self.db.clone();
        let saved_meta = meta.clone();
        let (tables, index) = blocking(move || {
            let decoded = snapshot::decode(&data)?;
            snapshot::save(&db, &saved_meta, &data)?;
            Ok(decoded)
        })
        .await?;
        tracing::info!(
            "raft snapshot {} installed ({} objects)",
            meta.snapshot_id,
            [Kind::Cluster, Kind::Node, Kind::Service, Kind::Task]
                .iter()
                .map(|k| tables.count(*k))
                .sum::<usize>()
        );
        self.store.install(tables, index);
        self.last_applied = meta.last_log_id;
        self.membership = meta.last_membership.clone();
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>> {
        let db = self.db.clone();
        let loaded = blocking(move || snapshot::load(&db)).await?;
        Ok(loaded.map(|(meta, data)| Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        }))
    }
}

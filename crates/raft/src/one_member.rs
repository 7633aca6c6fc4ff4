//! Writing a state as a one-member cluster: the last step shared by
//! `swarm init --force-new-cluster` (the manager's own state) and by
//! restoring a backup (the backup's state into a new data root).
//!
//! The state becomes the latest snapshot, whose membership is this
//! manager alone; the log is emptied (purged up to the snapshot) and the
//! commit point set to it. The vote is left to the caller.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use openraft::Membership;
use redb::Database;
use rswarm_store::Tables;

use crate::error::RaftNodeError;
use crate::storage::db::{COMMITTED, PURGED};
use crate::storage::{remove_entries, snapshot, write_meta};
use crate::types::{LogId, Peer, SnapshotMeta, StoredMembership};

/// Writes `tables` (at store index `index`, Raft log position `last`) as
/// the only state of `db`, with `me` as the group's only voter.
pub(crate) fn write(
    db: &Database,
    me: &Peer,
    last: LogId,
    tables: &Tables,
    index: u64,
    why: &str,
) -> Result<(), RaftNodeError> {
    let storage = |e: openraft::StorageError<u64>| RaftNodeError::Storage(e.to_string());
    remove_entries(db, (Bound::Unbounded, Bound::Unbounded)).map_err(storage)?;
    let alone = Membership::new(
        vec![BTreeSet::from([me.raft_id()])],
        BTreeMap::from([(me.raft_id(), me.clone())]),
    );
    let meta = SnapshotMeta {
        last_log_id: Some(last),
        last_membership: StoredMembership::new(Some(last), alone),
        snapshot_id: format!("{}-{}-{why}", last.leader_id.term, last.index),
    };
    let data = snapshot::encode(tables, index).map_err(storage)?;
    snapshot::save(db, &meta, &data).map_err(storage)?;
    write_meta(db, PURGED, &last).map_err(storage)?;
    write_meta(db, COMMITTED, &Some(last)).map_err(storage)
}

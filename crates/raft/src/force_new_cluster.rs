//! `swarm init --force-new-cluster`: turn a manager's local Raft state
//! into a one-member cluster, keeping everything it knows was committed.
//!
//! Offline, before openraft starts: restore the latest snapshot, apply the
//! log up to the saved commit point, write that state as a new snapshot
//! whose membership is this manager alone, and empty the log (purged up to
//! the snapshot). The vote is kept; the lone voter elects itself.
//! Entries past the commit point are dropped: nobody acknowledged them.
//! A node that never applied anything is left without a cluster.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::sync::Arc;

use openraft::Membership;
use rswarm_rt::Clock;
use rswarm_store::Store;

use crate::error::RaftNodeError;
use crate::storage::db::{COMMITTED, Db, PURGED};
use crate::storage::{StateMachine, read_entries, read_meta, remove_entries, snapshot, write_meta};
use crate::types::{LogId, Peer, SnapshotMeta, StoredMembership};

/// Rewrites the state in `db` as a one-member cluster of `me`.
pub(crate) fn rewrite(db: &Arc<Db>, me: &Peer, clock: Arc<dyn Clock>) -> Result<(), RaftNodeError> {
    let storage = |e: openraft::StorageError<u64>| RaftNodeError::Storage(e.to_string());
    let (tables, index, last_applied, membership) = match snapshot::load(db).map_err(storage)? {
        Some((meta, data)) => {
            let (tables, index) = snapshot::decode(&data).map_err(storage)?;
            (tables, index, meta.last_log_id, meta.last_membership)
        }
        None => Default::default(),
    };
    let store = Store::replicated(tables, index, clock);
    let mut sm = StateMachine::new(store.clone(), db.clone(), last_applied, membership);
    let committed: Option<LogId> = read_meta::<Option<LogId>>(db, COMMITTED)
        .map_err(storage)?
        .flatten();
    if let Some(committed) = committed {
        let from = last_applied.map_or(Bound::Unbounded, |l| Bound::Excluded(l.index));
        let entries =
            read_entries(db, (from, Bound::Included(committed.index))).map_err(storage)?;
        for entry in entries {
            sm.apply_entry(entry);
        }
    }
    let (last, _) = sm.applied();
    remove_entries(db, (Bound::Unbounded, Bound::Unbounded)).map_err(storage)?;
    let Some(last) = last else {
        tracing::warn!("force-new-cluster: no committed state; the node starts without a cluster");
        return Ok(());
    };
    let alone = Membership::new(
        vec![BTreeSet::from([me.raft_id()])],
        BTreeMap::from([(me.raft_id(), me.clone())]),
    );
    let meta = SnapshotMeta {
        last_log_id: Some(last),
        last_membership: StoredMembership::new(Some(last), alone),
        snapshot_id: format!("{}-{}-force-new-cluster", last.leader_id.term, last.index),
    };
    let (tables, index) = store.snapshot();
    let data = snapshot::encode(&tables, index).map_err(storage)?;
    snapshot::save(db, &meta, &data).map_err(storage)?;
    write_meta(db, PURGED, &last).map_err(storage)?;
    write_meta(db, COMMITTED, &Some(last)).map_err(storage)?;
    tracing::info!(
        "force-new-cluster: {} is now the only manager, state kept up to log index {}",
        me.node_id,
        last.index
    );
    Ok(())
}

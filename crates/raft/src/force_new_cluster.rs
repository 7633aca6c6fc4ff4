//! `swarm init --force-new-cluster`: turn a manager's local Raft state
//! into a one-member cluster, keeping everything it knows was committed.
//!
//! Offline, before openraft starts: restore the latest snapshot, apply the
//! log up to the saved commit point, write that state as a new snapshot
//! whose membership is this manager alone, and empty the log (purged up to
//! the snapshot). The vote is kept; the lone voter elects itself.
//! Entries past the commit point are dropped: nobody acknowledged them.
//! A node that never applied anything is left without a cluster.

use std::ops::Bound;
use std::sync::Arc;

use rswarm_rt::Clock;
use rswarm_store::Store;

use crate::error::RaftNodeError;
use crate::one_member;
use crate::storage::db::{COMMITTED, Db};
use crate::storage::{StateMachine, read_entries, read_meta, remove_entries, snapshot};
use crate::types::{LogId, Peer};

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
    let Some(last) = last else {
        remove_entries(db, (Bound::Unbounded, Bound::Unbounded)).map_err(storage)?;
        tracing::warn!("force-new-cluster: no committed state; the node starts without a cluster");
        return Ok(());
    };
    let (tables, index) = store.snapshot();
    one_member::write(db, me, last, &tables, index, "force-new-cluster")?;
    tracing::info!(
        "force-new-cluster: {} is now the only manager, state kept up to log index {}",
        me.node_id,
        last.index
    );
    Ok(())
}

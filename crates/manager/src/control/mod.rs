//! The control API: validates user requests, applies defaults and
//! versions, and writes specs to the store. Reads return store objects.

mod cluster;
pub use cluster::TokenRotation;
mod networks;
pub use networks::{INGRESS, address_pools, ingress_spec, new_network};
mod nodes;
mod op;
pub use op::{ControlOp, ControlReply, WireError};
mod services;

use std::sync::Arc;

use rswarm_raft::RaftNode;
use rswarm_rt::Clock;
use rswarm_store::Store;

/// User-facing cluster operations (what `docker service|node|swarm` call).
#[derive(Clone, Debug)]
pub struct ControlApi {
    store: Store,
    clock: Arc<dyn Clock>,
    /// The managers' Raft group, for the membership checks of demote and
    /// `node rm` (`None` for a single manager without Raft).
    raft: Option<RaftNode>,
}

impl ControlApi {
    /// A control API over `store`.
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> ControlApi {
        ControlApi {
            store,
            clock,
            raft: None,
        }
    }

    /// The same API, checking managers' changes against `raft`'s group.
    pub fn with_raft(mut self, raft: RaftNode) -> ControlApi {
        self.raft = Some(raft);
        self
    }

    /// The store this API writes to.
    pub fn store(&self) -> &Store {
        &self.store
    }
}

/// Checks the `version` a client sent against the object's version.
fn check_version(current: u64, given: u64) -> Result<(), rswarm_types::ControlError> {
    if current == given {
        Ok(())
    } else {
        Err(rswarm_types::ControlError::OutOfSequence)
    }
}

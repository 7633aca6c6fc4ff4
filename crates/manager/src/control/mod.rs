//! The control API: validates user requests, applies defaults and
//! versions, and writes specs to the store. Reads return store objects.

mod cluster;
pub use cluster::TokenRotation;
mod nodes;
mod op;
pub use op::{ControlOp, ControlReply, WireError};
mod services;

use std::sync::Arc;

use rswarm_rt::Clock;
use rswarm_store::Store;

/// User-facing cluster operations (what `docker service|node|swarm` call).
#[derive(Clone, Debug)]
pub struct ControlApi {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl ControlApi {
    /// A control API over `store`.
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> ControlApi {
        ControlApi { store, clock }
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

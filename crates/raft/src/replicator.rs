//! The store's [`Replicator`] for a Raft node: writes go through
//! openraft's `client_write`, which answers once the entry is committed
//! and applied by this manager's state machine.

use std::sync::Weak;

use async_trait::async_trait;
use openraft::error::{ClientWriteError, RaftError};
use rswarm_store::{Proposal, Replicator, StoreError};

use crate::error::RaftNodeError;
use crate::node::{NodeInner, RaftNode};

/// Holds the node weakly: the node's state machine holds the store, which
/// holds this; a strong reference would keep a dropped node alive.
#[derive(Debug)]
pub(crate) struct NodeReplicator {
    node: Weak<NodeInner>,
}

impl NodeReplicator {
    pub(crate) fn new(node: Weak<NodeInner>) -> NodeReplicator {
        NodeReplicator { node }
    }

    fn node(&self) -> Result<RaftNode, StoreError> {
        self.node
            .upgrade()
            .map(|inner| RaftNode { inner })
            .ok_or_else(|| RaftNodeError::Stopped.into())
    }
}

#[async_trait]
impl Replicator for NodeReplicator {
    async fn ready(&self) -> Result<(), StoreError> {
        Ok(self.node()?.ready().await?)
    }

    async fn replicate(&self, proposal: Proposal) -> Result<u64, StoreError> {
        let node = self.node()?;
        let timeout = node.inner.timing.commit_timeout;
        let written = tokio::time::timeout(timeout, node.inner.raft.client_write(proposal)).await;
        match written {
            Err(_) => Err(StoreError::NoLeader),
            Ok(Ok(resp)) => match resp.data.refused {
                Some(e) => Err(e),
                None => Ok(resp.log_id.index),
            },
            Ok(Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f)))) => {
                Err(node.forward_error(&f).into())
            }
            Ok(Err(RaftError::APIError(e))) => Err(StoreError::Propose(e.to_string())),
            Ok(Err(RaftError::Fatal(_))) => Err(RaftNodeError::Stopped.into()),
        }
    }
}

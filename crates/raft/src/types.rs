//! Openraft's type configuration for rswarm: what a log entry carries, who
//! a member is, what applying an entry answers.

use std::fmt;
use std::io::Cursor;

use rswarm_store::{Proposal, StoreError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

openraft::declare_raft_types!(
    /// The type configuration of rswarm's Raft.
    pub TypeConfig:
        D = Proposal,
        R = Applied,
        NodeId = u64,
        Node = Peer,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = Cursor<Vec<u8>>,
        AsyncRuntime = openraft::TokioRuntime,
);

/// Openraft's Raft handle for this configuration.
pub type Raft = openraft::Raft<TypeConfig>;
/// A log ID.
pub type LogId = openraft::LogId<u64>;
/// A membership configuration as stored in the log.
pub type StoredMembership = openraft::StoredMembership<u64, Peer>;
/// A snapshot's metadata.
pub type SnapshotMeta = openraft::SnapshotMeta<u64, Peer>;

/// A manager as a member of the Raft group (openraft's `Node`): its swarm
/// node ID and the address its Raft service listens on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peer {
    /// The swarm node ID (the CN of its certificate).
    pub node_id: String,
    /// `host:port` of its swarm port.
    pub addr: String,
}

impl Peer {
    /// A peer.
    pub fn new(node_id: impl Into<String>, addr: impl Into<String>) -> Peer {
        Peer {
            node_id: node_id.into(),
            addr: addr.into(),
        }
    }

    /// Its Raft ID.
    pub fn raft_id(&self) -> u64 {
        raft_id(&self.node_id)
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.node_id, self.addr)
    }
}

/// The Raft ID of a swarm node ID: the first 8 bytes of its SHA-256 (never
/// 0). Every manager derives the same one; the membership keeps the
/// mapping back ([`Peer`]).
pub fn raft_id(node_id: &str) -> u64 {
    let digest = Sha256::digest(node_id.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(bytes).max(1)
}

/// What applying one entry answers to its proposer (openraft's `R`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Applied {
    /// The entry's log index.
    pub index: u64,
    /// Why the entry changed nothing (it no longer fitted the tables).
    /// Only the local proposer reads it; it never crosses the wire.
    #[serde(skip)]
    pub refused: Option<StoreError>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raft_ids_are_stable_and_distinct() {
        assert_eq!(raft_id("node-a"), raft_id("node-a"));
        assert_ne!(raft_id("node-a"), raft_id("node-b"));
        assert_ne!(raft_id(""), 0);
        assert_eq!(Peer::new("n", "1.2.3.4:2377").to_string(), "n@1.2.3.4:2377");
    }
}

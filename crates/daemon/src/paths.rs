//! The data root layout.

use std::path::{Path, PathBuf};

/// Paths under a data root.
#[derive(Clone, Debug)]
pub struct Paths {
    root: PathBuf,
}

impl Paths {
    /// Paths under `root`.
    pub fn new(root: &Path) -> Paths {
        Paths {
            root: root.to_path_buf(),
        }
    }
    /// The data root.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// Everything that belongs to the swarm membership (wiped on leave).
    pub fn swarm(&self) -> PathBuf {
        self.root.join("swarm")
    }
    /// Node certificates.
    pub fn certificates(&self) -> PathBuf {
        self.swarm().join("certificates")
    }
    /// The manager's Raft log, vote and snapshots (the cluster store).
    pub fn raft(&self) -> PathBuf {
        self.swarm().join("raft")
    }
    /// The node's swarm config (addresses).
    pub fn state_file(&self) -> PathBuf {
        self.swarm().join("state.json")
    }
    /// Where the data plane pins network namespaces.
    pub fn netns(&self) -> PathBuf {
        self.root.join("netns")
    }
    /// The data plane's per-task files (resolv.conf).
    pub fn net_state(&self) -> PathBuf {
        self.root.join("tasks").join("net")
    }
    /// Task output.
    pub fn logs(&self) -> PathBuf {
        self.root.join("tasks").join("logs")
    }
}

//! The data plane's errors.

use std::path::PathBuf;

use rswarm_types::{Ipv4Cidr, StaleDelta};
use thiserror::Error;

/// Why a data-plane operation failed.
#[derive(Debug, Error)]
pub enum NetError {
    /// The network is not (or no longer) in the node's network map.
    #[error("network {0} is not in the network map")]
    UnknownNetwork(String),
    /// The map has no endpoint of the task on that network.
    #[error("task {task} has no endpoint on network {network} in the network map")]
    NoEndpoint { task: String, network: String },
    /// A task ID that cannot name a file.
    #[error("invalid task id {0:?}")]
    InvalidTaskId(String),
    /// A delta for another map version: the agent must ask for a snapshot.
    #[error(transparent)]
    StaleDelta(#[from] StaleDelta),
    /// No free address left in the node's egress pool.
    #[error("egress address pool {0} is exhausted")]
    EgressExhausted(Ipv4Cidr),
    /// A netlink request failed.
    #[error("netlink: {op}: {source}")]
    Netlink {
        op: String,
        #[source]
        source: rtnetlink::Error,
    },
    /// A system call failed.
    #[error("{op}: {source}")]
    Sys {
        op: String,
        #[source]
        source: nix::Error,
    },
    /// File or socket I/O failed.
    #[error("{op}: {source}")]
    Io {
        op: String,
        #[source]
        source: std::io::Error,
    },
    /// `nft` refused a ruleset.
    #[error("nft in {netns}: {stderr}")]
    Nft { netns: String, stderr: String },
    /// A link the data plane made is missing.
    #[error("link {name} not found in {netns}")]
    NoLink { name: String, netns: String },
    /// The helper thread that enters a namespace died.
    #[error("namespace helper thread for {0} died")]
    Thread(PathBuf),

    #[error("the encrypted networks' key (generation {0}) is not two 32-byte hex keys")]
    BadKey(u64),
}

impl NetError {
    pub(crate) fn io(op: impl Into<String>) -> impl FnOnce(std::io::Error) -> NetError {
        let op = op.into();
        move |source| NetError::Io { op, source }
    }

    pub(crate) fn sys(op: impl Into<String>) -> impl FnOnce(nix::Error) -> NetError {
        let op = op.into();
        move |source| NetError::Sys { op, source }
    }

    pub(crate) fn nl(op: impl Into<String>) -> impl FnOnce(rtnetlink::Error) -> NetError {
        let op = op.into();
        move |source| NetError::Netlink { op, source }
    }
}

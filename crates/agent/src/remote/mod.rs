//! A worker's side of the network: joining a swarm through a manager's
//! CA, and the agent's dispatcher session over mutual TLS.
//!
//! ```text
//! join(addr, token)                                  RemoteDispatcherClient
//!   1 CA.GetRootCACertificate  (TLS, unverified)       Session / Heartbeat /
//!   2 digest(root) == token digest?                    Assignments / UpdateTaskStatus /
//!                                                      NetworkMaps
//!   3 NodeCA.IssueNodeCertificate (TLS, root-verified, (mTLS with the node
//!     no client cert) -> NodeIdentity                   certificate)
//!                                                      LogBroker.ListenSubscriptions /
//!                                                      PublishLogs (with_logs)
//! ```
//!
//! Assignments arrive as a COMPLETE set then chained INCREMENTAL changes;
//! the `assignments` module rebuilds full sets from them (restarting the stream on
//! a gap), so the agent only ever sees full sets.
//!
//! `renew` trades a new CSR for a certificate in the node's recorded role,
//! over mTLS with the current one (promote, demote); the Session stream
//! publishes that role (`RemoteDispatcherClient::with_role_sender`).
//!
//! What it does not do: save the identity (the caller does, with
//! `NodeIdentity::save`), join the managers' Raft group, or retry
//! sessions (the agent's session loop backs off and calls again).

mod assignments;
mod client;
mod join;
mod logs;
mod renew;

use std::time::Duration;

pub use client::RemoteDispatcherClient;
pub use join::{FETCH_ATTEMPTS, FETCH_RETRY_DELAY, JoinError, join};
pub use renew::renew;

/// Limit on each RPC (and on the first message of a stream): Swarm's 5 s.
pub const RPC_TIMEOUT: Duration = Duration::from_secs(5);

/// A status as one line: its message and the causes tonic hides behind
/// "transport error".
pub(crate) fn describe(status: &tonic::Status) -> String {
    let mut out = if status.message().is_empty() {
        status.code().description().to_string()
    } else {
        status.message().to_string()
    };
    if let Some(source) = std::error::Error::source(status) {
        out.push_str(": ");
        out.push_str(&rswarm_tls::error_chain(source));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_shows_message_or_code() {
        assert_eq!(
            describe(&tonic::Status::permission_denied("node x is not a member")),
            "node x is not a member"
        );
        assert_eq!(
            describe(&tonic::Status::new(tonic::Code::Unavailable, "")),
            tonic::Code::Unavailable.description()
        );
    }
}

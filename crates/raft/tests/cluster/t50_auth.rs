//! The Raft service answers only manager certificates of its cluster.

use rswarm_proto::raft::raft_client::RaftClient;
use rswarm_proto::raft::{JoinRequest, RaftMessage};
use rswarm_raft::RaftTiming;
use rswarm_tls::NodeIdentity;
use rswarm_types::NodeRole;
use tonic::Code;

use crate::harness::{Ca, TestNode};

/// A Vote request as a candidate of term 1 would send it.
fn vote() -> RaftMessage {
    let req = openraft::raft::VoteRequest::<u64>::new(openraft::Vote::new(1, 7), None);
    RaftMessage {
        payload: serde_json::to_vec(&req).expect("json"),
    }
}

async fn call_vote(addr: &str, identity: &NodeIdentity) -> Result<(), (Code, String)> {
    let config = rswarm_tls::client_config(identity).expect("client TLS");
    let channel = rswarm_tls::connect(addr, config)
        .await
        .map_err(|e| (Code::Unavailable, e.to_string()))?;
    RaftClient::new(channel)
        .vote(vote())
        .await
        .map(|_| ())
        .map_err(|s| (s.code(), s.message().to_string()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_managers_of_this_cluster_may_speak_raft() {
    let root = tempfile::tempdir().expect("tmp");
    let ca = Ca::new();
    let n1 = TestNode::new(&root, ca.manager(), RaftTiming::default()).await;
    n1.node.initialize().await.expect("initialize");
    let addr = n1.addr();

    // A manager of the cluster gets an answer.
    call_vote(&addr, &ca.manager())
        .await
        .expect("manager answered");

    // A worker of the same cluster is refused.
    let worker = ca.identity_for(&rswarm_rt::new_id(), NodeRole::Worker, &ca.cluster_id);
    let (code, msg) = call_vote(&addr, &worker).await.expect_err("worker refused");
    assert_eq!(code, Code::PermissionDenied);
    assert!(
        msg.contains("unauthorized peer role: swarm-worker"),
        "{msg}"
    );

    // A manager certificate naming another cluster, same root.
    let stranger = ca.identity_for(&rswarm_rt::new_id(), NodeRole::Manager, "other-cluster");
    let (code, msg) = call_vote(&addr, &stranger)
        .await
        .expect_err("other cluster refused");
    assert_eq!(code, Code::PermissionDenied);
    assert_eq!(msg, "certificate is not from this cluster");

    // A manager of another cluster's CA fails the TLS handshake.
    let other = Ca::new();
    let err = call_vote(&addr, &other.manager())
        .await
        .expect_err("other CA refused");
    assert_ne!(err.0, Code::Ok);

    // Joining with a worker certificate is refused and changes nothing.
    let config = rswarm_tls::client_config(&worker).expect("tls");
    let channel = rswarm_tls::connect(&addr, config).await.expect("connect");
    let status = RaftClient::new(channel)
        .join(JoinRequest {
            addr: "127.0.0.1:1".into(),
        })
        .await
        .expect_err("worker join refused");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(n1.node.members().len(), 1, "nobody was added");
    n1.stop().await;
}

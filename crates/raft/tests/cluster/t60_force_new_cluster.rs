//! Disaster recovery: with every other manager gone for good,
//! force-new-cluster on a survivor keeps the data and accepts writes
//! alone, also after a restart.

use rswarm_raft::RaftTiming;

use crate::harness::{Ca, TestNode, converged, create, leader_of, service, state, three};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_survivor_becomes_a_one_manager_cluster_with_all_its_data() {
    let root = tempfile::tempdir().expect("tmp");
    let ca = Ca::new();
    let nodes = three(&root, &ca, RaftTiming::default()).await;
    let refs: Vec<_> = nodes.iter().collect();
    let l = leader_of(&refs).await;
    for i in 0..10 {
        create(
            &nodes[l].store(),
            service(&format!("s{i}"), &format!("web{i}")),
        )
        .await
        .expect("write");
    }
    let (before, _) = converged(&nodes.iter().map(|n| n.store()).collect::<Vec<_>>()).await;
    let mut seats = Vec::new();
    for n in nodes {
        seats.push(n.stop().await);
    }

    // Only one survivor comes back, with --force-new-cluster.
    let survivor = TestNode::restart(seats.remove(1), true).await;
    let l = leader_of(&[&survivor]).await;
    assert_eq!(l, 0);
    let members = survivor.node.members();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].node_id, survivor.id());
    assert_eq!(state(&survivor.store()).0, before, "every object kept");
    create(&survivor.store(), service("alone", "alone"))
        .await
        .expect("writes alone");

    // It stays a one-manager cluster across a normal restart.
    let seat = survivor.stop().await;
    let survivor = TestNode::restart(seat, false).await;
    leader_of(&[&survivor]).await;
    assert_eq!(state(&survivor.store()).0.len(), 11);
    create(&survivor.store(), service("again", "again"))
        .await
        .expect("writes after restart");
    survivor.stop().await;
}

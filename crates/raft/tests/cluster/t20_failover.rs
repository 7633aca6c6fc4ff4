//! Kill the leader: a new one is elected and accepts writes; the old one
//! restarts from its redb files and catches up.

use rswarm_raft::RaftTiming;

use crate::harness::{Ca, TestNode, converged, create, eventually, leader_of, service, three};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_leader_takes_over_and_the_old_one_catches_up() {
    let root = tempfile::tempdir().expect("tmp");
    let ca = Ca::new();
    let mut nodes = three(&root, &ca, RaftTiming::default()).await;
    let refs: Vec<_> = nodes.iter().collect();
    let l = leader_of(&refs).await;
    for i in 0..5 {
        create(
            &nodes[l].store(),
            service(&format!("before{i}"), &format!("b{i}")),
        )
        .await
        .expect("write");
    }
    converged(&nodes.iter().map(|n| n.store()).collect::<Vec<_>>()).await;

    // Kill the leader.
    let old = nodes.remove(l);
    let old_id = old.id().to_string();
    let seat = old.stop().await;

    let refs: Vec<_> = nodes.iter().collect();
    let l = leader_of(&refs).await;
    assert_ne!(nodes[l].id(), old_id);
    let members = nodes[l].node.members();
    eventually("the new leader sees the old one unreachable", || {
        nodes[l]
            .node
            .members()
            .iter()
            .any(|m| {
                m.node_id == old_id && m.reachability == rswarm_raft::Reachability::Unreachable
            })
            .then_some(())
    })
    .await;
    assert_eq!(members.len(), 3, "the old leader is still a member");
    for i in 0..5 {
        create(
            &nodes[l].store(),
            service(&format!("after{i}"), &format!("a{i}")),
        )
        .await
        .expect("the new leader accepts writes");
    }
    // With one of three down, removing another would lose quorum.
    let other = nodes[(l + 1) % 2].id().to_string();
    assert_eq!(
        nodes[l].node.can_remove(&other),
        Err(rswarm_raft::RaftNodeError::WouldLoseQuorum)
    );
    assert_eq!(nodes[l].node.can_remove(&old_id), Ok(()));

    // The old leader restarts from its files and catches up as a follower.
    let back = TestNode::restart(seat, false).await;
    assert!(
        back.store().view(|t| t.service("before4").is_some()),
        "its own files hold what it had"
    );
    nodes.push(back);
    let (objects, _) = converged(&nodes.iter().map(|n| n.store()).collect::<Vec<_>>()).await;
    assert_eq!(objects.len(), 10);
    let refs: Vec<_> = nodes.iter().collect();
    let l = leader_of(&refs).await;
    assert_ne!(nodes[l].id(), old_id, "it came back as a follower");
    create(&nodes[l].store(), service("last", "last"))
        .await
        .expect("write with all three");
    converged(&nodes.iter().map(|n| n.store()).collect::<Vec<_>>()).await;

    for n in nodes {
        n.stop().await;
    }
}

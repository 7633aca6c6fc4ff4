//! A leader cut off from its majority refuses writes with Swarm's quorum
//! error, stops calling itself leader, and never applies a write it did
//! not acknowledge; the cluster resumes when the others return.

use std::time::Duration;

use rswarm_raft::RaftTiming;
use rswarm_store::{Event, NO_LEADER, StoreError};

use crate::harness::{Ca, TestNode, converged, create, leader_of, service, three};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minority_refuses_writes_and_never_applies_them() {
    let root = tempfile::tempdir().expect("tmp");
    let ca = Ca::new();
    let mut nodes = three(&root, &ca, RaftTiming::default()).await;
    let refs: Vec<_> = nodes.iter().collect();
    let l = leader_of(&refs).await;
    create(&nodes[l].store(), service("kept", "kept"))
        .await
        .expect("write with a quorum");
    converged(&nodes.iter().map(|n| n.store()).collect::<Vec<_>>()).await;

    // Stop both followers: the leader is alone, a minority.
    let lonely = nodes.remove(l);
    let mut seats = Vec::new();
    for n in nodes {
        seats.push(n.stop().await);
    }
    let mut commits = lonely.store().watch();
    let mut leadership = lonely.node.leadership();

    // Every write fails with the quorum error: the leader cannot confirm
    // its quorum, so it never even appends the entry.
    for i in 0..5 {
        let err = create(
            &lonely.store(),
            service(&format!("lost{i}"), &format!("l{i}")),
        )
        .await
        .expect_err("a minority must refuse writes");
        assert_eq!(err, StoreError::NoLeader);
        assert_eq!(err.to_string(), NO_LEADER);
    }

    // The leadership watch says it no longer leads (leader loops stop).
    tokio::time::timeout(
        Duration::from_secs(30),
        leadership.wait_for(|l| !l.is_leader),
    )
    .await
    .expect("leadership lost in time")
    .expect("watch open");

    // The others return; whoever leads, nothing refused was applied.
    let mut nodes = vec![lonely];
    for seat in seats {
        nodes.push(TestNode::restart(seat, false).await);
    }
    let refs: Vec<_> = nodes.iter().collect();
    let l = leader_of(&refs).await;
    create(&nodes[l].store(), service("resumed", "resumed"))
        .await
        .expect("the cluster resumes");
    let (objects, _) = converged(&nodes.iter().map(|n| n.store()).collect::<Vec<_>>()).await;
    let ids: Vec<&str> = objects.iter().map(|o| o.id()).collect();
    assert_eq!(ids, vec!["kept", "resumed"]);
    // The ex-minority's store never published a refused write.
    while let Ok(commit) = commits.try_recv() {
        for e in &commit.events {
            if let Event::Created(o) = e {
                assert!(!o.id().starts_with("lost"), "applied {}", o.id());
            }
        }
    }

    for n in nodes {
        n.stop().await;
    }
}

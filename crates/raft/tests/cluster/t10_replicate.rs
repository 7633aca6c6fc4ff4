//! Three managers elect one leader; writes through the leader's store
//! appear on every follower's store with identical tables and versions.

use rswarm_raft::{RaftTiming, Reachability};
use rswarm_store::{Kind, Object, StoreError};

use crate::harness::{Ca, converged, create, leader_of, service, three};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_managers_elect_a_leader_and_replicate_every_write() {
    let root = tempfile::tempdir().expect("tmp");
    let ca = Ca::new();
    let nodes = three(&root, &ca, RaftTiming::default()).await;
    let refs: Vec<_> = nodes.iter().collect();
    let l = leader_of(&refs).await;
    let leader = &nodes[l];
    let follower = &nodes[(l + 1) % 3];

    // The leader sees every manager reachable; a follower sees its leader.
    let members = leader.node.members();
    assert_eq!(members.len(), 3);
    assert!(members.iter().all(|m| m.voter));
    assert!(
        members
            .iter()
            .all(|m| m.reachability == Reachability::Reachable),
        "{members:?}"
    );
    assert!(members.iter().any(|m| m.leader && m.node_id == leader.id()));
    assert_eq!(leader.node.can_remove(follower.id()), Ok(()));

    // Writes on the leader.
    for i in 0..20 {
        create(
            &leader.store(),
            service(&format!("s{i}"), &format!("web{i}")),
        )
        .await
        .expect("write on the leader");
    }
    let (objects, index) = converged(&nodes.iter().map(|n| n.store()).collect::<Vec<_>>()).await;
    assert_eq!(objects.len(), 20);
    // Versions are log indexes: increasing with the writes, the last one
    // the store index, the same on every node (converged compared them).
    let mut versions: Vec<u64> = (0..20)
        .map(|i| {
            follower
                .store()
                .view(|t| t.service(&format!("s{i}")).map(|s| s.meta.version.index))
                .expect("replicated")
        })
        .collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
    assert_eq!(versions.pop(), Some(index));

    // A follower refuses writes and names the leader.
    let err = create(&follower.store(), service("x", "x"))
        .await
        .expect_err("follower write");
    assert_eq!(
        err,
        StoreError::NotLeader {
            leader_id: leader.id().to_string(),
            leader_addr: leader.addr(),
        }
    );

    // Optimistic versions hold across the cluster: a stale update fails,
    // a fresh one passes and is seen everywhere with its new version.
    let stale = follower
        .store()
        .view(|t| t.service("s3").cloned())
        .expect("s3");
    let mut fresh = stale.clone();
    fresh.spec.labels.insert("v".into(), "2".into());
    leader
        .store()
        .update(|tx| tx.update(Object::Service(fresh)))
        .await
        .expect("fresh update");
    let err = leader
        .store()
        .update(|tx| tx.update(Object::Service(stale)))
        .await
        .expect_err("stale update");
    assert_eq!(err, StoreError::SequenceConflict);
    let (objects, index) = converged(&nodes.iter().map(|n| n.store()).collect::<Vec<_>>()).await;
    assert_eq!(objects.len(), 20);
    let s3 = follower
        .store()
        .view(|t| t.service("s3").cloned())
        .expect("s3");
    assert_eq!(s3.spec.labels.get("v").map(String::as_str), Some("2"));
    assert_eq!(s3.meta.version.index, index);
    assert_eq!(follower.store().view(|t| t.count(Kind::Service)), 20);

    for n in nodes {
        n.stop().await;
    }
}

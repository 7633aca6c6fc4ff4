//! Backup and restore: a copy taken on a follower while the leader keeps
//! writing is a committed prefix; restored into a new directory it starts
//! a one-manager cluster with that state, whose new writes get higher
//! indexes than anything restored.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rswarm_raft::{Backup, RaftTiming};
use rswarm_store::Object;
use rswarm_types::Cluster;

use crate::harness::{
    Ca, Seat, TestNode, converged, create, eventually, leader_of, service, state, three,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_backup_under_writes_restores_into_a_new_cluster() {
    let root = tempfile::tempdir().expect("tmp");
    let ca = Ca::new();
    let nodes = three(&root, &ca, RaftTiming::default()).await;
    let refs: Vec<_> = nodes.iter().collect();
    let l = leader_of(&refs).await;
    let cluster = Cluster {
        id: ca.cluster_id.clone(),
        ..Default::default()
    };
    create(&nodes[l].store(), Object::Cluster(cluster))
        .await
        .expect("cluster object");
    let follower = (l + 1) % 3;

    // A writer keeps going while the follower takes the backup.
    let leader_store = nodes[l].store();
    let acked = Arc::new(AtomicUsize::new(0));
    let writer = {
        let acked = acked.clone();
        tokio::spawn(async move {
            for i in 0..40 {
                create(&leader_store, service(&format!("s{i}"), &format!("web{i}")))
                    .await
                    .expect("write");
                acked.store(i + 1, Ordering::SeqCst);
            }
        })
    };
    eventually("a few writes", || {
        (acked.load(Ordering::SeqCst) >= 5).then_some(())
    })
    .await;
    let before = acked.load(Ordering::SeqCst);
    let backup = nodes[follower]
        .node
        .backup(chrono::Utc::now())
        .await
        .expect("backup");
    writer.await.expect("writer");
    let bytes = backup.encode().expect("encode");
    let decoded = Backup::decode(&bytes).expect("decode");
    let restored_objects: Vec<Object> = decoded.tables.objects().collect();
    assert!(
        restored_objects
            .iter()
            .any(|o| matches!(o, Object::Cluster(_))),
        "the cluster object is in"
    );
    // A prefix: every service in it is one the writer made, in order.
    let services = decoded
        .tables
        .services()
        .map(|s| s.id.clone())
        .collect::<Vec<_>>();
    for i in 0..services.len() {
        assert!(
            services.contains(&format!("s{i}")),
            "a prefix: {services:?}"
        );
    }
    assert!(
        services.len() >= before,
        "every write acknowledged before the backup is in: {before} > {services:?}"
    );
    converged(&nodes.iter().map(|n| n.store()).collect::<Vec<_>>()).await;
    let source = nodes[follower].seat.clone();
    for n in nodes {
        n.stop().await;
    }

    // Every data directory is gone; restore into a new one.
    let fresh = tempfile::tempdir().expect("tmp");
    let seat = Seat {
        dir: fresh.path().join("swarm/raft"),
        ..source
    };
    decoded
        .restore_into(&seat.dir, &decoded.source)
        .expect("restore");
    let restored = TestNode::restart(seat, false).await;
    leader_of(&[&restored]).await;
    assert_eq!(state(&restored.store()).0, restored_objects);
    let members = restored.node.members();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].node_id, decoded.source.node_id);
    create(&restored.store(), service("after", "after"))
        .await
        .expect("writes after a restore");
    let after = restored
        .store()
        .view(|t| t.service("after").map(|s| s.meta.version.index));
    assert!(
        after.is_some_and(|i| i > decoded.store_index),
        "new writes are indexed above the restored state: {after:?} vs {}",
        decoded.store_index
    );
    restored.stop().await;
}

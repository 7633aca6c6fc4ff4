//! Compaction follows the swarm spec while the managers run: with
//! Swarm's default interval nothing is compacted after a few dozen
//! writes; `Raft.SnapshotInterval` lowered in the cluster object (as
//! `swarm update --snapshot-interval` does) makes every manager take a
//! snapshot and purge its log but for `Raft.LogEntriesForSlowFollowers`
//! entries, without a restart; a manager joining afterwards catches up
//! from the snapshot.

use rswarm_raft::RaftTiming;
use rswarm_store::{Object, Store};
use rswarm_types::Cluster;

use crate::harness::{Ca, TestNode, converged, create, eventually, leader_of, service, three};

const KEEP: u64 = 5;

async fn set_snapshot_interval(store: &Store, interval: u64) {
    store
        .update(|tx| {
            let mut c = tx.cluster().expect("cluster object");
            c.spec.raft.snapshot_interval = interval;
            c.spec.raft.log_entries_for_slow_followers = KEEP;
            tx.update(Object::Cluster(c))
        })
        .await
        .expect("swarm update");
}

async fn writes(store: &Store, from: usize, n: usize) {
    for i in from..from + n {
        create(store, service(&format!("s{i}"), &format!("web{i}")))
            .await
            .expect("write");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_interval_changes_apply_on_every_manager_without_restart() {
    let root = tempfile::tempdir().expect("tmp");
    let ca = Ca::new();
    let nodes = three(&root, &ca, RaftTiming::default()).await;
    let refs: Vec<_> = nodes.iter().collect();
    let leader = nodes[leader_of(&refs).await].store();
    let mut cluster = Cluster {
        id: "cluster".into(),
        ..Default::default()
    };
    cluster.spec.fill_defaults();
    create(&leader, Object::Cluster(cluster))
        .await
        .expect("cluster object");
    writes(&leader, 0, 40).await;
    converged(&nodes.iter().map(TestNode::store).collect::<Vec<_>>()).await;
    for n in &nodes {
        let m = n.node.raft().metrics().borrow().clone();
        assert_eq!(m.snapshot, None, "10000 entries not reached on {}", n.id());
        assert_eq!(m.purged, None);
    }

    set_snapshot_interval(&leader, 20).await;
    let set_at = leader.index();
    writes(&leader, 40, 25).await;
    for n in &nodes {
        let (snapshot, purged) = eventually("a snapshot and a purged log everywhere", || {
            let m = n.node.raft().metrics().borrow().clone();
            let (s, p) = (m.snapshot?, m.purged?);
            (p.index + KEEP == s.index).then_some((s.index, p.index))
        })
        .await;
        assert!(
            snapshot >= set_at,
            "{snapshot} taken after the change ({set_at})"
        );
        assert!(purged > 0);
    }

    // A new manager: the start of the log is gone, so only the snapshot
    // can bring it up to date.
    let n4 = TestNode::new(&root, ca.manager(), RaftTiming::default()).await;
    n4.node.join(&nodes[0].addr()).await.expect("join");
    let installed = eventually("the newcomer installed a snapshot", || {
        n4.node.raft().metrics().borrow().snapshot
    })
    .await;
    assert!(installed.index > 0);
    let mut stores: Vec<Store> = nodes.iter().map(TestNode::store).collect();
    stores.push(n4.store());
    let (objects, _) = converged(&stores).await;
    assert_eq!(objects.len(), 1 + 65);
    create(&leader, service("after", "after"))
        .await
        .expect("write after the join");
    converged(&stores).await;
    n4.stop().await;
    for n in nodes {
        n.stop().await;
    }
}

//! A manager joining late catches up by snapshot: the log is compacted,
//! the state holds thousands of objects, and the snapshot travels in many
//! chunks.

use rswarm_raft::RaftTiming;
use rswarm_store::Kind;

use crate::harness::{
    Ca, TestNode, converged, create, eventually, eventually_async, leader_of, service, task,
};

const TASKS: usize = 3000;
const CHUNK: u64 = 64 * 1024;

fn compacting() -> RaftTiming {
    RaftTiming {
        snapshot_interval: 20,
        log_entries_for_slow_followers: 0,
        snapshot_chunk_bytes: CHUNK,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_manager_catches_up_by_a_chunked_snapshot() {
    let root = tempfile::tempdir().expect("tmp");
    let ca = Ca::new();
    let n1 = TestNode::new(&root, ca.manager(), compacting()).await;
    n1.node.initialize().await.expect("initialize");
    let store = n1.store();
    create(&store, service("svc", "web"))
        .await
        .expect("service");
    for batch in 0..(TASKS / 100) {
        store
            .update(|tx| {
                for i in 0..100 {
                    tx.create(task(&format!("t{batch:03}-{i:03}"), "svc"))?;
                }
                Ok::<_, rswarm_store::StoreError>(())
            })
            .await
            .expect("batch of tasks");
    }
    for i in 0..30 {
        create(&store, service(&format!("s{i}"), &format!("more{i}")))
            .await
            .expect("service");
    }
    assert_eq!(store.view(|t| t.count(Kind::Task)), TASKS);

    // The log is compacted behind a snapshot of everything written (the
    // policy took some on the way; asking for one more makes the end
    // deterministic; a request while one is being built is ignored, so
    // ask until it is there).
    let last = store.index();
    let raft = n1.node.raft().clone();
    let purged = eventually_async("the whole log is compacted", || {
        let raft = raft.clone();
        async move {
            let m = raft.metrics().borrow().clone();
            let covered = m.snapshot.is_some_and(|s| s.index >= last);
            if !covered {
                raft.trigger().snapshot().await.expect("trigger");
            }
            m.purged.filter(|p| covered && p.index >= last)
        }
    })
    .await;
    let snap = n1
        .node
        .raft()
        .get_snapshot()
        .await
        .expect("snapshot")
        .expect("a snapshot exists");
    let size = snap.snapshot.get_ref().len() as u64;
    assert!(
        size > 5 * CHUNK,
        "snapshot of {size} bytes is several chunks"
    );

    // A new manager joins: the entries it lacks are gone from the log,
    // so it can only catch up from the snapshot.
    let n2 = TestNode::new(&root, ca.manager(), compacting()).await;
    n2.node.join(&n1.addr()).await.expect("join");
    let installed = eventually("the newcomer installed a snapshot", || {
        n2.node.raft().metrics().borrow().snapshot
    })
    .await;
    assert!(installed.index >= purged.index);
    let (objects, _) = converged(&[n1.store(), n2.store()]).await;
    assert_eq!(objects.len(), 1 + TASKS + 30);
    assert_eq!(
        n2.store().view(|t| t.tasks_of_service("svc").count()),
        TASKS
    );

    // Both keep working as a two-voter cluster.
    let nodes = [&n1, &n2];
    let l = leader_of(&nodes).await;
    create(&nodes[l].store(), service("after", "after"))
        .await
        .expect("write after the join");
    converged(&[n1.store(), n2.store()]).await;
    n2.stop().await;
    n1.stop().await;
}

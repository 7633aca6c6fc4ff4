//! Renewal: a node trades a new CSR, over mTLS with its certificate, for a
//! certificate in the role the managers record for it (promote, demote);
//! a node no longer in the store gets nothing.

use rswarm_agent::remote::{JoinError, join, renew};
use rswarm_store::Object;
use rswarm_types::{ControlError, NodeRole};

use crate::harness::Swarm;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewal_follows_the_recorded_role() {
    let swarm = Swarm::start().await;
    let addr = swarm.addr.to_string();
    let worker = join(&addr, &swarm.tokens().worker, None, "")
        .await
        .expect("join");
    assert_eq!(worker.role, NodeRole::Worker);

    // Same role: a fresh certificate, same node.
    let same = renew(std::slice::from_ref(&addr), &worker)
        .await
        .expect("renew");
    assert_eq!(
        (same.node_id.as_str(), same.role),
        (worker.node_id.as_str(), NodeRole::Worker)
    );
    assert_ne!(same.cert_pem, worker.cert_pem);

    // Promoted: the next certificate is a manager's.
    let set_role = |role: NodeRole| {
        let id = worker.node_id.clone();
        swarm.manager.store.update(move |tx| {
            let mut node = tx.node(&id).expect("node");
            node.role = role;
            tx.update(Object::Node(node))?;
            Ok::<_, ControlError>(())
        })
    };
    set_role(NodeRole::Manager).await.expect("promote");
    let manager = renew(&["127.0.0.1:1".to_string(), addr.clone()], &worker)
        .await
        .expect("renew after a dead address");
    assert_eq!(manager.role, NodeRole::Manager);
    assert_eq!(manager.cluster_id, worker.cluster_id);

    // Removed from the swarm: refused, by name.
    swarm
        .manager
        .control
        .remove_node(&worker.node_id, true)
        .await
        .expect("rm");
    let err = renew(std::slice::from_ref(&addr), &manager)
        .await
        .expect_err("removed node");
    assert!(matches!(err, JoinError::Refused(_)), "{err:?}");
    swarm.stop().await;
}

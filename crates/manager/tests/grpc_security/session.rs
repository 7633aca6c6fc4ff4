//! Sessions: a joined worker registers, beats, follows its assignments,
//! reports status, and runs service tasks through the agent.

use std::sync::Arc;
use std::time::Duration;

use rswarm_agent::AgentError;
use rswarm_agent::DispatcherClient;
use rswarm_agent::remote::join;
use rswarm_pki::parse_node_certificate;
use rswarm_rt::{Shutdown, SystemClock};
use rswarm_store::Object;
use rswarm_types::{Availability, NodeDescription, NodeRole, NodeState, TaskState};

use crate::harness::{Swarm, running, task_on, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_joins_and_holds_a_session() {
    let swarm = Swarm::start().await;
    let before = swarm.node_count();
    let identity = join(
        &swarm.addr.to_string(),
        &swarm.tokens().worker,
        None,
        "127.0.0.7",
    )
    .await
    .expect("join");

    // The node object and the certificate.
    assert_eq!(swarm.node_count(), before + 1);
    let node = swarm.node(&identity.node_id);
    assert_eq!(node.role, NodeRole::Worker);
    assert_eq!(node.spec.role, NodeRole::Worker);
    assert_eq!(node.spec.availability, Availability::Active);
    assert_eq!(node.status.state, NodeState::Unknown);
    assert_eq!(node.status.addr, "127.0.0.7");
    let info = parse_node_certificate(&identity.cert_pem).expect("certificate");
    assert_eq!(info.node_id, identity.node_id);
    assert_eq!(info.role, NodeRole::Worker);
    assert_eq!(info.cluster_id, swarm.cluster_id);
    assert!(info.dns_names.contains(&"swarm-worker".to_string()));
    assert_eq!(identity.role, NodeRole::Worker);
    assert_eq!(identity.root_ca_pem, swarm.root.cert_pem());
    swarm
        .root
        .verify(&identity.cert_pem)
        .expect("chains to root");

    // A session over mTLS.
    let client = swarm.client(identity.clone());
    let period = client
        .register(NodeDescription {
            hostname: "worker-1".into(),
            ..Default::default()
        })
        .await
        .expect("register");
    assert_eq!(period, swarm.manager.dispatcher.heartbeat_period());
    let node = swarm.node(&identity.node_id);
    assert_eq!(node.status.state, NodeState::Ready);
    assert_eq!(node.description.hostname, "worker-1");
    assert_eq!(client.managers(), vec![swarm.addr.to_string()]);
    assert_eq!(client.heartbeat().await.expect("heartbeat"), period);

    let mut sets = client.assignments().await.expect("assignments");
    let first = tokio::time::timeout(Duration::from_secs(5), sets.recv())
        .await
        .expect("first set in time")
        .expect("first set");
    assert!(first.is_empty(), "{first:?}");
    let task = task_on(&identity.node_id);
    let task_id = task.id.clone();
    swarm
        .manager
        .store
        .update(|tx| tx.create(Object::Task(task)))
        .await
        .expect("create task");
    let set = tokio::time::timeout(Duration::from_secs(5), sets.recv())
        .await
        .expect("set in time")
        .expect("set");
    assert_eq!(
        set.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        vec![task_id.as_str()]
    );

    client
        .update_task_status(vec![(task_id.clone(), running())])
        .await
        .expect("status");
    let state = swarm
        .manager
        .store
        .view(|t| t.task(&task_id).map(|t| t.status.state));
    assert_eq!(state, Some(TaskState::Running));

    // Another node's task is not this node's to report on.
    let foreign = task_on(&swarm.manager_identity.node_id);
    let foreign_id = foreign.id.clone();
    swarm
        .manager
        .store
        .update(|tx| tx.create(Object::Task(foreign)))
        .await
        .expect("create task");
    let err = client
        .update_task_status(vec![(foreign_id.clone(), running())])
        .await
        .expect_err("foreign task");
    assert!(
        matches!(&err, AgentError::Rejected(m) if m.contains("is not assigned to node")),
        "{err}"
    );
    let state = swarm
        .manager
        .store
        .view(|t| t.task(&foreign_id).map(|t| t.status.state));
    assert_eq!(state, Some(TaskState::Assigned));

    swarm.stop().await;
    // The assignment stream ends with the server.
    wait_for("assignments to close", || {
        sets.try_recv()
            .is_err_and(|e| e == tokio::sync::mpsc::error::TryRecvError::Disconnected)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joined_worker_runs_service_tasks() {
    let swarm = Swarm::start().await;
    // Only the worker may run tasks: the manager here has no agent.
    let manager_id = swarm.manager_identity.node_id.clone();
    let m = swarm.node(&manager_id);
    let mut spec = m.spec.clone();
    spec.availability = Availability::Drain;
    swarm
        .manager
        .control
        .update_node(&manager_id, m.meta.version.index, spec)
        .await
        .expect("drain the manager");
    let loops = tokio::spawn(swarm.manager.clone().run(swarm.shutdown.clone()));

    let identity = swarm.join_worker().await;
    let logs = tempfile::tempdir().expect("tempdir");
    let executor = Arc::new(rswarm_exec::ProcessExecutor::new(
        rswarm_exec::LogStore::new(logs.path()),
        identity.node_id.clone(),
    ));
    let agent = rswarm_agent::Agent::new(
        "worker-1".into(),
        "test".into(),
        executor,
        Arc::new(SystemClock),
    );
    let client: Arc<dyn DispatcherClient> = Arc::new(swarm.client(identity.clone()));
    let agent_shutdown = Shutdown::new();
    let agent_run = tokio::spawn(agent.run(client, agent_shutdown.clone()));

    let mut service = rswarm_types::ServiceSpec {
        name: "sleeper".into(),
        mode: rswarm_types::ServiceMode::replicated(1),
        ..Default::default()
    };
    service.task_template.container_spec = Some(rswarm_types::ContainerSpec {
        image: "busybox".into(),
        args: vec!["sleep".into(), "30".into()],
        ..Default::default()
    });
    let service = swarm
        .manager
        .control
        .create_service(service)
        .await
        .expect("create service");
    let store = swarm.manager.store.clone();
    let worker_id = identity.node_id.clone();
    wait_for("the task runs on the worker", || {
        store.view(|t| {
            t.tasks_of_service(&service.id)
                .any(|t| t.node_id == worker_id && t.status.state == TaskState::Running)
        })
    })
    .await;
    assert_eq!(swarm.node(&worker_id).description.hostname, "worker-1");

    agent_shutdown.trigger();
    agent_run.await.expect("agent stops");
    swarm.shutdown.trigger();
    loops.await.expect("loops stop");
    swarm.stop().await;
}

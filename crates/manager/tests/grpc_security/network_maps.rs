//! Network maps on the wire: a worker's agent with a data plane gets its
//! (empty) map as a snapshot when its session starts, then a delta when a
//! service on an overlay network gets a task on the node, and nothing of
//! networks its tasks do not use.

use std::sync::Arc;

use rswarm_agent::DispatcherClient;
use rswarm_network::{Call, DataPlane, FakeDataPlane};
use rswarm_rt::{Shutdown, SystemClock};
use rswarm_types::{
    Availability, ContainerSpec, NetworkAttachmentConfig, NetworkMap, NetworkSpec, ServiceMode,
    ServiceSpec, TaskState,
};

use crate::harness::{Swarm, wait_for};

/// What the fake has, read synchronously for `wait_for`.
fn map_of(dp: &FakeDataPlane) -> NetworkMap {
    futures_util::FutureExt::now_or_never(dp.current_map()).expect("the fake never waits")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_gets_a_snapshot_then_a_delta_for_the_networks_of_its_tasks() {
    let swarm = Swarm::start().await;
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
    let worker_id = identity.node_id.clone();
    let logs = tempfile::tempdir().expect("tempdir");
    let executor = Arc::new(rswarm_exec::ProcessExecutor::new(
        rswarm_exec::LogStore::new(logs.path()),
        worker_id.clone(),
    ));
    // The task runs for real (a backend is a running task), in the
    // test's own namespace.
    let dp = Arc::new(FakeDataPlane::new().in_host_namespace());
    let agent = rswarm_agent::Agent::new(
        "worker-1".into(),
        "test".into(),
        executor,
        Arc::new(SystemClock),
    )
    .with_data_plane(dp.clone());
    let client: Arc<dyn DispatcherClient> = Arc::new(swarm.client(identity.clone()));
    let agent_shutdown = Shutdown::new();
    let agent_run = tokio::spawn(agent.run(client, agent_shutdown.clone()));

    wait_for("the snapshot", || dp.calls().contains(&Call::Apply(1))).await;
    assert_eq!(
        map_of(&dp),
        NetworkMap {
            version: 1,
            ..NetworkMap::default()
        },
        "no task, no network"
    );

    let network = |name: &str| NetworkSpec {
        name: name.into(),
        ..Default::default()
    };
    let front = swarm
        .manager
        .control
        .create_network(network("front"))
        .await
        .expect("front");
    let unused = swarm
        .manager
        .control
        .create_network(network("unused"))
        .await
        .expect("unused");
    let mut service = ServiceSpec {
        name: "web".into(),
        mode: ServiceMode::replicated(1),
        ..Default::default()
    };
    service.task_template.container_spec = Some(ContainerSpec {
        image: "busybox".into(),
        args: vec!["sleep".into(), "30".into()],
        ..Default::default()
    });
    service.task_template.networks = vec![NetworkAttachmentConfig {
        target: "front".into(),
        ..Default::default()
    }];
    let service = swarm
        .manager
        .control
        .create_service(service)
        .await
        .expect("create service");
    let store = swarm.manager.store.clone();
    wait_for("the task runs on the worker", || {
        store.view(|t| {
            t.tasks_of_service(&service.id)
                .any(|t| t.node_id == worker_id && t.status.state == TaskState::Running)
        })
    })
    .await;
    wait_for("the task's endpoint and backend in the map", || {
        map_of(&dp).networks.get(&front.id).is_some_and(|n| {
            n.endpoints.len() == 1
                && n.services
                    .iter()
                    .any(|s| s.id == service.id && s.backends.len() == 1)
        })
    })
    .await;

    let map = map_of(&dp);
    assert!(map.version > 1, "deltas advanced the version");
    assert_eq!(
        map.networks.keys().collect::<Vec<_>>(),
        vec![&front.id],
        "only the network its tasks use, not {}",
        unused.id
    );
    let net = &map.networks[&front.id];
    assert_eq!(net.name, "front");
    assert_eq!(net.endpoints[0].vtep.to_string(), "127.0.0.1");
    let applied: Vec<Call> = dp
        .calls()
        .into_iter()
        .filter(|c| matches!(c, Call::Apply(_)))
        .collect();
    let expected: Vec<Call> = (1..=map.version).map(Call::Apply).collect();
    assert_eq!(applied, expected, "one snapshot, then deltas in order");

    agent_shutdown.trigger();
    agent_run.await.expect("agent stops");
    swarm.shutdown.trigger();
    loops.await.expect("loops stop");
    swarm.stop().await;
}

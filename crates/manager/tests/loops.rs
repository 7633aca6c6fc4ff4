//! Component test: a real store and the manager's loops, with a scripted
//! agent on the dispatcher that runs whatever it is assigned.

use std::sync::Arc;
use std::time::Duration;

use rswarm_manager::Manager;
use rswarm_manager::dispatcher::TaskStatusUpdate;
use rswarm_rt::{Clock, Shutdown, SystemClock};
use rswarm_store::{MemoryProposer, Store};
use rswarm_types::{
    Cluster, ContainerSpec, ManagerStatus, Node, NodeDescription, NodeRole, NodeSpec, NodeState,
    NodeStatus, ServiceMode, ServiceSpec, TaskState, TaskStatus,
};

fn spec(name: &str, mode: ServiceMode) -> ServiceSpec {
    let mut s = ServiceSpec {
        name: name.into(),
        mode,
        ..Default::default()
    };
    s.task_template.container_spec = Some(ContainerSpec {
        image: "busybox".into(),
        args: vec!["sleep".into(), "1".into()],
        ..Default::default()
    });
    s
}

/// A scripted agent: every assigned task goes to running; tasks whose
/// desired state is beyond running go to shutdown.
fn fake_agent(m: &Manager, node_id: &str, clock: Arc<dyn Clock>, shutdown: Shutdown) {
    let dispatcher = m.dispatcher.clone();
    let node_id = node_id.to_string();
    tokio::spawn(async move {
        dispatcher
            .register(
                &node_id,
                NodeDescription {
                    hostname: "n1".into(),
                    ..Default::default()
                },
                "127.0.0.1",
            )
            .await
            .expect("register");
        let mut rx = dispatcher.assignments(&node_id, shutdown.clone());
        while let Some(set) = rx.recv().await {
            let updates: Vec<_> = set
                .into_iter()
                .filter_map(|t| {
                    let next = if t.desired_state > TaskState::Running {
                        TaskState::Shutdown
                    } else if t.desired_state == TaskState::Running {
                        TaskState::Running
                    } else {
                        return None;
                    };
                    (t.status.state < next).then(|| TaskStatusUpdate {
                        task_id: t.id,
                        status: TaskStatus {
                            timestamp: clock.now(),
                            state: next,
                            message: next.as_str().into(),
                            ..Default::default()
                        },
                    })
                })
                .collect();
            dispatcher
                .update_task_status(&node_id, updates)
                .await
                .expect("status");
            let _ = dispatcher.heartbeat(&node_id);
        }
    });
}

async fn wait_for(store: &Store, what: &str, pred: impl Fn(&rswarm_store::Tables) -> bool) {
    for _ in 0..200 {
        if store.view(&pred) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

fn running(t: &rswarm_store::Tables, service: &str) -> usize {
    t.tasks_of_service(service)
        .filter(|t| t.status.state == TaskState::Running && t.desired_state == TaskState::Running)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_converge_scale_and_drain_through_the_loops() {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = Store::open(Arc::new(MemoryProposer), clock.clone()).expect("store");
    let m = Manager::new(store.clone(), clock.clone());
    let mut cluster = Cluster {
        id: "c1".into(),
        ..Default::default()
    };
    cluster.spec.fill_defaults();
    let node = Node {
        id: "n1".into(),
        spec: NodeSpec {
            role: NodeRole::Manager,
            ..Default::default()
        },
        status: NodeStatus {
            state: NodeState::Ready,
            ..Default::default()
        },
        manager_status: Some(ManagerStatus {
            leader: true,
            ..Default::default()
        }),
        role: NodeRole::Manager,
        ..Default::default()
    };
    m.control.bootstrap(cluster, node).await.expect("bootstrap");
    let shutdown = Shutdown::new();
    let loops = tokio::spawn(m.clone().run(shutdown.clone()));
    fake_agent(&m, "n1", clock.clone(), shutdown.clone());

    let web = m
        .control
        .create_service(spec("web", ServiceMode::replicated(3)))
        .await
        .expect("create");
    wait_for(&store, "3 running", |t| running(t, &web.id) == 3).await;
    store.view(|t| {
        let mut slots: Vec<u64> = t.tasks_of_service(&web.id).map(|t| t.slot).collect();
        slots.sort();
        assert_eq!(slots, vec![1, 2, 3]);
        assert!(t.tasks_of_service(&web.id).all(|t| t.node_id == "n1"));
    });

    let current = store.view(|t| t.service(&web.id).cloned()).expect("web");
    let mut scaled = current.spec.clone();
    scaled.mode = ServiceMode::replicated(1);
    m.control
        .update_service(&web.id, current.meta.version.index, scaled, false)
        .await
        .expect("scale");
    wait_for(&store, "1 running, others removed", |t| {
        running(t, &web.id) == 1 && t.tasks_of_service(&web.id).count() == 1
    })
    .await;

    let global = m
        .control
        .create_service(spec("agent", ServiceMode::global()))
        .await
        .expect("global");
    wait_for(&store, "global task running", |t| {
        running(t, &global.id) == 1
    })
    .await;

    let stale = m
        .control
        .update_service(
            &web.id,
            current.meta.version.index,
            current.spec.clone(),
            false,
        )
        .await;
    assert_eq!(stale, Err(rswarm_types::ControlError::OutOfSequence));

    let n = store.view(|t| t.node("n1").cloned()).expect("node");
    let mut drained = n.spec.clone();
    drained.availability = rswarm_types::Availability::Drain;
    m.control
        .update_node("n1", n.meta.version.index, drained)
        .await
        .expect("drain");
    wait_for(&store, "nothing runs on a drained node", |t| {
        running(t, &web.id) == 0 && running(t, &global.id) == 0
    })
    .await;
    // The scheduler writes the replacement's verdict in its own pass.
    wait_for(&store, "a pending replacement no node takes", |t| {
        t.tasks_of_service(&web.id).any(|t| {
            t.status.state == TaskState::Pending && t.status.err.contains("no suitable node")
        })
    })
    .await;

    m.control.remove_service(&web.id).await.expect("rm");
    wait_for(&store, "tasks of a removed service are reaped", |t| {
        t.tasks_of_service(&web.id).count() == 0
    })
    .await;

    shutdown.trigger();
    loops.await.expect("loops");
}

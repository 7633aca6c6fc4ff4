//! `Control.Forward`: a manager's write runs on the leader it is sent to,
//! with the leader's answer (errors included); workers may not send any;
//! a leader that never answers is given up on once another leads.

use rswarm_manager::control::{ControlOp, ControlReply};
use std::time::Duration;

use rswarm_manager::grpc::Forwarder;
use rswarm_raft::{Leadership, Peer};
use rswarm_types::{ContainerSpec, ControlError, ServiceMode, ServiceSpec};
use tokio::sync::watch;

use crate::harness::Swarm;

fn spec(name: &str) -> ServiceSpec {
    let mut s = ServiceSpec {
        name: name.into(),
        mode: ServiceMode::replicated(1),
        ..Default::default()
    };
    s.task_template.container_spec = Some(ContainerSpec {
        image: "busybox".into(),
        args: vec!["sleep".into(), "100".into()],
        ..Default::default()
    });
    s
}

/// A follower's view naming `leader` as the leader.
fn led_by(leader: &Peer) -> (watch::Sender<Leadership>, watch::Receiver<Leadership>) {
    watch::channel(Leadership {
        is_leader: false,
        leader: Some(leader.clone()),
        term: 1,
    })
}

#[tokio::test]
async fn a_managers_write_runs_on_the_leader_and_workers_are_refused() {
    let swarm = Swarm::start().await;
    let leader = Peer::new("leader", swarm.addr.to_string());
    let (_view, leadership) = led_by(&leader);
    let manager = Forwarder::new(&swarm.manager_identity).expect("forwarder");

    let reply = manager
        .forward(
            &leader,
            &ControlOp::CreateService(spec("web")),
            leadership.clone(),
        )
        .await
        .expect("created on the leader");
    let ControlReply::Service(service) = reply else {
        panic!("expected the created service, got {reply:?}");
    };
    assert_eq!(service.spec.name, "web");
    assert!(
        swarm
            .manager
            .store
            .view(|t| t.service(&service.id).is_some()),
        "stored by the leader"
    );

    let err = manager
        .forward(
            &leader,
            &ControlOp::CreateService(spec("WEB")),
            leadership.clone(),
        )
        .await
        .expect_err("name taken");
    assert!(
        matches!(err, ControlError::NameConflict { kind: "service", ref name } if name == "WEB"),
        "the leader's error comes back as it was: {err:?}"
    );

    let worker = swarm.join_worker().await;
    let err = Forwarder::new(&worker)
        .expect("forwarder")
        .forward(
            &leader,
            &ControlOp::RemoveService {
                id: service.id.clone(),
            },
            leadership,
        )
        .await
        .expect_err("workers may not write");
    assert!(
        err.to_string().contains("PermissionDenied") || err.to_string().contains("permission"),
        "{err}"
    );
    assert!(
        swarm
            .manager
            .store
            .view(|t| t.service(&service.id).is_some()),
        "nothing removed"
    );
    swarm.stop().await;
}

#[tokio::test]
async fn a_forward_to_a_silent_leader_ends_when_another_leads() {
    let swarm = Swarm::start().await;
    // Accepts connections and never answers, like a frozen process.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let leader = Peer::new("frozen", silent.local_addr().expect("addr").to_string());
    let held = tokio::spawn(async move {
        let mut conns = Vec::new();
        while let Ok((c, _)) = silent.accept().await {
            conns.push(c);
        }
    });
    let (view, leadership) = led_by(&leader);
    let manager = Forwarder::new(&swarm.manager_identity).expect("forwarder");
    let elected = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        view.send_modify(|l| {
            l.leader = None;
            l.term = 2;
        });
        view
    });
    let err = manager
        .forward(&leader, &ControlOp::CreateService(spec("web")), leadership)
        .await
        .expect_err("no answer");
    assert!(
        matches!(&err, ControlError::Unavailable(m) if m.contains("lost the leadership") && m.contains("may or may not have been applied")),
        "{err:?}"
    );
    drop(elected.await);
    held.abort();
    swarm.stop().await;
}

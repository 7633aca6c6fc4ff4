//! `Control.Forward`: a manager's write runs on the leader it is sent to,
//! with the leader's answer (errors included); workers may not send any.

use rswarm_manager::control::{ControlOp, ControlReply};
use rswarm_manager::grpc::Forwarder;
use rswarm_types::{ContainerSpec, ControlError, ServiceMode, ServiceSpec};

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

#[tokio::test]
async fn a_managers_write_runs_on_the_leader_and_workers_are_refused() {
    let swarm = Swarm::start().await;
    let addr = swarm.addr.to_string();
    let manager = Forwarder::new(&swarm.manager_identity).expect("forwarder");

    let reply = manager
        .forward(&addr, &ControlOp::CreateService(spec("web")))
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
        .forward(&addr, &ControlOp::CreateService(spec("WEB")))
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
            &addr,
            &ControlOp::RemoveService {
                id: service.id.clone(),
            },
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

use rswarm_types::{ServiceMode, ServiceSpec, TaskState, UpdateConfig, UpdateStatus};

use crate::sim::{Sim, at, secs};

fn service(replicas: u64, cfg: UpdateConfig) -> (Sim, String) {
    let mut sim = Sim::new();
    for n in ["a", "b", "c"] {
        sim.add_node(n);
    }
    let web = sim.create_service("web", ServiceMode::replicated(replicas), |s| {
        s.update_config = Some(cfg)
    });
    sim.settle();
    (sim, web)
}

fn set_image(img: &str) -> impl FnOnce(&mut ServiceSpec) {
    let img = img.to_string();
    move |s: &mut ServiceSpec| {
        s.task_template
            .container_spec
            .as_mut()
            .expect("container")
            .image = img
    }
}

fn images(sim: &Sim, svc: &str) -> Vec<String> {
    let mut v: Vec<String> = sim
        .running(svc)
        .iter()
        .map(|t| Sim::image(t).to_string())
        .collect();
    v.sort();
    v
}

fn status(sim: &Sim, svc: &str) -> UpdateStatus {
    sim.service(svc)
        .update_status
        .clone()
        .expect("update status")
}

#[test]
fn stop_first_one_slot_at_a_time() {
    let (mut sim, web) = service(
        3,
        UpdateConfig {
            parallelism: 1,
            ..Default::default()
        },
    );
    assert_eq!(sim.update_state(&web), None, "no UpdateStatus on create");
    sim.update_service(&web, set_image("img:v2"));
    let mut order = Vec::new();
    for round in 0.. {
        assert!(round < 100, "no convergence");
        let plan = sim.step();
        order.extend(plan.create_tasks.iter().map(|t| t.slot));
        for slot in 1..=3 {
            let tasks = sim.in_slot(&web, slot);
            let live = tasks
                .iter()
                .filter(|t| t.status.state == TaskState::Running)
                .count();
            assert!(live <= 1, "stop-first never runs two tasks in slot {slot}");
        }
        let changing = (1..=3)
            .filter(|&s| {
                sim.in_slot(&web, s).iter().any(|t| {
                    Sim::image(t) == "img:v2"
                        && t.desired_state <= TaskState::Running
                        && t.status.state < TaskState::Running
                })
            })
            .count();
        assert!(changing <= 1, "parallelism 1");
        if round == 0 {
            let st = status(&sim, &web);
            assert_eq!(
                (st.state.as_str(), st.message.as_str()),
                ("updating", "update in progress")
            );
            assert_eq!(st.started_at, Some(at(0)));
        }
        if !sim.agents() && plan.is_empty() {
            break;
        }
    }
    assert_eq!(order, [1, 2, 3]);
    assert_eq!(images(&sim, &web), ["img:v2"; 3]);
    assert_eq!(
        sim.update_state(&web).as_deref(),
        Some("updating"),
        "monitoring"
    );
    assert_eq!(sim.wakeup(), Some(at(5)));
    sim.run_for(5);
    let st = status(&sim, &web);
    assert_eq!(
        (st.state.as_str(), st.message.as_str()),
        ("completed", "update completed")
    );
    assert_eq!(st.completed_at, Some(at(5)));
    assert_eq!(sim.wakeup(), None);
}

#[test]
fn start_first_keeps_capacity() {
    let cfg = UpdateConfig {
        parallelism: 1,
        order: "start-first".into(),
        ..Default::default()
    };
    let (mut sim, web) = service(2, cfg);
    sim.update_service(&web, set_image("img:v2"));
    for round in 0.. {
        assert!(round < 100, "no convergence");
        let plan = sim.step();
        let up = sim
            .tasks_of(&web)
            .iter()
            .filter(|t| t.status.state == TaskState::Running)
            .count();
        assert!(
            up >= 2,
            "start-first never drops below the replica count (round {round})"
        );
        if !sim.agents() && plan.is_empty() {
            break;
        }
    }
    assert_eq!(images(&sim, &web), ["img:v2"; 2]);
}

#[test]
fn delay_between_slots_and_monitor() {
    let cfg = UpdateConfig {
        parallelism: 1,
        delay: Some(secs(10)),
        ..Default::default()
    };
    let (mut sim, web) = service(2, cfg);
    sim.update_service(&web, set_image("img:v2"));
    sim.settle();
    assert_eq!(images(&sim, &web), ["img:v1", "img:v2"]);
    assert_eq!(sim.wakeup(), Some(at(10)));
    sim.run_for(10);
    assert_eq!(images(&sim, &web), ["img:v2", "img:v2"]);
    assert_eq!(sim.update_state(&web).as_deref(), Some("updating"));
    // Monitoring period: Delay + 1s, since the delay exceeds Monitor.
    assert_eq!(sim.wakeup(), Some(at(21)));
    sim.run_for(11);
    assert_eq!(sim.update_state(&web).as_deref(), Some("completed"));
}

#[test]
fn parallelism_zero_updates_all_at_once() {
    let (mut sim, web) = service(
        3,
        UpdateConfig {
            parallelism: 0,
            ..Default::default()
        },
    );
    sim.update_service(&web, set_image("img:v2"));
    let plan = sim.step();
    assert_eq!(plan.create_tasks.len(), 3);
    assert!(
        plan.create_tasks
            .iter()
            .all(|t| t.desired_state == TaskState::Ready)
    );
    sim.settle();
    assert_eq!(images(&sim, &web), ["img:v2"; 3]);
}

/// Updates to v2 with a 10 s delay, then fails the first new task at 1 s.
fn fail_first_new_task(cfg: UpdateConfig) -> (Sim, String, String) {
    let (mut sim, web) = service(
        3,
        UpdateConfig {
            parallelism: 1,
            delay: Some(secs(10)),
            ..cfg
        },
    );
    sim.update_service(&web, set_image("img:v2"));
    sim.settle();
    sim.now = at(1);
    let id = sim
        .running(&web)
        .iter()
        .find(|t| Sim::image(t) == "img:v2")
        .map(|t| t.id.clone())
        .expect("new task");
    sim.stop_task(&id, TaskState::Failed);
    sim.settle();
    (sim, web, id)
}

#[test]
fn failure_pauses_the_update() {
    let (mut sim, web, failed) = fail_first_new_task(UpdateConfig::default());
    let st = status(&sim, &web);
    assert_eq!(st.state, "paused");
    assert_eq!(
        st.message,
        format!("update paused due to failure or early termination of task {failed}")
    );
    sim.run_for(120);
    assert_eq!(
        images(&sim, &web),
        ["img:v1", "img:v1", "img:v2"],
        "restarts go on, the update does not"
    );
    assert_eq!(sim.update_state(&web).as_deref(), Some("paused"));
}

#[test]
fn failure_continue_ignores_it() {
    let (mut sim, web, _) = fail_first_new_task(UpdateConfig {
        failure_action: "continue".into(),
        ..Default::default()
    });
    sim.run_for(120);
    assert_eq!(images(&sim, &web), ["img:v2"; 3]);
    assert_eq!(sim.update_state(&web).as_deref(), Some("completed"));
}

#[test]
fn failure_rolls_back() {
    let (mut sim, web, failed) = fail_first_new_task(UpdateConfig {
        failure_action: "rollback".into(),
        ..Default::default()
    });
    let svc = sim.service(&web);
    assert_eq!(svc.previous_spec, None);
    let st = status(&sim, &web);
    assert_eq!(st.state, "rollback_started");
    assert_eq!(
        st.message,
        format!("update rolled back due to failure or early termination of task {failed}")
    );
    sim.run_for(120);
    assert_eq!(images(&sim, &web), ["img:v1"; 3]);
    let st = status(&sim, &web);
    assert_eq!(
        (st.state.as_str(), st.message.as_str()),
        ("rollback_completed", "rollback completed")
    );
}

#[test]
fn manual_rollback() {
    let (mut sim, web) = service(
        2,
        UpdateConfig {
            parallelism: 1,
            ..Default::default()
        },
    );
    sim.update_service(&web, set_image("img:v2"));
    sim.run_for(30);
    assert_eq!(sim.update_state(&web).as_deref(), Some("completed"));
    // What the control API does for `docker service rollback`.
    let svc = sim
        .services
        .iter_mut()
        .find(|s| s.id == web)
        .expect("service");
    let prev = svc.previous_spec.take().expect("previous spec");
    svc.previous_spec = Some(std::mem::replace(&mut svc.spec, prev));
    std::mem::swap(&mut svc.spec_version, &mut svc.previous_spec_version);
    svc.update_status = Some(UpdateStatus {
        state: "rollback_started".into(),
        started_at: Some(at(30)),
        message: "manually requested rollback".into(),
        ..Default::default()
    });
    sim.step();
    assert_eq!(
        status(&sim, &web).message,
        "manually requested rollback",
        "wording kept while rolling back"
    );
    sim.run_for(30);
    assert_eq!(images(&sim, &web), ["img:v1"; 2]);
    assert_eq!(
        sim.update_state(&web).as_deref(),
        Some("rollback_completed")
    );
}

#[test]
fn global_update() {
    let mut sim = Sim::new();
    for n in ["a", "b", "c"] {
        sim.add_node(n);
    }
    let svc = sim.create_service("g", ServiceMode::global(), |_| {});
    sim.settle();
    sim.update_service(&svc, set_image("img:v2"));
    let plan = sim.step();
    assert_eq!(plan.create_tasks.len(), 1, "parallelism 1 by default");
    sim.run_for(10);
    assert_eq!(images(&sim, &svc), ["img:v2"; 3]);
    assert_eq!(sim.update_state(&svc).as_deref(), Some("completed"));
}

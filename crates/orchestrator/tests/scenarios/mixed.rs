//! A long deterministic run of random events (failures, drains, node
//! outages, scaling, updates) over a replicated and a global service.
//! Every pass is checked for idempotence by the simulator; after each
//! event the cluster must converge to the specs.

use rswarm_types::{Availability, NodeState, ServiceMode, TaskState, UpdateConfig};

use crate::sim::Sim;

/// A small linear congruential generator: deterministic, no dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

fn check(sim: &Sim, web: &str, global: &str) {
    let replicas = sim.service(web).spec.mode.replicas().unwrap_or(0);
    assert_eq!(
        sim.running(web).len() as u64,
        replicas,
        "replicated converged at {}",
        sim.now
    );
    // Slots may be non-contiguous, but each holds one wanted task.
    let mut slots: Vec<u64> = sim
        .tasks_of(web)
        .iter()
        .filter(|t| t.desired_state <= TaskState::Running)
        .map(|t| t.slot)
        .collect();
    let wanted = slots.len();
    slots.sort_unstable();
    slots.dedup();
    assert_eq!(wanted, slots.len(), "one wanted task per slot");
    assert_eq!(slots.len() as u64, replicas, "slots {slots:?}");
    let eligible: Vec<&str> = sim
        .nodes
        .iter()
        .filter(|n| {
            n.status.state == NodeState::Ready && n.spec.availability == Availability::Active
        })
        .map(|n| n.id.as_str())
        .collect();
    for n in &eligible {
        let on = sim
            .running(global)
            .iter()
            .filter(|t| t.node_id == *n)
            .count();
        assert_eq!(on, 1, "global task on {n}");
    }
    let image = Sim::image;
    let want = sim
        .service(web)
        .spec
        .task_template
        .container_spec
        .as_ref()
        .map(|c| c.image.clone());
    assert!(
        sim.running(web)
            .iter()
            .all(|t| Some(image(t).to_string()) == want),
        "update finished"
    );
    // Scaling alone is not an update: no status then.
    let state = sim.update_state(web);
    assert!(
        matches!(state.as_deref(), None | Some("completed")),
        "update status {state:?}"
    );
}

#[test]
fn random_events_converge() {
    run(7, 0, 150);
}

/// The manager drops writes to objects that changed since the snapshot;
/// the next passes must make up for them.
#[test]
fn dropped_writes_still_converge() {
    run(11, 3, 80);
}

fn run(seed: u64, lossy: u64, rounds: u64) {
    let mut sim = Sim::new();
    sim.lossy = lossy;
    for n in ["a", "b", "c", "d"] {
        sim.add_node(n);
    }
    let cfg = UpdateConfig {
        parallelism: 2,
        failure_action: "continue".into(),
        ..Default::default()
    };
    let web = sim.create_service("web", ServiceMode::replicated(4), |s| {
        s.update_config = Some(cfg)
    });
    let global = sim.create_service("agent", ServiceMode::global(), |_| {});
    sim.settle();
    let mut rng = Lcg(seed);
    let others = ["b", "c", "d"];
    for round in 0..rounds {
        match rng.next(6) {
            0 => {
                let running: Vec<String> = sim
                    .tasks
                    .iter()
                    .filter(|t| t.status.state == TaskState::Running)
                    .map(|t| t.id.clone())
                    .collect();
                if !running.is_empty() {
                    let id = running[rng.next(running.len() as u64) as usize].clone();
                    sim.stop_task(&id, TaskState::Failed);
                }
            }
            1 => {
                let n = others[rng.next(3) as usize];
                let a = [
                    Availability::Active,
                    Availability::Drain,
                    Availability::Pause,
                ][rng.next(3) as usize];
                sim.set_availability(n, a);
            }
            2 => {
                let n = others[rng.next(3) as usize];
                let s = if rng.next(2) == 0 {
                    NodeState::Down
                } else {
                    NodeState::Ready
                };
                sim.set_node_state(n, s);
            }
            3 => {
                let replicas = 1 + rng.next(6);
                sim.update_service(&web, |s| s.mode = ServiceMode::replicated(replicas));
            }
            4 => {
                let img = format!("img:r{round}");
                sim.update_service(&web, |s| {
                    s.task_template
                        .container_spec
                        .as_mut()
                        .expect("container")
                        .image = img;
                });
            }
            _ => {}
        }
        // Long enough for restart delays, old-task timeouts and monitors.
        sim.run_for(200);
        check(&sim, &web, &global);
        let limit = sim.limit as usize;
        for slot in 1..=8 {
            assert!(
                sim.in_slot(&web, slot).len() <= limit,
                "history bounded in slot {slot}"
            );
        }
    }
}

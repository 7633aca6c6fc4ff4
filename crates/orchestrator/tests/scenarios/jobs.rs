use rswarm_types::{JobStatus, ReplicatedJob, ServiceMode, TaskState, Version};

use crate::sim::{Sim, at};

fn replicated_job(max: u64, total: u64) -> (Sim, String) {
    let mut sim = Sim::new();
    sim.add_node("a");
    sim.add_node("b");
    let mode = ServiceMode {
        replicated_job: Some(ReplicatedJob {
            max_concurrent: Some(max),
            total_completions: Some(total),
        }),
        ..Default::default()
    };
    let job = sim.create_service("job", mode, |_| {});
    sim.services[0].job_status = Some(JobStatus::default());
    sim.settle();
    (sim, job)
}

fn running_runs(sim: &Sim, job: &str) -> Vec<String> {
    sim.tasks_of(job)
        .into_iter()
        .filter(|t| t.status.state == TaskState::Running && t.desired_state == TaskState::Complete)
        .map(|t| t.id.clone())
        .collect()
}

fn completed(sim: &Sim, job: &str) -> usize {
    sim.tasks_of(job)
        .iter()
        .filter(|t| t.status.state == TaskState::Complete)
        .count()
}

#[test]
fn replicated_job_runs_to_total_completions() {
    let (mut sim, job) = replicated_job(2, 3);
    assert_eq!(running_runs(&sim, &job).len(), 2, "max concurrent");
    while let Some(id) = running_runs(&sim, &job).first().cloned() {
        sim.stop_task(&id, TaskState::Complete);
        sim.settle();
        assert!(running_runs(&sim, &job).len() <= 2);
    }
    assert_eq!(completed(&sim, &job), 3);
    let mut slots: Vec<u64> = sim.tasks_of(&job).iter().map(|t| t.slot).collect();
    slots.sort_unstable();
    assert_eq!(slots, [0, 1, 2]);
    assert!(sim.step().is_empty());
    assert_eq!(sim.wakeup(), None);
}

#[test]
fn failed_run_is_retried_after_the_delay() {
    let (mut sim, job) = replicated_job(1, 1);
    sim.now = at(10);
    let id = running_runs(&sim, &job)[0].clone();
    sim.stop_task(&id, TaskState::Failed);
    sim.settle();
    assert!(running_runs(&sim, &job).is_empty());
    assert_eq!(sim.wakeup(), Some(at(15)));
    sim.run_for(5);
    let runs = running_runs(&sim, &job);
    assert_eq!(runs.len(), 1);
    assert_ne!(runs[0], id);
}

#[test]
fn new_iteration_stops_old_runs_and_starts_over() {
    let (mut sim, job) = replicated_job(1, 2);
    let old = running_runs(&sim, &job)[0].clone();
    sim.services[0].job_status = Some(JobStatus {
        job_iteration: Version { index: 9 },
        last_execution: None,
    });
    sim.settle();
    let t = sim.tasks.iter().find(|t| t.id == old).expect("old run");
    assert_eq!(
        (t.desired_state, t.status.state),
        (TaskState::Shutdown, TaskState::Shutdown)
    );
    let runs = running_runs(&sim, &job);
    assert_eq!(runs.len(), 1);
    let run = sim.tasks.iter().find(|t| t.id == runs[0]).expect("run");
    assert_eq!(run.job_iteration, Some(Version { index: 9 }));
}

#[test]
fn global_job_runs_once_per_node() {
    let mut sim = Sim::new();
    sim.add_node("a");
    sim.add_node("b");
    let mode = ServiceMode {
        global_job: Some(Default::default()),
        ..Default::default()
    };
    let job = sim.create_service("gjob", mode, |_| {});
    sim.services[0].job_status = Some(JobStatus::default());
    sim.settle();
    for id in running_runs(&sim, &job) {
        sim.stop_task(&id, TaskState::Complete);
    }
    sim.settle();
    assert_eq!(completed(&sim, &job), 2);
    assert!(
        running_runs(&sim, &job).is_empty(),
        "completed runs are not repeated"
    );
    sim.add_node("c");
    sim.settle();
    let runs = running_runs(&sim, &job);
    assert_eq!(runs.len(), 1);
    assert_eq!(
        sim.tasks
            .iter()
            .find(|t| t.id == runs[0])
            .map(|t| t.node_id.as_str()),
        Some("c")
    );
}

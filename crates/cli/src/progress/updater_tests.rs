//! Tests of the progress updaters against fixture services and tasks.

use super::*;

fn service(mode: &str) -> Service {
    serde_json::from_str(&format!(
        r#"{{"ID":"svc","Spec":{{"Name":"web","TaskTemplate":{{"ContainerSpec":{{"Image":"x"}}}},"Mode":{mode}}},
           "JobStatus":{{"JobIteration":{{"Index":7}}}}}}"#
    ))
    .expect("service")
}

fn task(slot: u64, node: &str, desired: &str, state: &str, err: &str) -> Task {
    serde_json::from_str(&format!(
        r#"{{"ID":"t{slot}{node}","Spec":{{}},"ServiceID":"svc","Slot":{slot},"NodeID":"{node}",
           "Status":{{"Timestamp":"2020-01-01T00:00:00Z","State":"{state}","Err":"{err}"}},"DesiredState":"{desired}",
           "JobIteration":{{"Index":7}}}}"#
    ))
    .expect("task")
}

fn active() -> BTreeSet<String> {
    ["n1", "n2", "n3"].into_iter().map(String::from).collect()
}

#[test]
fn replicated_progress_lines() {
    let s = service(r#"{"Replicated":{"Replicas":3}}"#);
    let mut u = Updater::for_service(&s).expect("updater");
    let tasks = vec![
        task(1, "n1", "running", "running", ""),
        task(2, "n2", "running", "preparing", ""),
        task(3, "n3", "running", "rejected", "no suitable node"),
        task(3, "n3", "shutdown", "failed", ""),
    ];
    let mut out = Vec::new();
    let done = u
        .update(&s, &tasks, &active(), false, &mut out)
        .expect("update");
    assert!(!done);
    assert_eq!(
        out,
        vec![
            Msg::update("overall progress", "0 out of 3 tasks"),
            Msg::update("1/3", " "),
            Msg::update("2/3", " "),
            Msg::update("3/3", " "),
            Msg::bar("1/3", "running  ", 9, 9),
            Msg::bar("2/3", "preparing", 6, 9),
            Msg::update("3/3", "no suitable node"),
            Msg::update("overall progress", "1 out of 3 tasks"),
        ]
    );
    let tasks: Vec<Task> = (1..=3)
        .map(|i| task(i, "n1", "running", "running", ""))
        .collect();
    let mut out = Vec::new();
    assert!(
        u.update(&s, &tasks, &active(), true, &mut out)
            .expect("update")
    );
    assert_eq!(
        out.last(),
        Some(&Msg::update(
            "overall progress",
            "rolling back update: 3 out of 3 tasks"
        ))
    );
    let mut out = Vec::new();
    assert!(
        u.update(&s, &tasks, &active(), false, &mut out)
            .expect("update")
    );
    assert!(out.is_empty(), "no redraw once done: {out:?}");
}

#[test]
fn tasks_on_down_nodes_are_ignored() {
    let s = service(r#"{"Replicated":{"Replicas":1}}"#);
    let mut u = Updater::for_service(&s).expect("updater");
    let mut out = Vec::new();
    let down = BTreeSet::new();
    assert!(
        !u.update(
            &s,
            &[task(1, "n9", "running", "running", "")],
            &down,
            false,
            &mut out
        )
        .expect("update")
    );
}

#[test]
fn global_progress_waits_for_tasks() {
    let s = service(r#"{"Global":{}}"#);
    let mut u = Updater::for_service(&s).expect("updater");
    let mut out = Vec::new();
    assert!(
        !u.update(&s, &[], &active(), false, &mut out)
            .expect("update")
    );
    assert_eq!(
        out,
        vec![Msg::update("overall progress", "waiting for new tasks")]
    );
    let tasks = vec![
        task(0, "n1", "running", "running", ""),
        task(0, "n2", "running", "starting", ""),
    ];
    let mut out = Vec::new();
    assert!(
        !u.update(&s, &tasks, &active(), false, &mut out)
            .expect("update")
    );
    assert_eq!(
        out,
        vec![
            Msg::update("overall progress", "0 out of 2 tasks"),
            Msg::bar("n1", "running  ", 9, 9),
            Msg::bar("n2", "starting ", 8, 9),
            Msg::update("overall progress", "1 out of 2 tasks"),
        ]
    );
}

#[test]
fn replicated_job_counts_completions() {
    let s = service(r#"{"ReplicatedJob":{"MaxConcurrent":2,"TotalCompletions":2}}"#);
    let mut u = Updater::for_service(&s).expect("updater");
    let tasks = vec![
        task(0, "n1", "complete", "complete", ""),
        task(1, "n2", "complete", "running", ""),
    ];
    let mut out = Vec::new();
    assert!(
        !u.update(&s, &tasks, &active(), false, &mut out)
            .expect("update")
    );
    assert_eq!(
        out,
        vec![
            Msg::bar("job progress", "0 out of 2 complete", 0, 2),
            Msg::update("active tasks", "0 out of 2 tasks"),
            Msg::update("1/2", " "),
            Msg::update("2/2", " "),
            Msg::bar("1/2", "complete ", 10, 10),
            Msg::bar("2/2", "running  ", 9, 10),
            Msg::bar("job progress", "1 out of 2 complete", 1, 2),
            Msg::update("active tasks", "1 out of 1 tasks"),
        ]
    );
}

#[test]
fn unknown_mode_is_an_error() {
    let s = service("{}");
    assert!(Updater::for_service(&s).is_err());
    assert_eq!(trunc_error(&"e".repeat(80)).chars().count(), 75);
}

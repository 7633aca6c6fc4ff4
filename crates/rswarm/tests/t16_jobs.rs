//! Job services: replicated and global jobs run to completion.

mod common;

use common::{DOCKER_28, TestDaemon};

#[test]
fn replicated_and_global_jobs_run_to_completion() {
    let d = TestDaemon::start("job-node");
    d.init();
    let o = d.docker(
        DOCKER_28,
        &[
            "service",
            "create",
            "--name",
            "batch",
            "--mode",
            "replicated-job",
            "--replicas",
            "3",
            "busybox",
            "sh",
            "-c",
            "echo done-$RSWARM_TASK_SLOT",
        ],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("job complete"), "{out}");
    let ls = d.ok(&["service", "ls"]);
    assert!(
        ls.lines().any(|l| l.contains("batch")
            && l.contains("replicated job")
            && l.contains("(3/3 completed)")),
        "{ls}"
    );
    let ps = d.ok(&["service", "ps", "batch"]);
    assert_eq!(
        ps.lines()
            .filter(|l| l.contains("Complete") && l.contains("Complete "))
            .count(),
        3,
        "{ps}"
    );
    let logs = d.ok(&["service", "logs", "--raw", "--no-task-ids", "batch"]);
    let mut lines: Vec<&str> = logs.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        ["done-0", "done-1", "done-2"],
        "replicated-job slots are 0..N-1"
    );

    let out = d.ok(&[
        "service",
        "create",
        "--name",
        "once-per-node",
        "--mode",
        "global-job",
        "busybox",
        "true",
    ]);
    assert!(out.contains("job complete"), "{out}");
    assert!(
        d.ok(&["service", "ls"])
            .lines()
            .any(|l| l.contains("once-per-node") && l.contains("(1/1 completed)"))
    );
}

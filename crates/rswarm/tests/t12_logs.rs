//! `service logs` with the rswarm CLI and the docker CLI.

mod common;

use std::time::Duration;

use common::{DOCKER_20, DOCKER_28, TestDaemon, wait_until};

#[test]
fn service_logs_show_each_tasks_output() {
    let d = TestDaemon::start("logs-node");
    d.init();
    d.ok(&[
        "service",
        "create",
        "-d",
        "--name",
        "talker",
        "--replicas",
        "2",
        "busybox",
        "sh",
        "-c",
        // stdout and stderr are separate pipes: the pause fixes their order.
        "echo out-$RSWARM_TASK_SLOT; sleep 0.3; echo err-$RSWARM_TASK_SLOT >&2; sleep 1000",
    ]);
    let both = |args: &[&str]| {
        let o = d.rswarm(args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    wait_until("both tasks logged", Duration::from_secs(30), || {
        let (out, err) = both(&["service", "logs", "talker"]);
        out.contains("out-1")
            && out.contains("out-2")
            && err.contains("err-1")
            && err.contains("err-2")
    });
    let (out, err) = both(&["service", "logs", "talker"]);
    assert!(
        !out.contains("err-") && !err.contains("out-"),
        "stdout and stderr stay apart"
    );
    for line in out.lines().chain(err.lines()) {
        assert!(
            line.starts_with("talker.1.") || line.starts_with("talker.2."),
            "prefix: {line}"
        );
        assert!(line.contains("@logs-node"), "node name in prefix: {line}");
    }
    let raw = d.ok(&["service", "logs", "--raw", "--no-task-ids", "talker"]);
    assert!(raw.lines().any(|l| l == "out-1"), "{raw}");

    // `--tail 1`: the last line of each task (its stderr line), nothing
    // before it.
    for docker in [DOCKER_28, DOCKER_20] {
        let o = d.docker(docker, &["service", "logs", "--tail", "1", "talker"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let (out, err) = (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        );
        assert_eq!(out, "", "{docker}: no stdout line is among the last ones");
        let mut lines: Vec<&str> = err.lines().collect();
        lines.sort();
        assert_eq!(lines.len(), 2, "{docker}: one line per task: {err}");
        for (line, slot) in lines.iter().zip(["1", "2"]) {
            assert!(
                line.starts_with(&format!("talker.{slot}."))
                    && line.ends_with(&format!("| err-{slot}")),
                "{docker}: {line}"
            );
        }
        let o = d.docker(
            docker,
            &["service", "logs", "--tail", "2", "--raw", "talker"],
        );
        let mut all: Vec<String> = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
        .lines()
        .map(str::to_string)
        .collect();
        all.sort();
        assert_eq!(
            all,
            ["err-1", "err-2", "out-1", "out-2"],
            "{docker}: --tail 2"
        );
    }
}

//! Real processes through the process executor: output, exit codes, env,
//! working directory, user, spec rejections.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Reaper, executor, task, task_with, texts};
use futures_util::StreamExt;
use rswarm_exec::{ExecError, Executor, ExitStatus, LogStream};
use rswarm_types::ContainerSpec;

#[tokio::test]
async fn stdout_and_stderr_are_captured_with_streams_and_order() {
    let (exec, logs, _dir) = executor();
    let t = task(
        "out",
        &[
            "sh",
            "-c",
            "echo out1; echo err1 >&2; echo out2; echo err2 >&2; printf 'no newline'",
        ],
    );
    let ctl = exec.controller(&t).unwrap();
    ctl.prepare().await.unwrap();
    let _reaper = Reaper(ctl.start().await.unwrap());
    assert_eq!(
        ctl.wait().await.unwrap(),
        ExitStatus {
            code: 0,
            signal: None
        }
    );
    let lines = logs.read(&t.id, None, None).await.unwrap();
    let of = |s: LogStream| {
        lines
            .iter()
            .filter(|l| l.stream == s)
            .map(|l| l.line.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(of(LogStream::Stdout), ["out1", "out2", "no newline"]);
    assert_eq!(of(LogStream::Stderr), ["err1", "err2"]);
    assert!(
        lines.windows(2).all(|w| w[0].timestamp <= w[1].timestamp),
        "timestamps in file order"
    );
}

#[tokio::test]
async fn exit_codes_are_reported() {
    let (exec, _logs, _dir) = executor();
    for (argv, code) in [(vec!["true"], 0), (vec!["sh", "-c", "exit 3"], 3)] {
        let ctl = exec.controller(&task("code", &argv)).unwrap();
        let _reaper = Reaper(ctl.start().await.unwrap());
        assert_eq!(ctl.wait().await.unwrap(), ExitStatus { code, signal: None });
        // wait is repeatable once exited
        assert_eq!(ctl.wait().await.unwrap().code, code);
    }
}

#[tokio::test]
async fn args_alone_name_the_program() {
    let (exec, logs, _dir) = executor();
    let spec = ContainerSpec {
        image: "busybox".into(),
        args: vec!["echo".into(), "hi".into(), "there".into()],
        ..Default::default()
    };
    let t = task_with("args", spec);
    let ctl = exec.controller(&t).unwrap();
    let _reaper = Reaper(ctl.start().await.unwrap());
    assert_eq!(ctl.wait().await.unwrap().code, 0);
    assert_eq!(
        texts(&logs.read(&t.id, None, None).await.unwrap()),
        ["hi there"]
    );
}

#[tokio::test]
async fn env_dir_and_user_are_applied() {
    let (exec, logs, dir) = executor();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    // Let `nobody` enter it.
    for d in [dir.path(), work.as_path()] {
        std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    let root = nix::unistd::Uid::effective().is_root();
    let spec = ContainerSpec {
        command: vec!["sh".into(), "-c".into()],
        args: vec!["echo \"$FOO|$EMPTY|$RSWARM_TASK_ID|$RSWARM_SERVICE_ID|$RSWARM_NODE_ID|$RSWARM_TASK_SLOT|$(pwd)|$(id -u)|${UNSET-unset}\"".into()],
        env: vec!["FOO=bar=baz".into(), "EMPTY=".into(), "UNSET".into()],
        dir: work.to_string_lossy().into_owned(),
        user: if root { "nobody".into() } else { String::new() },
        ..Default::default()
    };
    let t = task_with("env", spec);
    let ctl = exec.controller(&t).unwrap();
    let _reaper = Reaper(ctl.start().await.unwrap());
    assert_eq!(ctl.wait().await.unwrap().code, 0);
    let uid = if root {
        nix::unistd::User::from_name("nobody")
            .unwrap()
            .unwrap()
            .uid
            .as_raw()
    } else {
        nix::unistd::Uid::effective().as_raw()
    };
    let want = format!(
        "bar=baz||{}|svc1|node1|2|{}|{uid}|unset",
        t.id,
        work.display()
    );
    assert_eq!(
        texts(&logs.read(&t.id, None, None).await.unwrap()),
        [want.as_str()]
    );
}

#[tokio::test]
async fn default_dir_is_root_and_home_is_set() {
    let (exec, logs, _dir) = executor();
    let t = task(
        "home",
        &["sh", "-c", "echo \"$(pwd) ${HOME:+home} ${PATH:+path}\""],
    );
    let ctl = exec.controller(&t).unwrap();
    let _reaper = Reaper(ctl.start().await.unwrap());
    assert_eq!(ctl.wait().await.unwrap().code, 0);
    assert_eq!(
        texts(&logs.read(&t.id, None, None).await.unwrap()),
        ["/ home path"]
    );
}

#[test]
fn missing_command_is_rejected_clearly() {
    let (exec, _logs, _dir) = executor();
    let err = exec.controller(&task("nocmd", &[])).err().unwrap();
    let ExecError::InvalidSpec(msg) = &err else {
        panic!("{err:?}")
    };
    assert!(msg.contains("no Command or Args"), "{msg}");
    assert!(
        msg.contains("image \"busybox\" cannot be run without a Docker engine"),
        "{msg}"
    );
    assert!(
        msg.contains("rswarm service create busybox sleep 100"),
        "{msg}"
    );

    let mut t = task("nospec", &["true"]);
    t.spec.container_spec = None;
    assert!(matches!(
        exec.controller(&t),
        Err(ExecError::InvalidSpec(_))
    ));
}

#[test]
fn malformed_specs_are_rejected() {
    let (exec, _logs, _dir) = executor();
    let relative = ContainerSpec {
        command: vec!["true".into()],
        dir: "tmp".into(),
        ..Default::default()
    };
    assert!(
        matches!(exec.controller(&task_with("rel", relative)), Err(ExecError::InvalidSpec(m)) if m.contains("absolute"))
    );
    let signal = ContainerSpec {
        command: vec!["true".into()],
        stop_signal: "SIGNOPE".into(),
        ..Default::default()
    };
    assert!(
        matches!(exec.controller(&task_with("sig", signal)), Err(ExecError::InvalidSpec(m)) if m.contains("SIGNOPE"))
    );
}

#[tokio::test]
async fn prepare_rejects_missing_dir_and_unknown_user() {
    let (exec, _logs, _dir) = executor();
    let dir = ContainerSpec {
        command: vec!["true".into()],
        dir: "/nonexistent/rswarm".into(),
        ..Default::default()
    };
    let ctl = exec.controller(&task_with("dir", dir)).unwrap();
    assert!(
        matches!(ctl.prepare().await, Err(ExecError::InvalidSpec(m)) if m.contains("/nonexistent/rswarm"))
    );
    let user = ContainerSpec {
        command: vec!["true".into()],
        user: "no-such-user-rswarm".into(),
        ..Default::default()
    };
    let ctl = exec.controller(&task_with("user", user)).unwrap();
    assert!(
        matches!(ctl.start().await, Err(ExecError::InvalidSpec(m)) if m.contains("no-such-user-rswarm"))
    );
}

#[tokio::test]
async fn unknown_program_fails_to_start() {
    let (exec, _logs, _dir) = executor();
    let ctl = exec
        .controller(&task("noprog", &["/nonexistent/rswarm-prog"]))
        .unwrap();
    ctl.prepare().await.unwrap();
    let err = ctl.start().await.unwrap_err();
    assert!(
        matches!(&err, ExecError::StartFailed(m) if m.contains("/nonexistent/rswarm-prog")),
        "{err}"
    );
    assert!(matches!(ctl.wait().await, Err(ExecError::NotStarted(_))));
}

#[tokio::test]
async fn following_a_running_task_ends_when_it_exits() {
    let (exec, logs, _dir) = executor();
    let t = task("follow", &["sh", "-c", "echo a; sleep 0.3; echo b >&2"]);
    let ctl = exec.controller(&t).unwrap();
    ctl.prepare().await.unwrap();
    let follow = logs.follow(&t.id, None, None);
    let _reaper = Reaper(ctl.start().await.unwrap());
    let lines: Vec<_> = tokio::time::timeout(std::time::Duration::from_secs(20), follow.collect())
        .await
        .unwrap();
    assert_eq!(texts(&lines), ["a", "b"]);
    assert_eq!(lines[1].stream, LogStream::Stderr);
    assert_eq!(ctl.wait().await.unwrap().code, 0);
    ctl.remove().await.unwrap();
    assert_eq!(
        logs.read(&t.id, None, None).await.unwrap().len(),
        2,
        "logs outlive remove()"
    );
}

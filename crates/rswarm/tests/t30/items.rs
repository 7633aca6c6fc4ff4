//! Issue 7's items side by side with Docker Swarm: `docker inspect`
//! without `--type`, errors in Docker's words, the JSON of services, tasks,
//! nodes and the swarm, and the end of a rollback.

use super::json::*;
use super::*;

/// Parses `docker inspect` output (a JSON array).
fn inspect_json(text: &str) -> Vec<Value> {
    match serde_json::from_str(text) {
        Ok(Value::Array(v)) => v,
        other => panic!("not a JSON array ({other:?}): {text}"),
    }
}

/// The one object `docker <args>` (an inspect) prints.
fn inspect_one(docker: &str, host: &str, args: &[&str]) -> Value {
    let mut v = inspect_json(&out_cli(docker, host, args));
    assert_eq!(v.len(), 1, "{docker} -H {host} {args:?}: {v:?}");
    v.remove(0)
}

/// Runs `f` for the reference engine and rswarm at the same time.
fn both<T: Send>(reference: &str, ours: &str, f: impl Fn(&str) -> T + Sync) -> (T, T) {
    std::thread::scope(|s| {
        let r = s.spawn(|| f(reference));
        let o = f(ours);
        (r.join().expect("reference side"), o)
    })
}

/// Exit code and stderr, without the CLI's own warning that the local-only
/// test image has no registry digest.
fn failure(o: &Output) -> (Option<i32>, String) {
    let err = String::from_utf8_lossy(&o.stderr);
    let kept: Vec<&str> = err
        .lines()
        .filter(|l| {
            !(l.contains("could not be accessed on a registry to record")
                || l.starts_with("its digest. Each node will access")
                || l.starts_with("possibly leading to different nodes")
                || l.starts_with("versions of the image.")
                || l.is_empty())
        })
        .collect();
    (o.status.code(), kept.join("\n"))
}

/// The unix socket of a `unix://` docker host.
fn socket_of(host: &str) -> std::path::PathBuf {
    host.strip_prefix("unix://")
        .unwrap_or_else(|| panic!("{host}: the comparison reads the Engine API over a unix socket"))
        .into()
}

/// `GET path` on a docker host: status and JSON body.
fn get(host: &str, path: &str) -> (u16, Value) {
    let r = common::http(&socket_of(host), "GET", path, None).expect("GET");
    let body = serde_json::from_str(&r.body)
        .unwrap_or_else(|e| panic!("GET {path} on {host}: {e}: {}", r.body));
    (r.status, body)
}

/// The running task of slot 1 of a service.
fn slot_one(docker: &str, host: &str, service: &str) -> Value {
    let ids = out_cli(
        docker,
        host,
        &[
            "service",
            "ps",
            "-q",
            "--filter",
            "desired-state=running",
            service,
        ],
    );
    let mut args = vec!["inspect"];
    args.extend(ids.split_whitespace());
    inspect_json(&out_cli(docker, host, &args))
        .into_iter()
        .find(|t| t["Slot"] == 1 && t["Status"]["State"] == "running")
        .unwrap_or_else(|| panic!("{host}: no running task in slot 1 of {service}"))
}

#[test]
fn inspect_errors_and_rollback_as_docker_swarm() {
    let _turn = reference_turn();
    let engine = test_engine();
    let dockerd = engine.as_str();
    for docker in [DOCKER_28, DOCKER_20] {
        assert!(
            run_cli(docker, dockerd, &["version"]).status.success(),
            "{docker} and the reference Docker engine must run: bash scripts/setup.sh"
        );
    }
    let _ = run(dockerd, &["swarm", "leave", "--force"]);
    let _guard = ReferenceSwarm;
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
    let hostname = hostname.trim();
    let d = TestDaemon::start(hostname);
    let ours = d.host();
    let found = Findings::default();

    // Outside a swarm: `.Swarm` of `docker info` (RemoteManagers null...)
    // and `GET /swarm` (the refusal) are the same.
    for docker in [DOCKER_28, DOCKER_20] {
        let info = |host: &str| -> Value {
            serde_json::from_str(&out_cli(
                docker,
                host,
                &["info", "--format", "{{json .Swarm}}"],
            ))
            .expect("info JSON")
        };
        let (r, o) = both(dockerd, &ours, info);
        found.json(
            &format!("{docker} info .Swarm outside a swarm"),
            &r,
            &o,
            &EXACT,
        );
    }
    let (r, o) = both(dockerd, &ours, |h| get(h, "/v1.41/swarm"));
    found.eq("GET /swarm outside a swarm: status", o.0, r.0);
    found.json("GET /swarm outside a swarm", &r.1, &o.1, &EXACT);

    // The same swarm on both sides: loopback, own ports, data path port.
    let (listen_ref, listen) = (
        format!("127.0.0.1:{}", common::free_port()),
        format!("127.0.0.1:{}", common::free_port()),
    );
    for (host, addr) in [(dockerd, &listen_ref), (ours.as_str(), &listen)] {
        out(
            host,
            &[
                "swarm",
                "init",
                "--advertise-addr",
                "127.0.0.1",
                "--listen-addr",
                addr,
                "--data-path-port",
                "4790",
            ],
        );
    }
    // `web` runs; `oneshot` exits 3 once and is not restarted.
    let create = |host: &str| {
        out(
            host,
            &[
                "service",
                "create",
                "-d",
                "--name",
                "web",
                "--replicas",
                "2",
                "--stop-grace-period",
                "1s",
                IMAGE,
                "sleep",
                "1000",
            ],
        );
        out(
            host,
            &[
                "service",
                "create",
                "-d",
                "--name",
                "oneshot",
                "--restart-condition",
                "none",
                IMAGE,
                "sh",
                "-c",
                "exit 3",
            ],
        );
        wait_until(
            &format!("web 2/2 on {host}"),
            Duration::from_secs(60),
            || {
                out(
                    host,
                    &[
                        "service",
                        "ls",
                        "--filter",
                        "name=web",
                        "--format",
                        "{{.Replicas}}",
                    ],
                )
                .trim()
                    == "2/2"
            },
        );
        wait_until(
            &format!("the oneshot task failed on {host}"),
            Duration::from_secs(60),
            || {
                out(
                    host,
                    &["service", "ps", "--format", "{{.CurrentState}}", "oneshot"],
                )
                .starts_with("Failed")
            },
        );
    };
    both(dockerd, &ours, create);

    let (swarm_ref, swarm_ours) = both(dockerd, &ours, |h| get(h, "/v1.41/swarm"));
    assert_eq!((swarm_ours.0, swarm_ref.0), (200, 200), "GET /swarm");
    found.json("GET /swarm", &swarm_ref.1, &swarm_ours.1, &SWARM);

    for docker in [DOCKER_28, DOCKER_20] {
        same_inspect_errors_and_rollback(
            &found,
            docker,
            dockerd,
            &ours,
            hostname,
            [&listen_ref, &listen],
        );
    }

    // Spec, PreviousSpec and UpdateStatus after a rolling update of the
    // task template, and the new task.
    let update = |host: &str| {
        out(
            host,
            &["service", "update", "-d", "--env-add", "A=1", "web"],
        );
        wait_until(
            &format!("update completed on {host}"),
            Duration::from_secs(120),
            || {
                // swarmkit resets UpdateStatus at an update, until the
                // updater starts.
                out(
                    host,
                    &[
                        "service",
                        "inspect",
                        "--format",
                        "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}",
                        "web",
                    ],
                )
                .trim()
                    == "completed"
            },
        );
        let svc = inspect_one(DOCKER_28, host, &["service", "inspect", "web"]);
        (svc, slot_one(DOCKER_28, host, "web"))
    };
    let ((svc_r, task_r), (svc_o, task_o)) = both(dockerd, &ours, update);
    found.json("service inspect after --env-add", &svc_r, &svc_o, &SERVICE);
    found.json(
        "inspect of an updated task",
        &task_r,
        &task_o,
        &TASK_RUNNING,
    );
    found.assert_none();
}

/// Items 2, 5, 6 and 7 of issue 7 with one docker CLI.
fn same_inspect_errors_and_rollback(
    found: &Findings,
    docker: &str,
    dockerd: &str,
    ours: &str,
    hostname: &str,
    listen: [&String; 2],
) {
    let cli = |host: &str, args: &[&str]| out_cli(docker, host, args);
    let one = |host: &str, args: &[&str]| inspect_one(docker, host, args);

    // Item 2: `docker inspect` without --type finds services, tasks and
    // nodes by name or ID; item 6: their JSON.
    let objects = |host: &str| {
        // The generic inspect prints the Engine API's bytes; the typed one
        // (20.10) decodes and re-encodes them as Go does: the same for
        // Docker, so compared with the reference below.
        let svc = one(host, &["inspect", "web"]);
        let typed = one(host, &["service", "inspect", "web"]);
        let task = slot_one(docker, host, "web");
        let by_id = one(host, &["inspect", task["ID"].as_str().expect("task ID")]);
        let exited = cli(host, &["service", "ps", "-q", "oneshot"]);
        let exited = one(host, &["inspect", exited.trim()]);
        let node = one(host, &["inspect", hostname]);
        let node_self = one(host, &["node", "inspect", "self"]);
        // Within one side, the IDs refer to each other.
        let info: Value =
            serde_json::from_str(&cli(host, &["info", "--format", "{{json .Swarm}}"]))
                .expect("info JSON");
        assert_eq!(
            (&by_id["ServiceID"], &by_id["NodeID"], &info["NodeID"]),
            (&svc["ID"], &node["ID"], &node["ID"]),
            "{host}: the task's service and node, the node of /info\ntask: {by_id:#}\nnode: {node:#}"
        );
        (svc, by_id, exited, node, info, [typed, node_self])
    };
    let (r, o) = both(dockerd, ours, objects);
    // Where the generic and the typed inspect disagree on one side.
    let typed_diff =
        |raw: &Value, typed: &Value| json_diff_as(raw, typed, &EXACT, ["generic", "typed"]);
    found.eq(
        &format!("{docker} inspect web against {docker} service inspect web"),
        typed_diff(&o.0, &o.5[0]),
        typed_diff(&r.0, &r.5[0]),
    );
    found.eq(
        &format!("{docker} inspect {hostname} against {docker} node inspect self"),
        typed_diff(&o.3, &o.5[1]),
        typed_diff(&r.3, &r.5[1]),
    );
    found.json(&format!("{docker} inspect web"), &r.0, &o.0, &SERVICE);
    found.json(
        &format!("{docker} inspect <running task>"),
        &r.1,
        &o.1,
        &TASK_RUNNING,
    );
    for (host, task) in [(dockerd, &r.1), (ours, &o.1)] {
        let pid = task["Status"]["ContainerStatus"]["PID"].as_i64();
        assert!(
            pid.is_some_and(|p| p > 0),
            "{host}: running task PID {task}"
        );
    }
    found.json(
        &format!("{docker} inspect <exited task>"),
        &r.2,
        &o.2,
        &TASK_EXITED,
    );
    found.json(&format!("{docker} inspect {hostname}"), &r.3, &o.3, &NODE);
    for (node, addr) in [(&r.3, listen[0]), (&o.3, listen[1])] {
        assert_eq!(node["ManagerStatus"]["Addr"], addr.as_str(), "{node}");
    }
    found.json(
        &format!("{docker} info --format '{{{{json .Swarm}}}}'"),
        &r.4,
        &o.4,
        &SWARM_INFO,
    );

    let (r, o) = both(dockerd, ours, |h| {
        let o = run_cli(docker, h, &["inspect", "nothing-here"]);
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    });
    found.eq(
        &format!("{docker} inspect nothing-here: exit code, stdout, stderr"),
        &o,
        &r,
    );
    assert_ne!(r.0, Some(0), "{docker} inspect nothing-here");

    // Item 5: the same refusals, word for word.
    let self_ids = both(dockerd, ours, |h| {
        cli(h, &["info", "--format", "{{.Swarm.NodeID}}"])
            .trim()
            .to_string()
    });
    let services = |h: &str| cli(h, &["service", "ls", "--format", "{{.Name}}"]);
    let before = both(dockerd, ours, services);
    for args in [
        &["node", "update", "--availability", "bogus", "<self>"][..],
        &[
            "service",
            "create",
            "-d",
            "--restart-condition",
            "bogus",
            IMAGE,
            "true",
        ],
        &["service", "update", "-d", "--update-order", "bogus", "web"],
        &["service", "ls", "--filter", "bogus=x"],
        // The last manager.
        &["node", "demote", "<self>"],
        // `web` exists: names are unique without regard to case.
        &["service", "create", "-d", "--name", "WEB", IMAGE, "true"],
    ] {
        let with_self = |h: &str| {
            let me = if h == dockerd {
                &self_ids.0
            } else {
                &self_ids.1
            };
            let args: Vec<&str> = args
                .iter()
                .map(|a| if *a == "<self>" { me.as_str() } else { a })
                .collect();
            failure(&run_cli(docker, h, &args))
        };
        let (r, o) = both(dockerd, ours, with_self);
        found.eq(&format!("{docker} {args:?}: exit code and stderr"), &o, &r);
        assert!(
            r.0 != Some(0) && r.1.starts_with("Error response from daemon: "),
            "{docker} {args:?}: {r:?}"
        );
    }
    assert_eq!(
        both(dockerd, ours, services),
        before,
        "{docker}: the refused commands changed nothing"
    );

    // Item 7: `service rollback` after a replica-count change.
    let rollback = |h: &str| {
        cli(h, &["service", "update", "--replicas", "3", "web"]);
        cli(h, &["service", "rollback", "web"])
    };
    let (r, o) = both(dockerd, ours, rollback);
    let lines = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| l.trim_end().to_string())
            .filter(|l| !l.is_empty() && !l.starts_with("verify: Waiting "))
            .collect()
    };
    let (rl, ol) = (lines(&r), lines(&o));
    found.eq(
        &format!("{docker} service rollback web: first line"),
        ol.first(),
        rl.first(),
    );
    // What comes between depends on when the CLI polls (every 200 ms)
    // against how fast the rollback goes, in Docker Swarm itself: the CLI
    // prints `rollback: manually requested rollback` only if it sees the
    // rollback still running, and `rollback: rollback completed` after the
    // converged line only if it saw the rollback complete before the tasks
    // converged (the third replica not yet told to shut down). Both were
    // seen from the reference engine on this machine, either way. So that
    // last line may be there on either side; the line before it is
    // compared.
    const COMPLETED: &str = "rollback: rollback completed";
    let ending = |l: &[String]| -> String {
        let l = match l.split_last() {
            Some((last, rest)) if last == COMPLETED => rest,
            _ => l,
        };
        l.last().cloned().unwrap_or_default()
    };
    found.eq(
        &format!("{docker} service rollback web: last line (output: {ol:?})"),
        ending(&ol),
        ending(&rl),
    );
    assert!(
        ending(&rl).starts_with("verify: Service ") && ending(&rl).ends_with(" converged"),
        "{r}"
    );
    // The final state: two replicas, the rolled-back spec, UpdateStatus.
    let state = |h: &str| {
        wait_until(&format!("web 2/2 on {h}"), Duration::from_secs(60), || {
            cli(
                h,
                &[
                    "service",
                    "ls",
                    "--filter",
                    "name=web",
                    "--format",
                    "{{.Replicas}}",
                ],
            )
            .trim()
                == "2/2"
        });
        one(h, &["service", "inspect", "web"])
    };
    let (r, o) = both(dockerd, ours, state);
    found.json(
        &format!("{docker}: service inspect web after the rollback"),
        &r,
        &o,
        &SERVICE,
    );
    assert_eq!(
        (
            &r["Spec"]["Mode"]["Replicated"]["Replicas"],
            &r["UpdateStatus"]["State"]
        ),
        (&Value::from(2), &Value::from("rollback_completed")),
        "{r}"
    );
}

//! Unit tests of the `ContainerSpec` → create-body conversion.

use super::*;
use rswarm_types::{ResourceRequirements, Resources, TaskSpec};

fn task(spec: ContainerSpec) -> Task {
    let mut t = Task {
        id: "t1abc".into(),
        service_id: "svc9".into(),
        node_id: "node7".into(),
        slot: 2,
        spec: TaskSpec {
            container_spec: Some(spec),
            ..Default::default()
        },
        ..Default::default()
    };
    t.service_annotations.name = "web".into();
    t
}

fn spec(image: &str, command: &[&str], args: &[&str]) -> ContainerSpec {
    ContainerSpec {
        image: image.into(),
        command: command.iter().map(|s| s.to_string()).collect(),
        args: args.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

fn strings(v: &[&str]) -> Option<Vec<String>> {
    Some(v.iter().map(|s| s.to_string()).collect())
}

#[test]
fn command_is_the_entrypoint_and_args_the_cmd() {
    let p =
        ContainerPlan::from_task(&task(spec("busybox", &["sh", "-c"], &["echo hi"])), "").unwrap();
    assert_eq!(p.body.image.as_deref(), Some("busybox"));
    assert_eq!(p.body.entrypoint, strings(&["sh", "-c"]));
    assert_eq!(p.body.cmd, strings(&["echo hi"]));

    // `service create IMAGE sleep 1000` sends Args only: the image's
    // entrypoint stays.
    let p = ContainerPlan::from_task(&task(spec("busybox", &[], &["sleep", "1000"])), "").unwrap();
    assert_eq!(p.body.entrypoint, None);
    assert_eq!(p.body.cmd, strings(&["sleep", "1000"]));

    // Neither: the image's own entrypoint and command.
    let p = ContainerPlan::from_task(&task(spec("busybox", &[], &[])), "").unwrap();
    assert_eq!((p.body.entrypoint, p.body.cmd), (None, None));
}

#[test]
fn env_dir_user_hostname_signal_and_grace() {
    let mut s = spec("busybox", &[], &["true"]);
    s.env = vec!["A=1".into(), "B=two words".into()];
    s.dir = "/tmp".into();
    s.user = "1000:1000".into();
    s.hostname = "box".into();
    s.stop_signal = "SIGINT".into();
    s.stop_grace_period = Some(1_500_000_000);
    s.tty = true;
    let p = ContainerPlan::from_task(&task(s), "").unwrap();
    assert_eq!(p.body.env, strings(&["A=1", "B=two words"]));
    assert_eq!(p.body.working_dir.as_deref(), Some("/tmp"));
    assert_eq!(p.body.user.as_deref(), Some("1000:1000"));
    assert_eq!(p.body.hostname.as_deref(), Some("box"));
    assert_eq!(p.body.stop_signal.as_deref(), Some("SIGINT"));
    assert_eq!(p.body.stop_timeout, Some(2), "1.5 s rounds up");
    assert_eq!(p.grace, Duration::from_millis(1500));
    assert_eq!(p.body.tty, Some(true));

    let p = ContainerPlan::from_task(&task(spec("busybox", &[], &["true"])), "").unwrap();
    assert_eq!(p.body.env, None);
    assert_eq!(p.body.working_dir, None);
    assert_eq!(p.body.user, None);
    assert_eq!(p.body.hostname, None);
    assert_eq!(p.body.stop_signal, None);
    assert_eq!(p.body.stop_timeout, Some(10), "default grace period");
    assert_eq!(p.body.tty, None);
}

#[test]
fn labels_and_name_follow_swarm() {
    let mut s = spec("busybox", &[], &["true"]);
    s.labels.insert("app".into(), "shop".into());
    s.labels.insert(LABEL_TASK_ID.into(), "spoofed".into());
    let p = ContainerPlan::from_task(&task(s), "fallback-node").unwrap();
    assert_eq!(p.name, "web.2.t1abc");
    assert_eq!(p.task_id, "t1abc");
    let labels = p.body.labels.unwrap();
    let get = |k: &str| labels.get(k).map(String::as_str);
    assert_eq!(get("app"), Some("shop"));
    assert_eq!(get(LABEL_TASK_ID), Some("t1abc"), "swarm labels win");
    assert_eq!(get(LABEL_TASK_NAME), Some("web.2.t1abc"));
    assert_eq!(get(LABEL_TASK), Some(""));
    assert_eq!(get(LABEL_SERVICE_ID), Some("svc9"));
    assert_eq!(get(LABEL_SERVICE_NAME), Some("web"));
    assert_eq!(get(LABEL_NODE_ID), Some("node7"), "the task's node");
    assert_eq!(labels.len(), 7);
}

#[test]
fn names_of_global_and_nameless_tasks() {
    let mut t = task(spec("busybox", &[], &["true"]));
    t.slot = 0;
    assert_eq!(task_name(&t), "web.node7.t1abc");
    t.node_id.clear();
    let p = ContainerPlan::from_task(&t, "n2").unwrap();
    assert_eq!(
        p.body
            .labels
            .unwrap()
            .get(LABEL_NODE_ID)
            .map(String::as_str),
        Some("n2"),
        "the executor's node when the task names none"
    );
    t.slot = 3;
    t.service_annotations.name.clear();
    assert_eq!(task_name(&t), "svc9.3.t1abc");
}

#[test]
fn resources_become_limits() {
    let mut t = task(spec("busybox", &[], &["true"]));
    let p = ContainerPlan::from_task(&t, "").unwrap();
    let hc = p.body.host_config.unwrap();
    assert_eq!(
        (hc.nano_cpus, hc.memory, hc.memory_reservation),
        (None, None, None)
    );

    t.spec.resources = Some(ResourceRequirements {
        limits: Some(Resources {
            nano_cpus: 500_000_000,
            memory_bytes: 64 << 20,
            ..Default::default()
        }),
        reservations: Some(Resources {
            nano_cpus: 100_000_000,
            memory_bytes: 32 << 20,
            ..Default::default()
        }),
    });
    let hc = ContainerPlan::from_task(&t, "")
        .unwrap()
        .body
        .host_config
        .unwrap();
    assert_eq!(hc.nano_cpus, Some(500_000_000));
    assert_eq!(hc.memory, Some(64 << 20));
    assert_eq!(hc.memory_reservation, Some(32 << 20));
}

#[test]
fn dns_config_becomes_the_containers_dns() {
    let mut c = spec("busybox", &[], &[]);
    let h = ContainerPlan::from_task(&task(c.clone()), "n")
        .unwrap()
        .body
        .host_config
        .unwrap();
    assert_eq!((h.dns, h.dns_search, h.dns_options), (None, None, None));
    c.dns_config = Some(rswarm_types::DnsConfig {
        nameservers: vec!["198.18.0.254".into()],
        search: vec!["corp.example".into()],
        options: vec!["ndots:2".into()],
    });
    let h = ContainerPlan::from_task(&task(c), "n")
        .unwrap()
        .body
        .host_config
        .unwrap();
    assert_eq!(h.dns, strings(&["198.18.0.254"]));
    assert_eq!(h.dns_search, strings(&["corp.example"]));
    assert_eq!(h.dns_options, strings(&["ndots:2"]));
}

#[test]
fn host_mode_ports_are_bound_on_the_node() {
    let mut t = task(spec("busybox", &[], &["true"]));
    let port = |mode: &str, published: u32, protocol: &str| rswarm_types::PortConfig {
        protocol: protocol.into(),
        target_port: 80,
        published_port: published,
        publish_mode: mode.into(),
        ..Default::default()
    };
    t.endpoint_spec = Some(rswarm_types::EndpointSpec {
        ports: vec![
            port("host", 8080, "tcp"),
            port("host", 0, "udp"),
            port("ingress", 9090, "tcp"),
        ],
        ..Default::default()
    });
    let body = ContainerPlan::from_task(&t, "").unwrap().body;
    let mut exposed = body.exposed_ports.clone().unwrap_or_default();
    exposed.sort();
    assert_eq!(exposed, vec!["80/tcp".to_string(), "80/udp".to_string()]);
    let bindings = body.host_config.unwrap().port_bindings.unwrap();
    let host_port = |key: &str| {
        bindings[key].as_ref().unwrap()[0]
            .host_port
            .clone()
            .unwrap_or_default()
    };
    assert_eq!(host_port("80/tcp"), "8080");
    assert_eq!(host_port("80/udp"), "", "0: the engine picks");
    assert_eq!(bindings.len(), 2, "ingress ports are not the container's");
}

#[test]
fn bad_specs_are_rejected() {
    let mut t = task(spec("", &[], &["true"]));
    let err = ContainerPlan::from_task(&t, "").unwrap_err().to_string();
    assert!(err.contains("no image"), "{err}");

    t.spec.container_spec = None;
    assert!(matches!(
        ContainerPlan::from_task(&t, ""),
        Err(ExecError::InvalidSpec(_))
    ));

    let mut s = spec("busybox", &[], &["true"]);
    s.dir = "relative".into();
    let err = ContainerPlan::from_task(&task(s), "")
        .unwrap_err()
        .to_string();
    assert!(err.contains("absolute path"), "{err}");

    let mut s = spec("busybox", &[], &["true"]);
    s.stop_signal = "SIGNOPE".into();
    let err = ContainerPlan::from_task(&task(s), "")
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid stop signal"), "{err}");
}

#[test]
fn stop_timeouts_round_up() {
    assert_eq!(stop_timeout_secs(Duration::ZERO), 0);
    assert_eq!(stop_timeout_secs(Duration::from_millis(1)), 1);
    assert_eq!(stop_timeout_secs(Duration::from_secs(10)), 10);
}

#[test]
fn pull_references() {
    let r = |s: &str| pull_reference(s);
    assert_eq!(r("busybox"), ("busybox".into(), Some("latest".into())));
    assert_eq!(r("busybox:1.36"), ("busybox".into(), Some("1.36".into())));
    assert_eq!(
        r("localhost:5000/team/app"),
        ("localhost:5000/team/app".into(), Some("latest".into()))
    );
    assert_eq!(
        r("localhost:5000/app:v2"),
        ("localhost:5000/app".into(), Some("v2".into()))
    );
    assert_eq!(r("busybox@sha256:abc"), ("busybox@sha256:abc".into(), None));
}

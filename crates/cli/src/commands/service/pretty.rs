//! docker's human-friendly service view (`service inspect --pretty`).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use rswarm_types::Service;
use serde_json::Value;

use crate::Timestamp;
use crate::human::{bytes_size, go_duration, since};

fn s(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn nanos(v: Option<&Value>) -> i64 {
    v.and_then(Value::as_i64).unwrap_or(0)
}

fn cpus(n: i64) -> String {
    let f = n as f64 / 1e9;
    f.to_string()
}

/// Renders one service (with a leading newline, no trailing one, as
/// docker's template does before the formatter adds it).
pub fn pretty(svc: &Service, network_names: &HashMap<String, String>, now: Timestamp) -> String {
    let spec = &svc.spec;
    let task = &spec.task_template;
    let c = task.container_spec.clone().unwrap_or_default();
    let cv = serde_json::to_value(&c).unwrap_or_default();
    let x = |k: &str| cv.get(k);
    let mut o = String::new();
    let _ = write!(o, "\nID:\t\t{}\nName:\t\t{}", svc.id, spec.name);
    if !spec.labels.is_empty() {
        o.push_str("\nLabels:");
        for (k, v) in &spec.labels {
            let _ = write!(o, "\n {k}");
            if !v.is_empty() {
                let _ = write!(o, "={v}");
            }
        }
    }
    o.push_str("\nService Mode:");
    if spec.mode.global.is_some() {
        o.push_str("\tGlobal");
    } else if let Some(r) = &spec.mode.replicated {
        o.push_str("\tReplicated");
        if let Some(n) = r.replicas {
            let _ = write!(o, "\n Replicas:\t{n}");
        }
    }
    if let Some(us) = svc.update_status.as_ref().filter(|u| !u.state.is_empty()) {
        let _ = write!(o, "\nUpdateStatus:\n State:\t\t{}", us.state);
        if let Some(t) = us.started_at {
            let _ = write!(o, "\n Started:\t{} ago", since(t, now));
        }
        if let (true, Some(t)) = (us.state == "completed", us.completed_at) {
            let _ = write!(o, "\n Completed:\t{} ago", since(t, now));
        }
        let _ = write!(o, "\n Message:\t{}", us.message);
    }
    o.push_str("\nPlacement:");
    if let Some(p) = &task.placement {
        if !p.constraints.is_empty() {
            let _ = write!(o, "\n Constraints:\t[{}]", p.constraints.join(" "));
        }
        let prefs: Vec<String> = p
            .preferences
            .iter()
            .filter_map(|p| p.spread.as_ref())
            .map(|d| format!("spread={}", d.spread_descriptor))
            .collect();
        if !prefs.is_empty() {
            let _ = write!(o, "\n Preferences:   [{}]", prefs.join(" "));
        }
        if p.max_replicas > 0 {
            let _ = write!(o, "\n Max Replicas Per Node:   {}", p.max_replicas);
        }
    }
    for (title, cfg, order) in [
        ("UpdateConfig", &spec.update_config, "Update order:      "),
        (
            "RollbackConfig",
            &spec.rollback_config,
            "Rollback order:    ",
        ),
    ] {
        let Some(u) = cfg else { continue };
        let _ = write!(o, "\n{title}:\n Parallelism:\t{}", u.parallelism);
        if let Some(d) = u.delay.filter(|d| *d > 0) {
            let _ = write!(o, "\n Delay:\t\t{}", go_duration(d));
        }
        let _ = write!(o, "\n On failure:\t{}", u.failure_action);
        if let Some(m) = u.monitor.filter(|m| *m > 0) {
            let _ = write!(o, "\n Monitoring Period: {}", go_duration(m));
        }
        let _ = write!(
            o,
            "\n Max failure ratio: {}\n {order}{}",
            u.max_failure_ratio, u.order
        );
    }
    let _ = write!(o, "\nContainerSpec:\n Image:\t\t{}", c.image);
    if !c.args.is_empty() {
        o.push_str("\n Args:\t\t");
        c.args.iter().for_each(|a| {
            let _ = write!(o, "{a} ");
        });
    }
    if !c.env.is_empty() {
        o.push_str("\n Env:\t\t");
        c.env.iter().for_each(|a| {
            let _ = write!(o, "{a} ");
        });
    }
    if !c.dir.is_empty() {
        let _ = write!(o, "\n Dir:\t\t{}", c.dir);
    }
    if let Some(Value::Bool(b)) = x("Init") {
        let _ = write!(o, "\n Init:\t\t{b}");
    }
    if !c.user.is_empty() {
        let _ = write!(o, "\n User: {}", c.user);
    }
    let list = |k: &str| -> Vec<String> {
        x(k).and_then(Value::as_array)
            .map(|a| a.iter().map(|v| s(Some(v))).collect())
            .unwrap_or_default()
    };
    let (add, drop) = (list("CapabilityAdd"), list("CapabilityDrop"));
    if !add.is_empty() || !drop.is_empty() {
        o.push_str("\nCapabilities:");
        if !add.is_empty() {
            let _ = write!(o, "\n Add: {}", add.join(", "));
        }
        if !drop.is_empty() {
            let _ = write!(o, "\n Drop: {}", drop.join(", "));
        }
    }
    if let Some(m) = x("Sysctls")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
    {
        o.push_str("\nSysCtls:");
        for (k, v) in m.iter().collect::<BTreeMap<_, _>>() {
            let v = s(Some(v));
            let _ = write!(o, "\n {k}");
            if !v.is_empty() {
                let _ = write!(o, ": {v}");
            }
        }
    }
    if let Some(u) = x("Ulimits")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    {
        o.push_str("\nUlimits:");
        let m: BTreeMap<String, String> = u
            .iter()
            .map(|l| {
                (
                    s(l.get("Name")),
                    format!("{}:{}", nanos(l.get("Soft")), nanos(l.get("Hard"))),
                )
            })
            .collect();
        for (k, v) in m {
            let _ = write!(o, "\n {k}: {v}");
        }
    }
    let mounts = x("Mounts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if !mounts.is_empty() {
        o.push_str("\nMounts:");
    }
    for m in &mounts {
        let ro = m.get("ReadOnly").and_then(Value::as_bool).unwrap_or(false);
        let _ = write!(
            o,
            "\n Target:\t{}\n  Source:\t{}\n  ReadOnly:\t{ro}\n  Type:\t\t{}",
            s(m.get("Target")),
            s(m.get("Source")),
            s(m.get("Type"))
        );
    }
    for (title, key, name_key) in [
        ("Configs", "Configs", "ConfigName"),
        ("Secrets", "Secrets", "SecretName"),
    ] {
        if let Some(a) = x(key).and_then(Value::as_array).filter(|a| !a.is_empty()) {
            let _ = write!(o, "\n{title}:");
            for r in a {
                let _ = write!(
                    o,
                    "\n Target:\t{}\n  Source:\t{}",
                    s(r.pointer("/File/Name")),
                    s(r.get(name_key))
                );
            }
        }
    }
    if let Some(ld) = &task.log_driver {
        o.push_str("\nLog Driver:");
        if !ld.name.is_empty() {
            let _ = write!(o, "\n Name:\t\t{}", ld.name);
        }
        if !ld.options.is_empty() {
            o.push_str("\n LogOpts:");
            for (k, v) in &ld.options {
                let _ = write!(o, "\n  {k}");
                if !v.is_empty() {
                    let _ = write!(o, ":       {v}");
                }
            }
        }
        o.push('\n');
    }
    let pids = task
        .resources
        .as_ref()
        .and_then(|r| r.limits.as_ref())
        .map_or(0, |l| l.pids);
    if let Some(r) = &task.resources {
        o.push_str("\nResources:");
        if let Some(res) = r
            .reservations
            .as_ref()
            .filter(|x| x.nano_cpus > 0 || x.memory_bytes > 0)
        {
            o.push_str("\n Reservations:");
            if res.nano_cpus > 0 {
                let _ = write!(o, "\n  CPU:\t\t{}", cpus(res.nano_cpus));
            }
            if res.memory_bytes != 0 {
                let _ = write!(o, "\n  Memory:\t{}", bytes_size(res.memory_bytes as f64));
            }
        }
        if let Some(l) = r
            .limits
            .as_ref()
            .filter(|x| x.nano_cpus > 0 || x.memory_bytes > 0 || pids > 0)
        {
            o.push_str("\n Limits:");
            if l.nano_cpus > 0 {
                let _ = write!(o, "\n  CPU:\t\t{}", cpus(l.nano_cpus));
            }
            if l.memory_bytes != 0 {
                let _ = write!(o, "\n  Memory:\t{}", bytes_size(l.memory_bytes as f64));
            }
        }
    }
    if pids > 0 {
        let _ = write!(o, "\n  PIDs:\t\t{pids}");
    }
    if !task.networks.is_empty() {
        o.push_str("\nNetworks:");
        for n in &task.networks {
            let _ = write!(o, " {}", network_names.get(&n.target).unwrap_or(&n.target));
        }
        o.push(' ');
    }
    let _ = write!(
        o,
        "\nEndpoint Mode:\t{}",
        spec.endpoint_spec
            .as_ref()
            .map(|e| e.mode.as_str())
            .unwrap_or_default()
    );
    if !svc.endpoint.ports.is_empty() {
        o.push_str("\nPorts:");
        for p in &svc.endpoint.ports {
            let _ = write!(
                o,
                "\n PublishedPort = {}\n  Protocol = {}\n  TargetPort = {}\n  PublishMode = {}",
                p.published_port, p.protocol, p.target_port, p.publish_mode
            );
        }
        o.push(' ');
    }
    if let Some(h) = x("Healthcheck").filter(|h| !h.is_null()) {
        let _ = write!(
            o,
            "\n Healthcheck:\n  Interval = {}\n  Retries = {}\n  StartPeriod =\t{}\n  Timeout =\t{}",
            go_duration(nanos(h.get("Interval"))),
            nanos(h.get("Retries")),
            go_duration(nanos(h.get("StartPeriod"))),
            go_duration(nanos(h.get("Timeout")))
        );
        let tests: Vec<String> = h
            .get("Test")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|v| s(Some(v))).collect())
            .unwrap_or_default();
        if !tests.is_empty() {
            o.push_str("\n  Tests:");
            for t in tests {
                let _ = write!(o, "\n\t Test = {t}");
            }
            o.push(' ');
        }
    }
    o.push('\n');
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_matches_docker_golden() {
        let svc: Service = serde_json::from_value(serde_json::json!({
            "ID": "de179gar9d0o7ltdybungplod",
            "CreatedAt": "2016-01-01T00:00:00Z", "UpdatedAt": "2016-01-01T00:00:00Z",
            "Spec": {
                "Name": "my_service", "Labels": {"com.label": "foo"},
                "TaskTemplate": {
                    "ContainerSpec": {
                        "Image": "foo/bar@sha256:this_is_a_test",
                        "Configs": [{"ConfigID": "mtc3i44r1awdoziy2iceg73z8", "ConfigName": "configtest.conf", "File": {"Name": "/configtest.conf"}}],
                        "Secrets": [{"SecretID": "3hv39ehbbb4hdozo7spod9ftn", "SecretName": "secrettest.conf", "File": {"Name": "/secrettest.conf"}}],
                        "Healthcheck": {"Test": ["CMD-SHELL", "curl"], "Interval": 4, "Retries": 3, "StartPeriod": 2, "Timeout": 1}
                    },
                    "Resources": {"Limits": {"NanoCPUs": 100000000000i64, "MemoryBytes": 10485760, "Pids": 20}},
                    "Networks": [{"Target": "5vpyomhb6ievnk0i0o60gcnei", "Aliases": ["web"]}],
                    "LogDriver": {"Name": "driver", "Options": {"max-file": "5"}},
                    "ForceUpdate": 0
                },
                "Mode": {"Replicated": {"Replicas": 2}},
                "EndpointSpec": {"Mode": "vip"}
            },
            "Endpoint": {"Ports": [{"Protocol": "tcp", "TargetPort": 5000, "PublishedPort": 30000}]}
        }))
        .expect("service");
        let mut names = HashMap::new();
        names.insert(
            "5vpyomhb6ievnk0i0o60gcnei".to_string(),
            "mynetwork".to_string(),
        );
        let now = chrono::Utc::now();
        let got = pretty(&svc, &names, now) + "\n";
        let golden = "\nID:\t\tde179gar9d0o7ltdybungplod\nName:\t\tmy_service\nLabels:\n com.label=foo\nService Mode:\tReplicated\n Replicas:\t2\nPlacement:\nContainerSpec:\n Image:\t\tfoo/bar@sha256:this_is_a_test\nConfigs:\n Target:\t/configtest.conf\n  Source:\tconfigtest.conf\nSecrets:\n Target:\t/secrettest.conf\n  Source:\tsecrettest.conf\nLog Driver:\n Name:\t\tdriver\n LogOpts:\n  max-file:       5\n\nResources:\n Limits:\n  CPU:\t\t100\n  Memory:\t10MiB\n  PIDs:\t\t20\nNetworks: mynetwork \nEndpoint Mode:\tvip\nPorts:\n PublishedPort = 30000\n  Protocol = tcp\n  TargetPort = 5000\n  PublishMode =  \n Healthcheck:\n  Interval = 4ns\n  Retries = 3\n  StartPeriod =\t2ns\n  Timeout =\t1ns\n  Tests:\n\t Test = CMD-SHELL\n\t Test = curl \n\n";
        assert_eq!(got, golden);
    }
}

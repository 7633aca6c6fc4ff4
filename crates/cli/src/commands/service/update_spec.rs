//! `service update` flags applied to the spec read from the daemon
//! (docker's `updateService`).

use rswarm_types::{
    ContainerSpec, Driver, NetworkAttachmentConfig, PlacementPreference, PortConfig, ServiceSpec,
};

use super::UpdateArgs;
use super::spec::{UpdateFlags, apply_restart, placement_pref, publish_all, shell_words};
use crate::error::{CliError, Result};
use crate::opts::kv_map;

/// True when any flag other than `--rollback`, `-d` and `-q` was given.
pub fn other_than_rollback(a: &UpdateArgs) -> bool {
    let mut probe = a.clone();
    probe.rollback = false;
    probe.flags.detach = false;
    probe.flags.quiet = false;
    let blank = UpdateArgs {
        service: a.service.clone(),
        ..Default::default()
    };
    probe != blank
}

fn env_key(v: &str) -> &str {
    v.split_once('=').map_or(v, |(k, _)| k)
}

fn port_key(p: &PortConfig) -> String {
    format!(
        "{}/{}",
        p.target_port,
        if p.protocol.is_empty() {
            "tcp"
        } else {
            &p.protocol
        }
    )
}

/// docker's `updateDNSConfig` for one list: `add` appended, duplicates
/// and `rm` dropped, sorted.
fn add_rm_sorted(cur: &[String], add: &[String], rm: &[String]) -> Vec<String> {
    let mut out: Vec<String> = cur
        .iter()
        .chain(add)
        .filter(|v| !rm.contains(v))
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Applies `service update` flags to the spec read from the daemon
/// (docker's `updateService`; network IDs already resolved in
/// `net_add`).
pub fn apply_update(spec: &mut ServiceSpec, a: &UpdateArgs, net_add: &[String]) -> Result<()> {
    let f = &a.flags;
    for k in &a.label_rm {
        spec.labels.remove(k);
    }
    spec.labels.extend(kv_map(&a.label_add));
    let task = &mut spec.task_template;
    let c = task
        .container_spec
        .get_or_insert_with(ContainerSpec::default);
    for k in &a.container_label_rm {
        c.labels.remove(k);
    }
    c.labels.extend(kv_map(&a.container_label_add));
    if let Some(i) = &a.image {
        c.image = i.clone();
    }
    if let Some(args) = &a.args {
        c.args = shell_words(args)?;
    }
    if let Some(e) = &f.entrypoint {
        c.command = shell_words(e)?;
    }
    if !a.env_rm.is_empty() || !a.env_add.is_empty() {
        c.env.retain(|e| !a.env_rm.iter().any(|k| k == env_key(e)));
        for add in &a.env_add {
            match c.env.iter_mut().find(|e| env_key(e) == env_key(add)) {
                Some(slot) => *slot = add.clone(),
                None => c.env.push(add.clone()),
            }
        }
    }
    let dns_flags = [
        &a.dns_add,
        &a.dns_rm,
        &a.dns_search_add,
        &a.dns_search_rm,
        &a.dns_option_add,
        &a.dns_option_rm,
    ];
    if dns_flags.iter().any(|v| !v.is_empty()) {
        let d = c.dns_config.get_or_insert_with(Default::default);
        d.nameservers = add_rm_sorted(&d.nameservers, &a.dns_add, &a.dns_rm);
        d.search = add_rm_sorted(&d.search, &a.dns_search_add, &a.dns_search_rm);
        d.options = add_rm_sorted(&d.options, &a.dns_option_add, &a.dns_option_rm);
    }
    if let Some(w) = &f.workdir {
        c.dir = w.clone();
    }
    if let Some(u) = &f.user {
        c.user = u.clone();
    }
    if let Some(h) = &f.hostname {
        c.hostname = h.clone();
    }
    if let Some(b) = f.init {
        c.init = Some(b);
    }
    if let Some(g) = f.stop_grace_period {
        c.stop_grace_period = Some(g);
    }
    if let Some(t) = f.tty {
        c.tty = t;
    }
    if let Some(b) = f.read_only {
        c.read_only = b;
    }
    if let Some(s) = &f.stop_signal {
        c.stop_signal = s.clone();
    }
    if f.limit_cpu.is_some() || f.limit_memory.is_some() || f.limit_pids.is_some() {
        let res = task.resources.get_or_insert_with(Default::default);
        let l = res.limits.get_or_insert_with(Default::default);
        if let Some(v) = f.limit_cpu {
            l.nano_cpus = v;
        }
        if let Some(v) = f.limit_memory {
            l.memory_bytes = v;
        }
        if let Some(v) = f.limit_pids {
            l.pids = v;
        }
        res.reservations.get_or_insert_with(Default::default);
    }
    if f.reserve_cpu.is_some() || f.reserve_memory.is_some() {
        let res = task.resources.get_or_insert_with(Default::default);
        res.limits.get_or_insert_with(Default::default);
        let r = res.reservations.get_or_insert_with(Default::default);
        if let Some(v) = f.reserve_cpu {
            r.nano_cpus = v;
        }
        if let Some(v) = f.reserve_memory {
            r.memory_bytes = v;
        }
    }
    task.restart_policy = apply_restart(f, task.restart_policy.take())?;
    if !a.constraint_add.is_empty() || !a.constraint_rm.is_empty() {
        let p = task.placement.get_or_insert_with(Default::default);
        p.constraints.extend(a.constraint_add.iter().cloned());
        p.constraints.retain(|c| !a.constraint_rm.contains(c));
        p.constraints.sort();
    }
    if !a.placement_pref_add.is_empty() || !a.placement_pref_rm.is_empty() {
        let p = task.placement.get_or_insert_with(Default::default);
        let rm: Vec<PlacementPreference> = a
            .placement_pref_rm
            .iter()
            .map(|v| placement_pref(v))
            .collect::<Result<_>>()?;
        p.preferences.retain(|e| !rm.contains(e));
        for add in &a.placement_pref_add {
            p.preferences.push(placement_pref(add)?);
        }
    }
    if !net_add.is_empty() || !a.network_rm.is_empty() {
        task.networks.retain(|n| !a.network_rm.contains(&n.target));
        for id in net_add {
            if task.networks.iter().any(|n| &n.target == id) {
                return Err(CliError::msg(format!(
                    "service is already attached to network {id}"
                )));
            }
            task.networks.push(NetworkAttachmentConfig {
                target: id.clone(),
                ..Default::default()
            });
        }
        task.networks.sort_by(|x, y| x.target.cmp(&y.target));
    }
    if let Some(r) = f.replicas {
        match spec.mode.replicated.as_mut() {
            Some(rep) => rep.replicas = Some(r),
            None => {
                return Err(CliError::msg(
                    "replicas can only be used with replicated mode",
                ));
            }
        }
    }
    if let Some(m) = f.max_replicas {
        task.placement
            .get_or_insert_with(Default::default)
            .max_replicas = m;
    }
    spec.update_config = UpdateFlags::update(f).apply(spec.update_config.take());
    spec.rollback_config = UpdateFlags::rollback(f).apply(spec.rollback_config.take());
    if let Some(m) = &f.endpoint_mode {
        spec.endpoint_spec.get_or_insert_with(Default::default).mode = m.clone();
    }
    if !a.publish_add.is_empty() || !a.publish_rm.is_empty() {
        let ep = spec.endpoint_spec.get_or_insert_with(Default::default);
        let rm = publish_all(&a.publish_rm)?;
        let mut ports: Vec<PortConfig> = Vec::new();
        for p in ep.ports.drain(..) {
            let removed = rm.iter().any(|r| port_key(r) == port_key(&p));
            if !removed && !ports.iter().any(|q| port_key(q) == port_key(&p)) {
                ports.push(p);
            }
        }
        let existing: Vec<String> = ports.iter().map(port_key).collect();
        for p in publish_all(&a.publish_add)? {
            if !existing.contains(&port_key(&p)) {
                ports.push(p);
            }
        }
        ports.sort_by_key(port_key);
        ep.ports = ports;
    }
    if let Some(d) = &f.log_driver {
        task.log_driver = Some(Driver {
            name: d.clone(),
            options: kv_map(&f.log_opt),
        });
    }
    if a.force {
        task.force_update += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::service::spec::create_spec;
    use crate::commands::service::spec::tests::{create, json, update};
    use serde_json::json;

    #[test]
    fn dns_flags_add_remove_and_sort() {
        let a = create(&[
            "--dns",
            "10.0.0.9",
            "--dns",
            "10.0.0.2",
            "--dns-search",
            "b.example",
            "busybox",
        ]);
        let mut spec = create_spec(&a).expect("spec");
        let u = update(&[
            "--dns-add",
            "10.0.0.5",
            "--dns-add",
            "10.0.0.2",
            "--dns-rm",
            "10.0.0.9",
            "--dns-search-add",
            "a.example",
            "--dns-option-add",
            "ndots:2",
            "web",
        ]);
        apply_update(&mut spec, &u, &[]).expect("update");
        assert_eq!(
            json(&spec)["TaskTemplate"]["ContainerSpec"]["DNSConfig"],
            json!({"Nameservers": ["10.0.0.2", "10.0.0.5"],
                   "Search": ["a.example", "b.example"], "Options": ["ndots:2"]})
        );
        let before = json(&spec);
        apply_update(&mut spec, &update(&["--env-add", "A=1", "web"]), &[]).expect("update");
        assert_eq!(
            json(&spec)["TaskTemplate"]["ContainerSpec"]["DNSConfig"],
            before["TaskTemplate"]["ContainerSpec"]["DNSConfig"],
            "untouched without DNS flags"
        );
    }

    #[test]
    fn update_flags_modify_the_read_spec() {
        let a = create(&[
            "--replicas",
            "2",
            "-e",
            "A=1",
            "-e",
            "B=2",
            "--constraint",
            "x==1",
            "-p",
            "80:80",
            "busybox",
            "sleep",
            "1",
        ]);
        let mut spec = create_spec(&a).expect("spec");
        let u = update(&[
            "--image",
            "busybox:1.36",
            "--args",
            "sleep 200",
            "--env-add",
            "A=9",
            "--env-add",
            "C=3",
            "--env-rm",
            "B",
            "--constraint-add",
            "a==b",
            "--constraint-rm",
            "x==1",
            "--replicas",
            "4",
            "--force",
            "--label-add",
            "k=v",
            "--publish-add",
            "81:81",
            "--publish-rm",
            "80",
            "--update-delay",
            "2s",
            "web",
        ]);
        apply_update(&mut spec, &u, &[]).expect("update");
        let j = json(&spec);
        let c = &j["TaskTemplate"]["ContainerSpec"];
        assert_eq!(c["Image"], "busybox:1.36");
        assert_eq!(c["Args"], json!(["sleep", "200"]));
        assert_eq!(c["Env"], json!(["A=9", "C=3"]));
        assert_eq!(
            j["TaskTemplate"]["Placement"]["Constraints"],
            json!(["a==b"])
        );
        assert_eq!(j["TaskTemplate"]["ForceUpdate"], 1);
        assert_eq!(j["Mode"]["Replicated"]["Replicas"], 4);
        assert_eq!(j["Labels"], json!({"k": "v"}));
        assert_eq!(j["EndpointSpec"]["Ports"][0]["TargetPort"], 81);
        assert_eq!(j["EndpointSpec"]["Ports"].as_array().map(Vec::len), Some(1));
        assert_eq!(j["UpdateConfig"]["Delay"], 2_000_000_000_i64);
        assert_eq!(j["UpdateConfig"]["Monitor"], 5_000_000_000_i64);
        assert!(!other_than_rollback(&update(&["--rollback", "-d", "web"])));
        assert!(other_than_rollback(&update(&[
            "--rollback",
            "--force",
            "web"
        ])));
        let mut global = create_spec(&create(&["--mode", "global", "nginx"])).expect("spec");
        let e =
            apply_update(&mut global, &update(&["--replicas", "2", "web"]), &[]).expect_err("err");
        assert_eq!(
            e.to_string(),
            "replicas can only be used with replicated mode"
        );
    }
}

//! Flags to `ServiceSpec`, as docker's `ToService` (create) and
//! `updateService` (update) build it.

use rswarm_types::{
    ContainerSpec, Driver, EndpointSpec, ModeKind, NetworkAttachmentConfig, Placement, PortConfig, ReplicatedJob,
    ReplicatedService, ResourceRequirements, Resources, RestartCondition, RestartPolicy, ServiceMode, ServiceSpec,
    TaskSpec, UpdateConfig,
};
use serde_json::{Value, json};

use super::{CreateArgs, ServiceFlags, UpdateArgs};
use crate::client::{Client, seg};
use crate::error::{CliError, Result};
use crate::opts::{image_with_tag, kv_map};
use crate::ports::parse_publish;

const SECOND: i64 = 1_000_000_000;

fn err(s: impl Into<String>) -> CliError {
    CliError::Msg(s.into())
}

/// Splits a string into shell words (`--entrypoint`, `--args`).
pub fn shell_words(s: &str) -> Result<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => cur.push(ch),
                        None => return Err(err("EOF found when expecting closing quote")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch) => cur.push(ch),
                            None => return Err(err("EOF found after escape character")),
                        },
                        Some(ch) => cur.push(ch),
                        None => return Err(err("EOF found when expecting closing quote")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(ch) => cur.push(ch),
                    None => return Err(err("EOF found after escape character")),
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// swarmkit's default update (and rollback) config.
fn default_update_config() -> UpdateConfig {
    UpdateConfig {
        parallelism: 1,
        delay: None,
        failure_action: "pause".into(),
        monitor: Some(5 * SECOND),
        max_failure_ratio: 0.0,
        order: "stop-first".into(),
    }
}

/// swarmkit's default restart policy as the CLI fills it in.
fn default_restart_policy() -> RestartPolicy {
    RestartPolicy { condition: Some(RestartCondition::Any), delay: Some(5 * SECOND), max_attempts: Some(0), window: None }
}

fn nonzero(d: i64) -> Option<i64> {
    (d != 0).then_some(d)
}

/// The update-or-rollback flags of one kind.
struct UpdateFlags<'a> {
    parallelism: Option<u64>,
    delay: Option<i64>,
    monitor: Option<i64>,
    failure_action: &'a Option<String>,
    ratio: Option<f64>,
    order: &'a Option<String>,
}

impl UpdateFlags<'_> {
    fn update(f: &ServiceFlags) -> UpdateFlags<'_> {
        UpdateFlags {
            parallelism: f.update_parallelism,
            delay: f.update_delay,
            monitor: f.update_monitor,
            failure_action: &f.update_failure_action,
            ratio: f.update_max_failure_ratio,
            order: &f.update_order,
        }
    }

    fn rollback(f: &ServiceFlags) -> UpdateFlags<'_> {
        UpdateFlags {
            parallelism: f.rollback_parallelism,
            delay: f.rollback_delay,
            monitor: f.rollback_monitor,
            failure_action: &f.rollback_failure_action,
            ratio: f.rollback_max_failure_ratio,
            order: &f.rollback_order,
        }
    }

    fn any(&self) -> bool {
        self.parallelism.is_some()
            || self.delay.is_some()
            || self.monitor.is_some()
            || self.failure_action.is_some()
            || self.ratio.is_some()
            || self.order.is_some()
    }

    /// Applies the given flags on `base` (or the defaults); `None` when
    /// no flag of this kind was given.
    fn apply(&self, base: Option<UpdateConfig>) -> Option<UpdateConfig> {
        if !self.any() {
            return base;
        }
        let mut c = base.unwrap_or_else(default_update_config);
        if let Some(p) = self.parallelism {
            c.parallelism = p;
        }
        if let Some(d) = self.delay {
            c.delay = nonzero(d);
        }
        if let Some(m) = self.monitor {
            c.monitor = nonzero(m);
        }
        if let Some(a) = self.failure_action {
            c.failure_action = a.clone();
        }
        if let Some(r) = self.ratio {
            c.max_failure_ratio = r;
        }
        if let Some(o) = self.order {
            c.order = o.clone();
        }
        Some(c)
    }
}

fn restart_any(f: &ServiceFlags) -> bool {
    f.restart_condition.is_some() || f.restart_delay.is_some() || f.restart_max_attempts.is_some() || f.restart_window.is_some()
}

fn apply_restart(f: &ServiceFlags, base: Option<RestartPolicy>) -> Result<Option<RestartPolicy>> {
    if !restart_any(f) {
        return Ok(base);
    }
    let mut p = base.unwrap_or_else(default_restart_policy);
    if let Some(c) = &f.restart_condition {
        p.condition = Some(match c.as_str() {
            "none" => RestartCondition::None,
            "on-failure" => RestartCondition::OnFailure,
            "any" => RestartCondition::Any,
            other => return Err(err(format!("invalid RestartPolicy.Condition '{other}': must be one of none, on-failure, any"))),
        });
    }
    if let Some(d) = f.restart_delay {
        p.delay = Some(d);
    }
    if let Some(n) = f.restart_max_attempts {
        p.max_attempts = Some(n);
    }
    if let Some(w) = f.restart_window {
        p.window = Some(w);
    }
    Ok(Some(p))
}

/// `--placement-pref spread=...` into the API form.
pub fn placement_pref(value: &str) -> Result<Value> {
    let (strategy, arg) = value.split_once('=').filter(|(s, _)| !s.is_empty()).ok_or_else(|| {
        err("placement preference must be of the format \"<strategy>=<arg>\"")
    })?;
    if strategy != "spread" {
        return Err(err(format!("unsupported placement preference {strategy} (only spread is supported)")));
    }
    Ok(json!({"Spread": {"SpreadDescriptor": arg}}))
}

/// docker's `ToServiceMode`.
fn service_mode(mode: &str, f: &ServiceFlags) -> Result<ServiceMode> {
    let mut m = ServiceMode::default();
    let max_replicas = f.max_replicas.unwrap_or(0);
    match mode {
        "global" => {
            if f.replicas.is_some() {
                return Err(err("replicas can only be used with replicated or replicated-job mode"));
            }
            if max_replicas > 0 {
                return Err(err("replicas-max-per-node can only be used with replicated or replicated-job mode"));
            }
            if f.max_concurrent.is_some() {
                return Err(err("max-concurrent can only be used with replicated-job mode"));
            }
            m.global = Some(Default::default());
        }
        "replicated" => {
            if f.max_concurrent.is_some() {
                return Err(err("max-concurrent can only be used with replicated-job mode"));
            }
            m.replicated = Some(ReplicatedService { replicas: f.replicas });
        }
        "replicated-job" => {
            m.replicated_job =
                Some(ReplicatedJob { max_concurrent: f.max_concurrent.or(f.replicas), total_completions: f.replicas });
        }
        "global-job" => {
            if max_replicas > 0 {
                return Err(err("replicas-max-per-node can only be used with replicated or replicated-job mode"));
            }
            if f.max_concurrent.is_some() {
                return Err(err("max-concurrent can only be used with replicated-job mode"));
            }
            if f.replicas.is_some() {
                return Err(err("replicas can only be used with replicated or replicated-job mode"));
            }
            m.global_job = Some(Default::default());
        }
        other => return Err(err(format!("Unknown mode: {other}, only replicated and global supported"))),
    }
    Ok(m)
}

/// docker's `makeEnv`: later values of a key replace earlier ones.
fn make_env(values: &[String]) -> Vec<String> {
    let mut cur: Vec<String> = Vec::new();
    for env in values {
        let key = env.split_once('=').map_or(env.as_str(), |(k, _)| k);
        cur.retain(|c| c == env || !c.starts_with(&format!("{key}=")));
        cur.push(env.clone());
    }
    cur
}

fn publish_all(values: &[String]) -> Result<Vec<PortConfig>> {
    let mut out = Vec::new();
    for v in values {
        out.extend(parse_publish(v).map_err(|e| err(format!("invalid argument \"{v}\" for \"-p, --publish\" flag: {e}")))?);
    }
    Ok(out)
}

fn bool_extra(c: &mut ContainerSpec, key: &str, v: Option<bool>) {
    if let Some(b) = v {
        if b {
            c.extra.insert(key.into(), Value::Bool(true));
        } else {
            c.extra.remove(key);
        }
    }
}

/// The `ServiceSpec` that `service create` posts (network targets still
/// names; see [`resolve_networks`]).
pub fn create_spec(a: &CreateArgs) -> Result<ServiceSpec> {
    let f = &a.flags;
    let image = a.cmd.first().cloned().unwrap_or_default();
    let mode = service_mode(&a.mode, f)?;
    let update_config = UpdateFlags::update(f).apply(None);
    let rollback_config = UpdateFlags::rollback(f).apply(None);
    let is_job = matches!(mode.kind(), Some(ModeKind::ReplicatedJob | ModeKind::GlobalJob));
    if is_job && (update_config.is_some() || rollback_config.is_some()) {
        return Err(err("update and rollback configuration is not supported for jobs"));
    }
    let mut c = ContainerSpec {
        image: image_with_tag(&image),
        labels: kv_map(&a.container_label),
        command: f.entrypoint.as_deref().map(shell_words).transpose()?.unwrap_or_default(),
        args: a.cmd.iter().skip(1).cloned().collect(),
        hostname: f.hostname.clone().unwrap_or_default(),
        env: make_env(&a.env),
        dir: f.workdir.clone().unwrap_or_default(),
        user: f.user.clone().unwrap_or_default(),
        stop_signal: f.stop_signal.clone().unwrap_or_default(),
        tty: f.tty.unwrap_or(false),
        stop_grace_period: f.stop_grace_period,
        extra: Default::default(),
    };
    c.extra.insert("Init".into(), Value::Bool(f.init.unwrap_or(false)));
    bool_extra(&mut c, "ReadOnly", f.read_only);
    c.extra.insert("DNSConfig".into(), json!({}));
    let mut limits = Resources { nano_cpus: f.limit_cpu.unwrap_or(0), memory_bytes: f.limit_memory.unwrap_or(0), ..Default::default() };
    if let Some(p) = f.limit_pids.filter(|p| *p != 0) {
        limits.extra.insert("Pids".into(), json!(p));
    }
    let reservations =
        Resources { nano_cpus: f.reserve_cpu.unwrap_or(0), memory_bytes: f.reserve_memory.unwrap_or(0), ..Default::default() };
    let preferences = a.placement_pref.iter().map(|p| placement_pref(p)).collect::<Result<Vec<_>>>()?;
    let task = TaskSpec {
        container_spec: Some(c),
        resources: Some(ResourceRequirements { limits: Some(limits), reservations: Some(reservations) }),
        restart_policy: apply_restart(f, None)?,
        placement: Some(Placement {
            constraints: a.constraint.clone(),
            preferences,
            max_replicas: f.max_replicas.unwrap_or(0),
            platforms: Vec::new(),
        }),
        networks: a
            .network
            .iter()
            .map(|n| NetworkAttachmentConfig { target: n.clone(), aliases: Vec::new(), extra: Default::default() })
            .collect(),
        log_driver: f.log_driver.as_ref().map(|name| Driver { name: name.clone(), options: kv_map(&f.log_opt) }),
        force_update: 0,
        runtime: String::new(),
        extra: Default::default(),
    };
    Ok(ServiceSpec {
        name: a.name.clone(),
        labels: kv_map(&a.label),
        task_template: task,
        mode,
        update_config,
        rollback_config,
        endpoint_spec: Some(EndpointSpec {
            mode: f.endpoint_mode.as_deref().unwrap_or("vip").to_lowercase(),
            ports: publish_all(&a.publish)?,
        }),
        extra: Default::default(),
    })
}

/// Replaces network names in the task template with IDs
/// (`GET /networks/{name}?scope=swarm`), sorted by ID.
pub async fn resolve_networks(client: &Client, nets: &mut [NetworkAttachmentConfig]) -> Result<()> {
    for n in nets.iter_mut() {
        n.target = network_id(client, &n.target).await?;
    }
    nets.sort_by(|a, b| a.target.cmp(&b.target));
    Ok(())
}

async fn network_id(client: &Client, name: &str) -> Result<String> {
    #[derive(serde::Deserialize)]
    struct Net {
        #[serde(rename = "Id", alias = "ID", default)]
        id: String,
    }
    let n: Net = client.get(&format!("/networks/{}?scope=swarm", seg(name))).await?;
    Ok(n.id)
}

/// True when any flag other than `--rollback`, `-d` and `-q` was given.
pub fn other_than_rollback(a: &UpdateArgs) -> bool {
    let mut probe = a.clone();
    probe.rollback = false;
    probe.flags.detach = false;
    probe.flags.quiet = false;
    let blank = UpdateArgs { service: a.service.clone(), ..Default::default() };
    probe != blank
}

fn env_key(v: &str) -> &str {
    v.split_once('=').map_or(v, |(k, _)| k)
}

fn port_key(p: &PortConfig) -> String {
    format!("{}/{}", p.target_port, if p.protocol.is_empty() { "tcp" } else { &p.protocol })
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
    let c = task.container_spec.get_or_insert_with(ContainerSpec::default);
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
        c.extra.insert("Init".into(), Value::Bool(b));
    }
    if let Some(g) = f.stop_grace_period {
        c.stop_grace_period = Some(g);
    }
    if let Some(t) = f.tty {
        c.tty = t;
    }
    bool_extra(c, "ReadOnly", f.read_only);
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
            l.extra.insert("Pids".into(), json!(v));
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
        let rm: Vec<Value> = a.placement_pref_rm.iter().map(|v| placement_pref(v)).collect::<Result<_>>()?;
        p.preferences.retain(|e| !rm.contains(e));
        for add in &a.placement_pref_add {
            p.preferences.push(placement_pref(add)?);
        }
    }
    if !net_add.is_empty() || !a.network_rm.is_empty() {
        task.networks.retain(|n| !a.network_rm.contains(&n.target));
        for id in net_add {
            if task.networks.iter().any(|n| &n.target == id) {
                return Err(err(format!("service is already attached to network {id}")));
            }
            task.networks.push(NetworkAttachmentConfig { target: id.clone(), aliases: Vec::new(), extra: Default::default() });
        }
        task.networks.sort_by(|x, y| x.target.cmp(&y.target));
    }
    if let Some(r) = f.replicas {
        match spec.mode.replicated.as_mut() {
            Some(rep) => rep.replicas = Some(r),
            None => return Err(err("replicas can only be used with replicated mode")),
        }
    }
    if let Some(m) = f.max_replicas {
        task.placement.get_or_insert_with(Default::default).max_replicas = m;
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
        task.log_driver = Some(Driver { name: d.clone(), options: kv_map(&f.log_opt) });
    }
    if a.force {
        task.force_update += 1;
    }
    Ok(())
}

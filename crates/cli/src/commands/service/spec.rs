//! Flags to `ServiceSpec`, as docker's `ToService` (create) and
//! `updateService` (update) build it.

use rswarm_types::{
    ContainerSpec, DnsConfig, Driver, EndpointSpec, ModeKind, NetworkAttachmentConfig, Placement,
    PlacementPreference, PortConfig, ReplicatedJob, ReplicatedService, ResourceRequirements,
    Resources, RestartCondition, RestartPolicy, ServiceMode, ServiceSpec, SpreadOver, TaskSpec,
    UpdateConfig,
};

use super::{CreateArgs, ServiceFlags};
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
    RestartPolicy {
        condition: Some(RestartCondition::Any),
        delay: Some(5 * SECOND),
        max_attempts: Some(0),
        window: None,
    }
}

fn nonzero(d: i64) -> Option<i64> {
    (d != 0).then_some(d)
}

/// The update-or-rollback flags of one kind.
pub(super) struct UpdateFlags<'a> {
    parallelism: Option<u64>,
    delay: Option<i64>,
    monitor: Option<i64>,
    failure_action: &'a Option<String>,
    ratio: Option<f64>,
    order: &'a Option<String>,
}

impl UpdateFlags<'_> {
    pub(super) fn update(f: &ServiceFlags) -> UpdateFlags<'_> {
        UpdateFlags {
            parallelism: f.update_parallelism,
            delay: f.update_delay,
            monitor: f.update_monitor,
            failure_action: &f.update_failure_action,
            ratio: f.update_max_failure_ratio,
            order: &f.update_order,
        }
    }

    pub(super) fn rollback(f: &ServiceFlags) -> UpdateFlags<'_> {
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
    pub(super) fn apply(&self, base: Option<UpdateConfig>) -> Option<UpdateConfig> {
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
    f.restart_condition.is_some()
        || f.restart_delay.is_some()
        || f.restart_max_attempts.is_some()
        || f.restart_window.is_some()
}

pub(super) fn apply_restart(
    f: &ServiceFlags,
    base: Option<RestartPolicy>,
) -> Result<Option<RestartPolicy>> {
    if !restart_any(f) {
        return Ok(base);
    }
    let mut p = base.unwrap_or_else(default_restart_policy);
    if let Some(c) = &f.restart_condition {
        p.condition = Some(match c.as_str() {
            "none" => RestartCondition::None,
            "on-failure" => RestartCondition::OnFailure,
            "any" => RestartCondition::Any,
            other => {
                return Err(err(format!("invalid RestartCondition: \"{other}\"")));
            }
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
pub fn placement_pref(value: &str) -> Result<PlacementPreference> {
    let (strategy, arg) = value
        .split_once('=')
        .filter(|(s, _)| !s.is_empty())
        .ok_or_else(|| err("placement preference must be of the format \"<strategy>=<arg>\""))?;
    if strategy != "spread" {
        return Err(err(format!(
            "unsupported placement preference {strategy} (only spread is supported)"
        )));
    }
    Ok(PlacementPreference {
        spread: Some(SpreadOver {
            spread_descriptor: arg.to_string(),
        }),
    })
}

/// docker's `ToServiceMode`.
fn service_mode(mode: &str, f: &ServiceFlags) -> Result<ServiceMode> {
    let mut m = ServiceMode::default();
    let max_replicas = f.max_replicas.unwrap_or(0);
    match mode {
        "global" => {
            if f.replicas.is_some() {
                return Err(err(
                    "replicas can only be used with replicated or replicated-job mode",
                ));
            }
            if max_replicas > 0 {
                return Err(err(
                    "replicas-max-per-node can only be used with replicated or replicated-job mode",
                ));
            }
            if f.max_concurrent.is_some() {
                return Err(err(
                    "max-concurrent can only be used with replicated-job mode",
                ));
            }
            m.global = Some(Default::default());
        }
        "replicated" => {
            if f.max_concurrent.is_some() {
                return Err(err(
                    "max-concurrent can only be used with replicated-job mode",
                ));
            }
            m.replicated = Some(ReplicatedService {
                replicas: f.replicas,
            });
        }
        "replicated-job" => {
            m.replicated_job = Some(ReplicatedJob {
                max_concurrent: f.max_concurrent.or(f.replicas),
                total_completions: f.replicas,
            });
        }
        "global-job" => {
            if max_replicas > 0 {
                return Err(err(
                    "replicas-max-per-node can only be used with replicated or replicated-job mode",
                ));
            }
            if f.max_concurrent.is_some() {
                return Err(err(
                    "max-concurrent can only be used with replicated-job mode",
                ));
            }
            if f.replicas.is_some() {
                return Err(err(
                    "replicas can only be used with replicated or replicated-job mode",
                ));
            }
            m.global_job = Some(Default::default());
        }
        other => {
            return Err(err(format!(
                "Unknown mode: {other}, only replicated and global supported"
            )));
        }
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

pub(super) fn publish_all(values: &[String]) -> Result<Vec<PortConfig>> {
    let mut out = Vec::new();
    for v in values {
        out.extend(parse_publish(v).map_err(|e| {
            err(format!(
                "invalid argument \"{v}\" for \"-p, --publish\" flag: {e}"
            ))
        })?);
    }
    Ok(out)
}

/// The `ServiceSpec` that `service create` posts (network targets still
/// names; see [`resolve_networks`]).
pub fn create_spec(a: &CreateArgs) -> Result<ServiceSpec> {
    let f = &a.flags;
    let image = a.cmd.first().cloned().unwrap_or_default();
    let mode = service_mode(&a.mode, f)?;
    let update_config = UpdateFlags::update(f).apply(None);
    let rollback_config = UpdateFlags::rollback(f).apply(None);
    let is_job = matches!(
        mode.kind(),
        Some(ModeKind::ReplicatedJob | ModeKind::GlobalJob)
    );
    if is_job && (update_config.is_some() || rollback_config.is_some()) {
        return Err(err(
            "update and rollback configuration is not supported for jobs",
        ));
    }
    let c = ContainerSpec {
        image: image_with_tag(&image),
        labels: kv_map(&a.container_label),
        command: f
            .entrypoint
            .as_deref()
            .map(shell_words)
            .transpose()?
            .unwrap_or_default(),
        args: a.cmd.iter().skip(1).cloned().collect(),
        hostname: f.hostname.clone().unwrap_or_default(),
        env: make_env(&a.env),
        dir: f.workdir.clone().unwrap_or_default(),
        user: f.user.clone().unwrap_or_default(),
        stop_signal: f.stop_signal.clone().unwrap_or_default(),
        tty: f.tty.unwrap_or(false),
        stop_grace_period: f.stop_grace_period,
        init: Some(f.init.unwrap_or(false)),
        read_only: f.read_only.unwrap_or(false),
        dns_config: Some(DnsConfig {
            nameservers: a.dns.clone(),
            search: a.dns_search.clone(),
            options: a.dns_option.clone(),
        }),
        ..Default::default()
    };
    let limits = Resources {
        nano_cpus: f.limit_cpu.unwrap_or(0),
        memory_bytes: f.limit_memory.unwrap_or(0),
        pids: f.limit_pids.unwrap_or(0),
        ..Default::default()
    };
    let reservations = Resources {
        nano_cpus: f.reserve_cpu.unwrap_or(0),
        memory_bytes: f.reserve_memory.unwrap_or(0),
        ..Default::default()
    };
    let preferences = a
        .placement_pref
        .iter()
        .map(|p| placement_pref(p))
        .collect::<Result<Vec<_>>>()?;
    let task = TaskSpec {
        container_spec: Some(c),
        resources: Some(ResourceRequirements {
            limits: Some(limits),
            reservations: Some(reservations),
        }),
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
            .map(|n| NetworkAttachmentConfig {
                target: n.clone(),
                ..Default::default()
            })
            .collect(),
        log_driver: f.log_driver.as_ref().map(|name| Driver {
            name: name.clone(),
            options: kv_map(&f.log_opt),
        }),
        ..Default::default()
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
        networks: Vec::new(),
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
    let n: Net = client
        .get(&format!("/networks/{}?scope=swarm", seg(name)))
        .await?;
    Ok(n.id)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use clap::Parser;
    use serde_json::json;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        cmd: crate::CliCommand,
    }

    pub(in crate::commands::service) fn create(args: &[&str]) -> CreateArgs {
        let mut v = vec!["rswarm", "service", "create"];
        v.extend_from_slice(args);
        match Cli::try_parse_from(v).expect("parse").cmd {
            crate::CliCommand::Service(super::super::ServiceCmd::Create(a)) => *a,
            other => panic!("unexpected {other:?}"),
        }
    }

    pub(in crate::commands::service) fn update(args: &[&str]) -> super::super::UpdateArgs {
        let mut v = vec!["rswarm", "service", "update"];
        v.extend_from_slice(args);
        match Cli::try_parse_from(v).expect("parse").cmd {
            crate::CliCommand::Service(super::super::ServiceCmd::Update(a)) => *a,
            other => panic!("unexpected {other:?}"),
        }
    }

    pub(in crate::commands::service) fn json(spec: &ServiceSpec) -> serde_json::Value {
        serde_json::to_value(spec).expect("json")
    }

    #[test]
    fn dns_flags_fill_the_dns_config() {
        let j = json(
            &create_spec(&create(&[
                "--dns",
                " 198.18.0.254",
                "--dns",
                "2001:db8:0::53",
                "--dns-search",
                "corp.example",
                "--dns-option",
                "ndots:2",
                "busybox",
            ]))
            .expect("spec"),
        );
        assert_eq!(
            j["TaskTemplate"]["ContainerSpec"]["DNSConfig"],
            json!({"Nameservers": ["198.18.0.254", "2001:db8::53"],
                   "Search": ["corp.example"], "Options": ["ndots:2"]})
        );
        let mut v = vec![
            "rswarm",
            "service",
            "create",
            "--dns",
            "dns.example",
            "busybox",
        ];
        let e = match Cli::try_parse_from(v.drain(..)) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("a name is no --dns"),
        };
        assert!(
            e.contains("IP address is not correctly formatted: dns.example"),
            "{e}"
        );
    }

    #[test]
    fn modes_and_their_errors() {
        let j = json(&create_spec(&create(&["--mode", "global", "nginx"])).expect("spec"));
        assert_eq!(j["Mode"], json!({"Global": {}}));
        let j = json(
            &create_spec(&create(&[
                "--mode",
                "replicated-job",
                "--replicas",
                "5",
                "busybox",
            ]))
            .expect("spec"),
        );
        assert_eq!(
            j["Mode"],
            json!({"ReplicatedJob": {"MaxConcurrent": 5, "TotalCompletions": 5}})
        );
        let e = create_spec(&create(&["--mode", "global", "--replicas", "2", "nginx"]))
            .expect_err("err");
        assert_eq!(
            e.to_string(),
            "replicas can only be used with replicated or replicated-job mode"
        );
        let e = create_spec(&create(&["--mode", "bogus", "nginx"])).expect_err("err");
        assert_eq!(
            e.to_string(),
            "Unknown mode: bogus, only replicated and global supported"
        );
        let e = create_spec(&create(&[
            "--mode",
            "global-job",
            "--update-delay",
            "1s",
            "nginx",
        ]))
        .expect_err("err");
        assert_eq!(
            e.to_string(),
            "update and rollback configuration is not supported for jobs"
        );
    }

    #[test]
    fn create_flags_fill_the_spec() {
        let a = create(&[
            "--entrypoint",
            "sh -c",
            "-w",
            "/tmp",
            "-u",
            "nobody",
            "--label",
            "a=b",
            "--container-label",
            "c",
            "--constraint",
            "node.role==manager",
            "--stop-signal",
            "SIGINT",
            "--stop-grace-period",
            "3s",
            "--restart-delay",
            "1s",
            "--update-order",
            "start-first",
            "--limit-cpu",
            "0.5",
            "--reserve-memory",
            "1k",
            "--replicas-max-per-node",
            "2",
            "--placement-pref",
            "spread=node.labels.dc",
            "-e",
            "A=1",
            "-e",
            "A=2",
            "busybox",
            "echo",
            "hi",
        ]);
        let j = json(&create_spec(&a).expect("spec"));
        let c = &j["TaskTemplate"]["ContainerSpec"];
        assert_eq!(c["Command"], json!(["sh", "-c"]));
        assert_eq!(c["Args"], json!(["echo", "hi"]));
        assert_eq!(c["Dir"], "/tmp");
        assert_eq!(c["User"], "nobody");
        assert_eq!(c["Env"], json!(["A=2"]));
        assert_eq!(c["Labels"], json!({"c": ""}));
        assert_eq!(c["StopSignal"], "SIGINT");
        assert_eq!(c["StopGracePeriod"], 3_000_000_000_i64);
        assert_eq!(j["Labels"], json!({"a": "b"}));
        let t = &j["TaskTemplate"];
        assert_eq!(
            t["Placement"],
            json!({"Constraints": ["node.role==manager"], "Preferences": [{"Spread": {"SpreadDescriptor": "node.labels.dc"}}], "MaxReplicas": 2})
        );
        assert_eq!(
            t["RestartPolicy"],
            json!({"Condition": "any", "Delay": 1_000_000_000_i64, "MaxAttempts": 0})
        );
        assert_eq!(
            t["Resources"],
            json!({"Limits": {"NanoCPUs": 500_000_000}, "Reservations": {"MemoryBytes": 1024}})
        );
        assert_eq!(j["UpdateConfig"]["Order"], "start-first");
        assert_eq!(j["UpdateConfig"]["Parallelism"], 1);
        assert!(j.get("RollbackConfig").is_none());
    }

    #[test]
    fn shell_words_split_like_shlex() {
        assert_eq!(
            shell_words(r#"sh -c "echo hi" 'a b' c\ d"#).expect("words"),
            vec!["sh", "-c", "echo hi", "a b", "c d"]
        );
        assert!(shell_words("\"open").is_err());
    }
}

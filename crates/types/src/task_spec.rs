//! `TaskSpec`: what every task of a service runs, and how.
//!
//! Only the fields rswarm acts on are typed; everything else the client
//! sends is kept in `extra` so it is stored and returned unchanged.

use serde::{Deserialize, Serialize};

use crate::{Labels, Nanos};

/// Extra JSON fields kept verbatim.
pub type Extra = serde_json::Map<String, serde_json::Value>;

/// The template for a service's tasks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TaskSpec {
    /// The container (or process) to run. Never null in responses.
    #[serde(default)]
    pub container_spec: Option<ContainerSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<RestartPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<Placement>,
    #[serde(
        default,
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub networks: Vec<NetworkAttachmentConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_driver: Option<Driver>,
    /// Bumped by `service update --force` to replace tasks without a change.
    #[serde(default)]
    pub force_update: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub runtime: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// The process a task runs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerSpec {
    #[serde(default)]
    pub image: String,
    #[serde(
        default,
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Labels::is_empty"
    )]
    pub labels: Labels,
    #[serde(
        default,
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub command: Vec<String>,
    #[serde(
        default,
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub args: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hostname: String,
    #[serde(
        default,
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub env: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub dir: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stop_signal: String,
    #[serde(rename = "TTY", default, skip_serializing_if = "std::ops::Not::not")]
    pub tty: bool,
    /// Time to wait after the stop signal before killing; default 10 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_grace_period: Option<Nanos>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// CPU and memory limits and reservations.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceRequirements {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Resources>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservations: Option<Resources>,
}

/// An amount of CPU and memory.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resources {
    #[serde(rename = "NanoCPUs", default, skip_serializing_if = "is_zero_i64")]
    pub nano_cpus: i64,
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub memory_bytes: i64,
    #[serde(flatten)]
    pub extra: Extra,
}

fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}

/// When a task's exit leads to a replacement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartCondition {
    /// Never restart.
    None,
    /// Restart unless the task completed (exit 0).
    OnFailure,
    /// Always restart (a completed job task is not restarted).
    #[default]
    Any,
}

impl RestartCondition {
    /// The Engine API name.
    pub fn as_str(self) -> &'static str {
        match self {
            RestartCondition::None => "none",
            RestartCondition::OnFailure => "on-failure",
            RestartCondition::Any => "any",
        }
    }
}

/// The restart policy of a service's tasks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RestartPolicy {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_condition"
    )]
    pub condition: Option<RestartCondition>,
    /// Delay between a failure and the replacement's start; default 5 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Nanos>,
    /// 0 means unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u64>,
    /// 0 means unbounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Nanos>,
}

/// An empty condition string means "any", as in moby's conversion.
fn empty_condition<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<RestartCondition>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    match s.as_deref() {
        None | Some("") => Ok(None),
        Some("none") => Ok(Some(RestartCondition::None)),
        Some("on-failure") => Ok(Some(RestartCondition::OnFailure)),
        Some("any") => Ok(Some(RestartCondition::Any)),
        Some(other) => Err(serde::de::Error::custom(format!(
            "invalid RestartPolicy.Condition '{other}': must be one of none, on-failure, any"
        ))),
    }
}

/// Default restart delay (5 s).
pub const DEFAULT_RESTART_DELAY: Nanos = 5 * crate::SECOND;
/// Default stop grace period (10 s).
pub const DEFAULT_STOP_GRACE_PERIOD: Nanos = 10 * crate::SECOND;

impl RestartPolicy {
    /// The condition with its default applied.
    pub fn condition(&self) -> RestartCondition {
        self.condition.unwrap_or_default()
    }
    /// The delay with its default applied.
    pub fn delay(&self) -> Nanos {
        self.delay.unwrap_or(DEFAULT_RESTART_DELAY)
    }
}

/// Where tasks may run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Placement {
    #[serde(
        default,
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub constraints: Vec<String>,
    #[serde(
        default,
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub preferences: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub max_replicas: u64,
    #[serde(
        default,
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub platforms: Vec<Platform>,
}

fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}

/// An OS and architecture.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(rename = "OS", default)]
    pub os: String,
}

/// A network a task attaches to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkAttachmentConfig {
    #[serde(default)]
    pub target: String,
    #[serde(
        default,
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub aliases: Vec<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A named driver with options (log driver, IPAM driver...).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Driver {
    #[serde(default)]
    pub name: String,
    #[serde(
        default,
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Labels::is_empty"
    )]
    pub options: Labels,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_spec_keeps_unknown_fields() {
        let j = r#"{"Image":"nginx:latest","Init":false,"DNSConfig":{},"TTY":true,"Command":["sleep","1"]}"#;
        let c: ContainerSpec = serde_json::from_str(j).expect("parse");
        assert_eq!(c.image, "nginx:latest");
        assert!(c.tty);
        assert_eq!(c.command, vec!["sleep", "1"]);
        let back = serde_json::to_value(&c).expect("json");
        assert_eq!(back["Init"], false);
        assert!(back["DNSConfig"].is_object());
        assert_eq!(back["TTY"], true);
    }

    #[test]
    fn restart_condition_empty_means_any() {
        let p: RestartPolicy = serde_json::from_str(r#"{"Condition":""}"#).expect("parse");
        assert_eq!(p.condition(), RestartCondition::Any);
        let p: RestartPolicy =
            serde_json::from_str(r#"{"Condition":"on-failure","Delay":0}"#).expect("parse");
        assert_eq!(p.condition(), RestartCondition::OnFailure);
        assert_eq!(p.delay(), 0);
        let e =
            serde_json::from_str::<RestartPolicy>(r#"{"Condition":"sometimes"}"#).expect_err("bad");
        assert!(e.to_string().contains("sometimes"));
    }
}

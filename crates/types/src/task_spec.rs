//! `TaskSpec`: what every task of a service runs, and how.
//!
//! Every field of the Engine API's `swarm.TaskSpec` is typed, with
//! Docker's `omitempty` behaviour; the container part is in
//! [`crate::container`].

use serde::{Deserialize, Serialize};

use crate::{ContainerSpec, Labels, Nanos};

/// The template for a service's tasks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TaskSpec {
    /// The container (or process) to run. Never null in responses.
    #[serde(default)]
    pub container_spec: Option<ContainerSpec>,
    /// Plugin tasks (`Runtime: plugin`); stored, not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_spec: Option<PluginSpec>,
    /// Network attachment tasks (`Runtime: attachment`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_attachment_spec: Option<NetworkAttachmentSpec>,
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
}

/// A managed plugin to run (`TaskSpec.PluginSpec`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PluginSpec {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub remote: String,
    #[serde(
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub privileges: Vec<PluginPrivilege>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    #[serde(
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub env: Vec<String>,
}

/// A privilege a plugin asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PluginPrivilege {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub value: Vec<String>,
}

/// The container a network attachment task stands for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkAttachmentSpec {
    #[serde(rename = "ContainerID")]
    pub container_id: String,
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

/// An amount of CPU and memory (limits may also cap PIDs; reservations
/// may also claim generic resources, as in Docker's `Limit` and
/// `Resources`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resources {
    #[serde(
        rename = "NanoCPUs",
        default,
        skip_serializing_if = "crate::meta::is_zero"
    )]
    pub nano_cpus: i64,
    #[serde(default, skip_serializing_if = "crate::meta::is_zero")]
    pub memory_bytes: i64,
    #[serde(default, skip_serializing_if = "crate::meta::is_zero")]
    pub pids: i64,
    #[serde(
        default,
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub generic_resources: Vec<GenericResource>,
}

/// A user-defined resource (a GPU, say) reserved by a task.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GenericResource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub named_resource_spec: Option<NamedGenericResource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discrete_resource_spec: Option<DiscreteGenericResource>,
}

/// A named generic resource (`kind=value`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NamedGenericResource {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
}

/// A counted generic resource (`kind=n`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DiscreteGenericResource {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "crate::meta::is_zero")]
    pub value: i64,
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
            "invalid RestartCondition: \"{other}\""
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
    pub preferences: Vec<PlacementPreference>,
    #[serde(default, skip_serializing_if = "crate::meta::is_zero")]
    pub max_replicas: u64,
    #[serde(
        default,
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub platforms: Vec<Platform>,
}

/// A scheduling preference: spread tasks over the values of a label.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PlacementPreference {
    pub spread: Option<SpreadOver>,
}

/// The label to spread over (`node.labels.az`, `engine.labels.x`...).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SpreadOver {
    pub spread_descriptor: String,
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
    #[serde(
        default,
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Labels::is_empty"
    )]
    pub driver_opts: Labels,
}

/// A named driver with options (log driver, IPAM driver...).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Driver {
    #[serde(default, skip_serializing_if = "String::is_empty")]
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

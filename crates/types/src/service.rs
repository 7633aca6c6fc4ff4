//! Services: the desired state a user declares, and what the managers
//! record about it.

use serde::{Deserialize, Serialize};

use crate::{Labels, Meta, Nanos, NetworkAttachmentConfig, TaskSpec, Timestamp, Version};

/// A service object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Service {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(flatten)]
    pub meta: Meta,
    pub spec: ServiceSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_spec: Option<ServiceSpec>,
    #[serde(default)]
    pub endpoint: Endpoint,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_status: Option<UpdateStatus>,
    /// Only filled in list responses with `status=true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_status: Option<ServiceStatus>,
    /// Jobs only (and then required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_status: Option<JobStatus>,
    /// The store version at which `spec` was last changed by a user; tasks
    /// created from this spec carry it (internal; swarmkit's SpecVersion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_version: Option<Version>,
    /// The spec version of `previous_spec` (internal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_spec_version: Option<Version>,
}

/// What a user declares for a service.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceSpec {
    #[serde(default)]
    pub name: String,
    #[serde(default, deserialize_with = "crate::meta::nullable")]
    pub labels: Labels,
    #[serde(default)]
    pub task_template: TaskSpec,
    #[serde(default)]
    pub mode: ServiceMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_config: Option<UpdateConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_config: Option<UpdateConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_spec: Option<EndpointSpec>,
    /// Deprecated place of `TaskTemplate.Networks`; the Engine API moves it
    /// there on the way in.
    #[serde(
        default,
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub networks: Vec<NetworkAttachmentConfig>,
}

/// Exactly one of the four modes is set in a valid spec.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceMode {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicated: Option<ReplicatedService>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global: Option<EmptyObject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicated_job: Option<ReplicatedJob>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_job: Option<EmptyObject>,
}

/// `{}` in JSON.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmptyObject {}

/// Replicated mode.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicatedService {
    /// Defaults to 1 when omitted (the docker CLI omits it without `--replicas`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u64>,
}

/// Replicated-job mode.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicatedJob {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_completions: Option<u64>,
}

/// Which mode a spec has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeKind {
    /// `replicated`
    Replicated,
    /// `global`
    Global,
    /// `replicated-job`
    ReplicatedJob,
    /// `global-job`
    GlobalJob,
}

impl ModeKind {
    /// The name used by `--mode` and the `mode` filter.
    pub fn as_str(self) -> &'static str {
        match self {
            ModeKind::Replicated => "replicated",
            ModeKind::Global => "global",
            ModeKind::ReplicatedJob => "replicated-job",
            ModeKind::GlobalJob => "global-job",
        }
    }
}

impl ServiceMode {
    /// The single mode that is set, or `None` when zero or several are.
    pub fn kind(&self) -> Option<ModeKind> {
        let set = [
            (self.replicated.is_some(), ModeKind::Replicated),
            (self.global.is_some(), ModeKind::Global),
            (self.replicated_job.is_some(), ModeKind::ReplicatedJob),
            (self.global_job.is_some(), ModeKind::GlobalJob),
        ];
        let mut found = set.iter().filter(|(on, _)| *on).map(|(_, k)| *k);
        match (found.next(), found.next()) {
            (Some(k), None) => Some(k),
            _ => None,
        }
    }

    /// Replicated mode with `n` replicas.
    pub fn replicated(n: u64) -> ServiceMode {
        ServiceMode {
            replicated: Some(ReplicatedService { replicas: Some(n) }),
            ..Default::default()
        }
    }

    /// Global mode.
    pub fn global() -> ServiceMode {
        ServiceMode {
            global: Some(EmptyObject {}),
            ..Default::default()
        }
    }

    /// The replica count of a replicated service (default 1).
    pub fn replicas(&self) -> Option<u64> {
        self.replicated.as_ref().map(|r| r.replicas.unwrap_or(1))
    }
}

/// How a rolling update (or rollback) proceeds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateConfig {
    #[serde(default)]
    pub parallelism: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Nanos>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub failure_action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor: Option<Nanos>,
    #[serde(default, serialize_with = "crate::meta::go_float")]
    pub max_failure_ratio: f64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub order: String,
}

/// How a service is reached.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointSpec {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mode: String,
    #[serde(
        default,
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ports: Vec<PortConfig>,
}

/// A published port.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortConfig {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub protocol: String,
    #[serde(default)]
    pub target_port: u32,
    #[serde(default)]
    pub published_port: u32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub publish_mode: String,
}

/// The endpoint as allocated by the managers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Endpoint {
    #[serde(default)]
    pub spec: EndpointSpec,
    #[serde(
        default,
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ports: Vec<PortConfig>,
    #[serde(
        rename = "VirtualIPs",
        default,
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub virtual_ips: Vec<crate::EndpointVirtualIp>,
}

/// Progress of the last update or rollback.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateStatus {
    /// `updating`, `paused`, `completed`, `rollback_started`,
    /// `rollback_paused` or `rollback_completed`.
    #[serde(default)]
    pub state: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::meta::go_time::option"
    )]
    pub started_at: Option<Timestamp>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::meta::go_time::option"
    )]
    pub completed_at: Option<Timestamp>,
    #[serde(default)]
    pub message: String,
}

/// Task counts shown by `service ls`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceStatus {
    pub running_tasks: u64,
    pub desired_tasks: u64,
    pub completed_tasks: u64,
}

/// Job progress.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct JobStatus {
    pub job_iteration: Version,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::meta::go_time::option"
    )]
    pub last_execution: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_create_body_parses() {
        let body = r#"{"Name":"web","Labels":{},"TaskTemplate":{"ContainerSpec":{"Image":"busybox:latest","Init":false,"DNSConfig":{},"Args":["sleep","100"]},"Resources":{"Limits":{},"Reservations":{}},"Placement":{},"ForceUpdate":0},"Mode":{"Replicated":{}},"EndpointSpec":{"Mode":"vip"}}"#;
        let spec: ServiceSpec = serde_json::from_str(body).expect("parse");
        assert_eq!(spec.name, "web");
        assert_eq!(spec.mode.kind(), Some(ModeKind::Replicated));
        assert_eq!(spec.mode.replicas(), Some(1));
        let c = spec
            .task_template
            .container_spec
            .as_ref()
            .expect("container spec");
        assert_eq!(c.args, vec!["sleep", "100"]);
    }

    #[test]
    fn go_nulls_are_accepted() {
        let body = r#"{"Name":"w","Labels":null,"TaskTemplate":{"ContainerSpec":{"Image":"b","Args":null,"Env":null,"Labels":null},"Networks":null},"Mode":{"Global":{}},"EndpointSpec":{"Ports":null}}"#;
        let spec: ServiceSpec = serde_json::from_str(body).expect("nulls parse as empty");
        assert!(spec.labels.is_empty());
        assert_eq!(spec.mode.kind(), Some(ModeKind::Global));
    }

    #[test]
    fn mode_kind_requires_exactly_one() {
        let none: ServiceMode = serde_json::from_str(r#"{"Foo":{}}"#).expect("parse");
        assert_eq!(none.kind(), None);
        let two: ServiceMode =
            serde_json::from_str(r#"{"Global":{},"Replicated":{}}"#).expect("parse");
        assert_eq!(two.kind(), None);
        assert_eq!(ServiceMode::global().kind(), Some(ModeKind::Global));
    }
}

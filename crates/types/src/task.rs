//! Tasks: one scheduled unit of a service, pinned to a slot (replicated)
//! or a node (global), moving through the [`TaskState`] machine.

use serde::{Deserialize, Serialize};

use crate::{EndpointSpec, Labels, Meta, TaskSpec, TaskState, Timestamp, Version};

/// A task object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Task {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(flatten)]
    pub meta: Meta,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, deserialize_with = "crate::meta::nullable")]
    pub labels: Labels,
    pub spec: TaskSpec,
    #[serde(rename = "ServiceID", default)]
    pub service_id: String,
    /// Replicated: 1..N; replicated job: 0..N-1; global: 0.
    #[serde(default)]
    pub slot: u64,
    #[serde(rename = "NodeID", default)]
    pub node_id: String,
    pub status: TaskStatus,
    pub desired_state: TaskState,
    /// The task's addresses on its networks (given when it leaves `new`).
    #[serde(
        default,
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub networks_attachments: Vec<crate::NetworkAttachment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_iteration: Option<Version>,
    /// The service's name and labels when the task was created (internal;
    /// used for names and the `label` task filter).
    #[serde(default)]
    pub service_annotations: ServiceAnnotations,
    /// The service spec version this task was created from (internal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_version: Option<Version>,
    /// The service's endpoint spec at creation (internal; dirty check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_spec: Option<EndpointSpec>,
}

/// Name and labels of the owning service.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceAnnotations {
    #[serde(default)]
    pub name: String,
    #[serde(default, deserialize_with = "crate::meta::nullable")]
    pub labels: Labels,
}

/// The observed status of a task.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TaskStatus {
    #[serde(with = "crate::meta::go_time")]
    pub timestamp: Timestamp,
    pub state: TaskState,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub err: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_status: Option<ContainerStatus>,
    #[serde(default)]
    pub port_status: PortStatus,
}

/// The process (or container) behind a task.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerStatus {
    #[serde(
        rename = "ContainerID",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub container_id: String,
    #[serde(rename = "PID", default, skip_serializing_if = "crate::meta::is_zero")]
    pub pid: i64,
    #[serde(default, skip_serializing_if = "crate::meta::is_zero")]
    pub exit_code: i64,
}

/// Host ports a task published.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortStatus {
    #[serde(
        default,
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ports: Vec<crate::PortConfig>,
}

impl Task {
    /// Swarm's task name: `<service>.<slot>.<id>`, or `<service>.<node>.<id>`
    /// for slot 0 (global tasks).
    pub fn full_name(&self) -> String {
        let svc = &self.service_annotations.name;
        if self.slot == 0 && !self.node_id.is_empty() {
            format!("{svc}.{}.{}", self.node_id, self.id)
        } else {
            format!("{svc}.{}.{}", self.slot, self.id)
        }
    }

    /// True while the task is wanted and not yet stopped: desired running
    /// (or complete, for jobs) and observed ≤ running.
    pub fn is_active(&self) -> bool {
        self.desired_state <= TaskState::Complete && self.status.state <= TaskState::Running
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_swarm() {
        let mut t = Task {
            id: "abc".into(),
            slot: 3,
            ..Default::default()
        };
        t.service_annotations.name = "web".into();
        assert_eq!(t.full_name(), "web.3.abc");
        t.slot = 0;
        t.node_id = "n1".into();
        assert_eq!(t.full_name(), "web.n1.abc");
    }

    #[test]
    fn task_json_has_engine_api_keys() {
        let t = Task {
            id: "x".into(),
            ..Default::default()
        };
        let j = serde_json::to_value(&t).expect("json");
        for k in [
            "ID",
            "Version",
            "CreatedAt",
            "Spec",
            "ServiceID",
            "NodeID",
            "Slot",
            "Status",
            "DesiredState",
        ] {
            assert!(j.get(k).is_some(), "missing {k}: {j}");
        }
        assert_eq!(j["Status"]["State"], "new");
    }
}

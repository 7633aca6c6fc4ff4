//! Mounts of a container spec (the Engine API's `mount.Mount`).

use serde::{Deserialize, Serialize};

use crate::Labels;
use crate::task_spec::Driver;

/// A bind mount, volume, tmpfs, image or cluster volume in a task.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Mount {
    /// `bind`, `volume`, `tmpfs`, `npipe`, `cluster` or `image`.
    #[serde(rename = "Type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub source: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target: String,
    #[serde(skip_serializing_if = "crate::meta::is_zero")]
    pub read_only: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub consistency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind_options: Option<BindOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_options: Option<VolumeOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_options: Option<ImageOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmpfs_options: Option<TmpfsOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_options: Option<crate::EmptyObject>,
}

/// Options of a bind mount.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct BindOptions {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub propagation: String,
    #[serde(skip_serializing_if = "crate::meta::is_zero")]
    pub non_recursive: bool,
    #[serde(skip_serializing_if = "crate::meta::is_zero")]
    pub create_mountpoint: bool,
    #[serde(skip_serializing_if = "crate::meta::is_zero")]
    pub read_only_non_recursive: bool,
    #[serde(skip_serializing_if = "crate::meta::is_zero")]
    pub read_only_force_recursive: bool,
}

/// Options of a volume mount.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeOptions {
    #[serde(skip_serializing_if = "crate::meta::is_zero")]
    pub no_copy: bool,
    #[serde(
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Labels::is_empty"
    )]
    pub labels: Labels,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subpath: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver_config: Option<Driver>,
}

/// Options of an image mount.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageOptions {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subpath: String,
}

/// Options of a tmpfs mount.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TmpfsOptions {
    #[serde(skip_serializing_if = "crate::meta::is_zero")]
    pub size_bytes: i64,
    #[serde(skip_serializing_if = "crate::meta::is_zero")]
    pub mode: u32,
    #[serde(
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub options: Vec<Vec<String>>,
}

//! placeholder
pub mod config;
pub mod dataplane;
pub mod dns;
pub mod error;
pub mod ipam;
pub mod linux;
pub mod names;
pub mod netns;
pub mod nft;
pub mod nl;
pub mod plan;
pub mod resolv;
pub mod sysctl;
pub mod vip;

pub use config::{DataPlaneConfig, VXLAN_PORT};
pub use dataplane::{AttachRequest, Attached, Cleanup, DataPlane, Interface, TaskNetns};
pub use error::NetError;
pub use linux::LinuxDataPlane;
pub use netns::Netns;
pub use resolv::{DNS_ADDR, DnsSettings};

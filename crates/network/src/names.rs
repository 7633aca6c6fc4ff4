//! Every name the data plane gives to kernel objects, and the patterns
//! that recognise them when a crashed run's leftovers are cleaned. Nothing
//! outside these names is ever touched.
//!
//! | object | where | name |
//! |---|---|---|
//! | overlay namespace (one per network) | netns root | `ov-<vni>` |
//! | task namespace (process runtime) | netns root | `task-<task id>` |
//! | VXLAN device (UDP socket in the host namespace) | overlay namespace | `rswvx0` |
//! | macvlan on it with the gateway IP | overlay namespace | `rswov0` |
//! | task's macvlan on the VXLAN device | task namespace | `eth<N>` |
//! | egress bridge | host namespace | `rswgw0` |
//! | task's egress veth, host side | host namespace | `rswe<11 hex>` |
//! | nftables tables | host and task namespaces | `rswarm` (family ip) |
//! | the node's routing-mesh endpoint (a macvlan on the ingress VXLAN device) | host namespace | `rswing0` |
//! | the routing mesh's table | host namespace | `rswarm_mesh` (family ip) |
//! | the encrypted overlays' tunnel (TUN) | host namespace | `rswwg0` |
//! | their table | host namespace | `rswarm_secure` (family ip) |
//! | VXLAN untracked (see [`crate::underlay`]) | host namespace | `rswarm_vxlan` (family ip) |

use crate::error::NetError;

/// The macvlan with the gateway address inside an overlay namespace.
pub const OVERLAY_GATEWAY: &str = "rswov0";
/// The VXLAN device inside an overlay namespace.
pub const OVERLAY_VXLAN: &str = "rswvx0";
/// The node's egress bridge (Docker's `docker_gwbridge`).
pub const EGRESS_BRIDGE: &str = "rswgw0";
/// Our nftables table, in the host namespace and in task namespaces.
pub const NFT_TABLE: &str = "rswarm";
/// The node's endpoint on the ingress network, in the host namespace.
pub const MESH_LINK: &str = "rswing0";
/// The routing mesh's table in the host namespace.
pub const MESH_TABLE: &str = "rswarm_mesh";
/// The encrypted overlays' tunnel device, in the host namespace.
pub const SECURE_LINK: &str = "rswwg0";
/// Their table in the host namespace.
pub const SECURE_TABLE: &str = "rswarm_secure";
/// The host table that untracks the node's VXLAN packets.
pub const VXLAN_TABLE: &str = "rswarm_vxlan";

/// The namespace file of network `vni`.
pub fn overlay_netns(vni: u32) -> String {
    format!("ov-{vni}")
}

/// The namespace file of a task (process runtime).
pub fn task_netns(task_id: &str) -> String {
    format!("task-{task_id}")
}

/// The host side of a task's egress veth.
pub fn egress_port(task_id: &str) -> String {
    format!("rswe{}", hash11(task_id))
}

/// Whether a host-namespace link is one of ours.
pub fn is_host_link(name: &str) -> bool {
    name == EGRESS_BRIDGE
        || name == MESH_LINK
        || name == SECURE_LINK
        || name
            .strip_prefix("rswe")
            .is_some_and(|h| h.len() == 11 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether an nftables table is ours.
pub fn is_our_table(name: &str) -> bool {
    name.starts_with(NFT_TABLE)
}

/// Task IDs name files: letters, digits, `-`, `_`, `.`, not `.`/`..`.
pub fn check_task_id(task_id: &str) -> Result<(), NetError> {
    let ok = !task_id.is_empty()
        && task_id != "."
        && task_id != ".."
        && task_id.len() <= 128
        && task_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(NetError::InvalidTaskId(task_id.to_string()))
    }
}

/// 11 hex digits of FNV-1a over `s` (link names have 15 bytes).
fn hash11(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{:011x}", h >> 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_names_fit_and_are_recognised() {
        let p = egress_port("kq3x9s0a8d7f6g5h4j3k2l1m0");
        assert_eq!(p.len(), 15);
        assert!(is_host_link(&p));
        assert!(is_host_link(EGRESS_BRIDGE));
        assert!(is_host_link(MESH_LINK));
        assert!(is_our_table(MESH_TABLE));
        for other in [
            "rswtest_gw",
            "docker0",
            "rswe",
            "rswe0123456789z",
            "eth0",
            "rswgw1",
        ] {
            assert!(!is_host_link(other), "{other}");
        }
        assert!(is_our_table("rswarm"));
        assert!(!is_our_table("nat"));
    }

    #[test]
    fn host_sysctls_name_our_links() {
        let links: Vec<&str> = crate::sysctl::HOST_MESH
            .iter()
            .chain(crate::sysctl::HOST_SECURE)
            .filter_map(|(k, _)| k.strip_prefix("net.ipv4.conf."))
            .filter_map(|k| k.split('.').next())
            .collect();
        assert!(!links.is_empty());
        for l in links {
            assert!(l == MESH_LINK || l == SECURE_LINK, "{l}");
        }
    }

    #[test]
    fn task_ids_must_be_file_names() {
        assert!(check_task_id("abc123").is_ok());
        for bad in ["", ".", "..", "a/b", "a b"] {
            assert!(check_task_id(bad).is_err(), "{bad:?}");
        }
    }
}

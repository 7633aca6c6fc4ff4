//! The node's own VXLAN packets skip connection tracking.
//!
//! Every overlay frame a node sends or receives is one UDP packet between
//! two VTEPs on the data-path port. When the host namespace tracks
//! connections (it does once any NAT rule exists there: the egress
//! masquerade, the routing mesh, or another program's firewall), each of
//! those packets costs a conntrack lookup on both nodes, and the entries
//! mean nothing: VXLAN picks a source port per inner flow and both sides
//! send to the data-path port, so no packet is ever a "reply". The host
//! table `rswarm_vxlan` marks them untracked before conntrack sees them
//! (priority raw), in both directions, while the node carries an overlay.
//!
//! What it does not do: filter. A host firewall that admits the data-path
//! port by number keeps working; one that admits it only as "established"
//! never could, for the reason above. Encrypted overlays' VXLAN takes the
//! same path before it reaches their tunnel, and their rules match marks,
//! not connection state.

use std::net::Ipv4Addr;

use crate::names::VXLAN_TABLE;

/// The host table: `Some(vtep)` while overlays exist (untrack the data
/// path's UDP to and from `vtep`), `None` to remove it.
pub fn host_ruleset(vtep: Option<Ipv4Addr>, port: u16) -> String {
    let mut s = format!("table ip {VXLAN_TABLE}\ndelete table ip {VXLAN_TABLE}\n");
    if let Some(vtep) = vtep {
        s.push_str(&format!(
            "table ip {VXLAN_TABLE} {{\n\
             \tchain prerouting {{\n\t\ttype filter hook prerouting priority raw; policy accept;\n\
             \t\tip daddr {vtep} udp dport {port} notrack\n\t}}\n\
             \tchain output {{\n\t\ttype filter hook output priority raw; policy accept;\n\
             \t\tip saddr {vtep} udp dport {port} notrack\n\t}}\n}}\n"
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untracks_the_data_path_both_ways_and_removes_cleanly() {
        let r = host_ruleset(Some(Ipv4Addr::new(198, 18, 0, 2)), 4789);
        assert!(r.starts_with("table ip rswarm_vxlan\ndelete table ip rswarm_vxlan\n"));
        assert!(r.contains("hook prerouting priority raw"));
        assert!(r.contains("ip daddr 198.18.0.2 udp dport 4789 notrack"));
        assert!(r.contains("hook output priority raw"));
        assert!(r.contains("ip saddr 198.18.0.2 udp dport 4789 notrack"));
        let off = host_ruleset(None, 4789);
        assert_eq!(off, "table ip rswarm_vxlan\ndelete table ip rswarm_vxlan\n");
    }
}

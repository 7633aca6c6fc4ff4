//! The ingress routing mesh without IPVS, keeping the client's address
//! (`reference/networking.md` §2.2-2.3). Pure: what to program, from the
//! map.
//!
//! On every node (host namespace), for each port published in ingress
//! mode:
//!
//! - a connection to the port on any local address (`fib daddr type
//!   local`) is DNATed to the service's backends in turn (`numgen inc`),
//!   to their addresses on the ingress network and the target port, and
//!   leaves through the node's own endpoint `rswing0` on the ingress
//!   overlay; its source is left alone, so the task sees the client;
//! - connections the node makes itself (to its own address or to
//!   `127.0.0.1`) are marked and masqueraded to the node's endpoint
//!   (a backend could not answer `127.0.0.1`, nor tell which node it is);
//! - a port with no backend refuses connections at once (TCP reset, ICMP
//!   port unreachable) instead of timing out.
//!
//! In every task on the ingress network (its namespace), replies go back
//! through the node the connection came in by: a new connection arriving
//! on the ingress interface gets the sending node's mark (looked up by
//! its source MAC: every node endpoint has the MAC made from its
//! address), replies carry the connection's mark, and one routing table
//! per node sends marked packets to that node's endpoint. Packets from
//! the task's ingress address, and UDP from a published target port (an
//! unbound UDP socket has no source address yet when it is routed), go to
//! the local node's endpoint when unmarked. New connections on the
//! ingress interface are accepted on the published target ports only.
//!
//! What it does not do: pick healthy backends (the map's backends are
//! the manager's choice), keep client affinity, or IPv6.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::net::Ipv4Addr;

use rswarm_types::{MacAddr, MapIngress, NetworkMap};

use crate::names::{MESH_LINK, MESH_TABLE};

/// The connection mark of connections the node itself makes to a
/// published port (masqueraded to its endpoint).
pub const LOCAL_MARK: u32 = 0x0052_5357;

/// Rule priorities of the mesh in a task namespace.
pub const RULE_PREF_FIRST: u32 = 10_000;
/// The last priority the mesh may use.
pub const RULE_PREF_LAST: u32 = 11_999;

/// The host namespace's mesh table (replacing what was there; just
/// removing it when nothing is published).
pub fn host_ruleset(ingress: Option<&MapIngress>) -> String {
    let mut s = format!("table ip {MESH_TABLE}\ndelete table ip {MESH_TABLE}\n");
    let Some(ing) = ingress.filter(|i| !i.ports.is_empty()) else {
        return s;
    };
    let mut pre = String::new();
    let mut out = String::new();
    let mut refuse = String::new();
    for p in &ing.ports {
        let matcher = format!("fib daddr type local {} dport {}", p.protocol, p.published);
        if p.backends.is_empty() {
            let how = if p.protocol == "tcp" {
                " with tcp reset"
            } else {
                ""
            };
            let _ = writeln!(refuse, "\t\t{matcher} reject{how}");
            continue;
        }
        let to = dnat_to(&p.backends, p.target);
        let _ = writeln!(pre, "\t\t{matcher} dnat to {to}");
        let _ = writeln!(
            out,
            "\t\t{matcher} ct mark set {LOCAL_MARK:#x} dnat to {to}"
        );
    }
    let _ = write!(
        s,
        "table ip {MESH_TABLE} {{\n\
         \tchain prerouting {{\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n{pre}\t}}\n\
         \tchain output {{\n\t\ttype nat hook output priority -100; policy accept;\n{out}\t}}\n\
         \tchain postrouting {{\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n\
         \t\toifname \"{MESH_LINK}\" ct mark {LOCAL_MARK:#x} masquerade\n\t}}\n"
    );
    if !refuse.is_empty() {
        let _ = write!(
            s,
            "\tchain refuse {{\n\t\ttype filter hook input priority 0; policy accept;\n{refuse}\t}}\n\
             \tchain refuse_local {{\n\t\ttype filter hook output priority 0; policy accept;\n{refuse}\t}}\n"
        );
    }
    s.push_str("}\n");
    s
}

fn dnat_to(backends: &[Ipv4Addr], port: u16) -> String {
    if let [one] = backends {
        return format!("{one}:{port}");
    }
    let map: Vec<String> = backends
        .iter()
        .enumerate()
        .map(|(i, ip)| format!("{i} : {ip}"))
        .collect();
    format!(
        "numgen inc mod {} map {{ {} }} : {port}",
        backends.len(),
        map.join(", ")
    )
}

/// What a task on the ingress network needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskMesh {
    /// Its interface on the ingress network (`eth<N>`).
    pub iface: String,
    /// Its address there.
    pub addr: Ipv4Addr,
    /// The local node's endpoint.
    pub local: Ipv4Addr,
    /// Every node's endpoint.
    pub nodes: Vec<Ipv4Addr>,
    /// The published target ports of its service, by protocol.
    pub tcp: BTreeSet<u16>,
    pub udp: BTreeSet<u16>,
}

/// The mesh of a task on `networks` (interface order) whose endpoint on
/// the ingress network is `addr`, service `service_id`; `None` when none
/// of its networks is the ingress network.
pub fn task_mesh(map: &NetworkMap, networks: &[String], task_id: &str) -> Option<TaskMesh> {
    let (i, net, ing) = networks.iter().enumerate().find_map(|(i, id)| {
        let n = map.networks.get(id)?;
        Some((i, n, n.ingress.as_ref()?))
    })?;
    let ep = net.endpoints.iter().find(|e| e.task_id == task_id)?;
    let mut m = TaskMesh {
        iface: format!("eth{i}"),
        addr: ep.ip,
        local: ing.local,
        nodes: ing.nodes.clone(),
        tcp: BTreeSet::new(),
        udp: BTreeSet::new(),
    };
    for p in ing.ports.iter().filter(|p| p.service_id == ep.service_id) {
        match p.protocol.as_str() {
            "tcp" => m.tcp.insert(p.target),
            "udp" => m.udp.insert(p.target),
            _ => false,
        };
    }
    Some(m)
}

/// The mark (and routing table) of the node whose endpoint is `ip`.
pub fn node_mark(ip: Ipv4Addr) -> u32 {
    u32::from(ip)
}

/// The mesh's chains in the task's table.
pub fn task_chains(m: &TaskMesh) -> String {
    let mut s = String::new();
    let iface = &m.iface;
    if !m.nodes.is_empty() {
        let elements: Vec<String> = m
            .nodes
            .iter()
            .map(|ip| format!("{} : {:#x}", MacAddr::from_ip(*ip), node_mark(*ip)))
            .collect();
        let _ = write!(
            s,
            "\tmap mesh_nodes {{\n\t\ttype ether_addr : mark\n\t\telements = {{ {} }}\n\t}}\n\
             \tchain mesh_pre {{\n\t\ttype filter hook prerouting priority mangle; policy accept;\n\
             \t\tiifname \"{iface}\" ct state new ct mark set ether saddr map @mesh_nodes\n\t}}\n\
             \tchain mesh_out {{\n\t\ttype route hook output priority mangle; policy accept;\n\
             \t\tct mark != 0 meta mark set ct mark\n\t}}\n",
            elements.join(", ")
        );
    }
    let _ = write!(
        s,
        "\tchain mesh_in {{\n\t\ttype filter hook input priority 0; policy accept;\n\
         \t\tiifname \"{iface}\" ct state new {}\n\
         \t\tiifname \"{iface}\" ct state new {}\n\t}}\n",
        only("tcp", &m.tcp),
        only("udp", &m.udp),
    );
    s
}

fn only(proto: &str, ports: &BTreeSet<u16>) -> String {
    if ports.is_empty() {
        return format!("meta l4proto {proto} drop");
    }
    let list: Vec<String> = ports.iter().map(u16::to_string).collect();
    format!("{proto} dport != {{ {} }} drop", list.join(", "))
}

/// A policy-routing rule in a task namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyRule {
    pub pref: u32,
    pub selector: Selector,
    pub table: u32,
}

/// What a [`PolicyRule`] matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selector {
    /// Packets with this firewall mark.
    FwMark(u32),
    /// Packets from this address.
    From(Ipv4Addr),
    /// UDP packets from this port.
    UdpSport(u16),
}

/// The task's policy routing: per node a table with a default route to
/// its endpoint (source: the task's ingress address), and the rules
/// that pick them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyRoutes {
    pub iface: String,
    pub src: Ipv4Addr,
    /// (table, gateway).
    pub tables: Vec<(u32, Ipv4Addr)>,
    pub rules: Vec<PolicyRule>,
}

/// The policy routing of `m`.
pub fn policy_routes(m: &TaskMesh) -> PolicyRoutes {
    let mut nodes: Vec<Ipv4Addr> = m.nodes.clone();
    if !nodes.contains(&m.local) {
        nodes.push(m.local);
    }
    let mut pref = RULE_PREF_FIRST;
    let mut rules = Vec::new();
    for ip in &nodes {
        rules.push(PolicyRule {
            pref,
            selector: Selector::FwMark(node_mark(*ip)),
            table: node_mark(*ip),
        });
        pref += 1;
    }
    let local = node_mark(m.local);
    pref = RULE_PREF_FIRST + 1_000;
    rules.push(PolicyRule {
        pref,
        selector: Selector::From(m.addr),
        table: local,
    });
    for port in &m.udp {
        pref += 1;
        rules.push(PolicyRule {
            pref,
            selector: Selector::UdpSport(*port),
            table: local,
        });
    }
    PolicyRoutes {
        iface: m.iface.clone(),
        src: m.addr,
        tables: nodes.iter().map(|ip| (node_mark(*ip), *ip)).collect(),
        rules,
    }
}

#[cfg(test)]
mod tests {
    use rswarm_types::MapPublishedPort;

    use super::*;

    fn ip(n: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, 0, 0, n)
    }

    fn ingress(backends: &[u8]) -> MapIngress {
        MapIngress {
            local: ip(2),
            nodes: vec![ip(2), ip(3)],
            ports: vec![
                MapPublishedPort {
                    service_id: "web".into(),
                    protocol: "tcp".into(),
                    published: 8080,
                    target: 80,
                    backends: backends.iter().copied().map(ip).collect(),
                },
                MapPublishedPort {
                    service_id: "dns".into(),
                    protocol: "udp".into(),
                    published: 5353,
                    target: 53,
                    backends: vec![ip(20)],
                },
            ],
        }
    }

    #[test]
    fn host_table_balances_every_local_address_and_masquerades_only_its_own() {
        let text = host_ruleset(Some(&ingress(&[11, 12])));
        assert!(text.contains(
            "\t\tfib daddr type local tcp dport 8080 dnat to numgen inc mod 2 map { 0 : 10.0.0.11, 1 : 10.0.0.12 } : 80\n"
        ));
        assert!(text.contains(
            "\t\tfib daddr type local udp dport 5353 ct mark set 0x525357 dnat to 10.0.0.20:53\n"
        ));
        assert!(text.contains("oifname \"rswing0\" ct mark 0x525357 masquerade"));
        assert!(!text.contains("reject"));
    }

    #[test]
    fn a_port_without_backends_is_refused_and_nothing_published_removes_the_table() {
        let text = host_ruleset(Some(&ingress(&[])));
        assert!(text.contains("fib daddr type local tcp dport 8080 reject with tcp reset"));
        assert!(!text.contains("tcp dport 8080 dnat"));
        let gone = "table ip rswarm_mesh\ndelete table ip rswarm_mesh\n";
        assert_eq!(host_ruleset(None), gone);
        let mut none = ingress(&[]);
        none.ports.clear();
        assert_eq!(host_ruleset(Some(&none)), gone);
    }

    #[test]
    fn a_task_marks_by_node_mac_and_routes_replies_back_per_node() {
        let m = TaskMesh {
            iface: "eth0".into(),
            addr: ip(11),
            local: ip(2),
            nodes: vec![ip(2), ip(3)],
            tcp: [80].into(),
            udp: BTreeSet::new(),
        };
        let chains = task_chains(&m);
        assert!(chains.contains(
            "elements = { 02:42:0a:00:00:02 : 0xa000002, 02:42:0a:00:00:03 : 0xa000003 }"
        ));
        assert!(chains.contains("iifname \"eth0\" ct state new tcp dport != { 80 } drop"));
        assert!(chains.contains("iifname \"eth0\" ct state new meta l4proto udp drop"));
        let r = policy_routes(&m);
        assert_eq!(r.tables, vec![(0x0a00_0002, ip(2)), (0x0a00_0003, ip(3))]);
        assert_eq!(
            r.rules
                .iter()
                .map(|r| (r.pref, r.selector, r.table))
                .collect::<Vec<_>>(),
            vec![
                (10_000, Selector::FwMark(0x0a00_0002), 0x0a00_0002),
                (10_001, Selector::FwMark(0x0a00_0003), 0x0a00_0003),
                (11_000, Selector::From(ip(11)), 0x0a00_0002),
            ]
        );
    }
}

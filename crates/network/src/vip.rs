//! Service VIPs without IPVS: one nftables table per task namespace that
//! DNATs each VIP of the task's networks to its backends in turn
//! (`numgen inc`), in the output hook, so the backend sees the caller's
//! own address. A VIP without backends refuses connections at once
//! instead of timing out. The whole table is rewritten in one transaction
//! whenever its text changes.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::net::Ipv4Addr;

use rswarm_types::{NetworkMap, ResolutionMode};

use crate::mesh::TaskMesh;
use crate::names::NFT_TABLE;

/// One VIP and where its connections go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VipRule {
    pub vip: Ipv4Addr,
    pub backends: Vec<Ipv4Addr>,
}

/// The VIPs a task on `networks` can reach (vip-mode services with a VIP;
/// the first service listed for a VIP wins; backends deduplicated in map
/// order).
pub fn vips(map: &NetworkMap, networks: &[String]) -> Vec<VipRule> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for n in networks.iter().filter_map(|id| map.networks.get(id)) {
        for s in &n.services {
            let (ResolutionMode::Vip, Some(vip)) = (s.mode, s.vip) else {
                continue;
            };
            if !seen.insert(vip) {
                continue;
            }
            let mut b = BTreeSet::new();
            let backends = s
                .backends
                .iter()
                .copied()
                .filter(|ip| b.insert(*ip))
                .collect();
            out.push(VipRule { vip, backends });
        }
    }
    out
}

/// The nft script that replaces the task's table with one for `rules`
/// and the routing mesh's chains when the task is on the ingress network
/// (or just removes it when there is neither).
pub fn ruleset(rules: &[VipRule], mesh: Option<&TaskMesh>) -> String {
    let mut s = format!("table ip {NFT_TABLE}\ndelete table ip {NFT_TABLE}\n");
    if rules.is_empty() && mesh.is_none() {
        return s;
    }
    let _ = writeln!(s, "table ip {NFT_TABLE} {{");
    if let Some(m) = mesh {
        s.push_str(&crate::mesh::task_chains(m));
    }
    if rules.is_empty() {
        s.push_str("}\n");
        return s;
    }
    s.push_str("\tchain vip_nat {\n\t\ttype nat hook output priority -100; policy accept;\n");
    for r in rules.iter().filter(|r| !r.backends.is_empty()) {
        let map: Vec<String> = r
            .backends
            .iter()
            .enumerate()
            .map(|(i, ip)| format!("{i} : {ip}"))
            .collect();
        let _ = writeln!(
            s,
            "\t\tip daddr {} dnat to numgen inc mod {} map {{ {} }}",
            r.vip,
            r.backends.len(),
            map.join(", ")
        );
    }
    s.push_str("\t}\n");
    let empty: Vec<String> = rules
        .iter()
        .filter(|r| r.backends.is_empty())
        .map(|r| r.vip.to_string())
        .collect();
    if !empty.is_empty() {
        s.push_str(
            "\tchain vip_filter {\n\t\ttype filter hook output priority 0; policy accept;\n",
        );
        let _ = writeln!(s, "\t\tip daddr {{ {} }} reject", empty.join(", "));
        s.push_str("\t}\n");
    }
    s.push_str("}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::{MapNetwork, MapService};

    fn ip(n: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, 0, 1, n)
    }

    fn svc(name: &str, mode: ResolutionMode, vip: Option<u8>, backends: &[u8]) -> MapService {
        MapService {
            id: name.into(),
            name: name.into(),
            aliases: vec![],
            mode,
            vip: vip.map(ip),
            backends: backends.iter().copied().map(ip).collect(),
        }
    }

    fn map() -> NetworkMap {
        let mut m = NetworkMap::default();
        let mut a = MapNetwork {
            id: "a".into(),
            name: "a".into(),
            vni: 4096,
            subnet: "10.0.1.0/24".parse().expect("cidr"),
            gateway: ip(1),
            mtu: 1450,
            internal: false,
            endpoints: vec![],
            services: vec![],
            ingress: None,
            encryption: None,
        };
        a.services = vec![
            svc("web", ResolutionMode::Vip, Some(2), &[11, 12, 11]),
            svc("db", ResolutionMode::Dnsrr, None, &[13]),
            svc("idle", ResolutionMode::Vip, Some(3), &[]),
        ];
        let mut b = a.clone();
        b.id = "b".into();
        b.services = vec![svc("other", ResolutionMode::Vip, Some(9), &[20])];
        m.networks.insert("a".into(), a);
        m.networks.insert("b".into(), b);
        m
    }

    #[test]
    fn a_task_gets_the_vips_of_its_networks_only() {
        let v = vips(&map(), &["a".to_string()]);
        assert_eq!(
            v,
            vec![
                VipRule {
                    vip: ip(2),
                    backends: vec![ip(11), ip(12)]
                },
                VipRule {
                    vip: ip(3),
                    backends: vec![]
                },
            ]
        );
    }

    #[test]
    fn ruleset_balances_with_numgen_and_refuses_empty_vips() {
        let text = ruleset(&vips(&map(), &["a".to_string()]), None);
        let want = "table ip rswarm\ndelete table ip rswarm\ntable ip rswarm {\n\
\tchain vip_nat {\n\t\ttype nat hook output priority -100; policy accept;\n\
\t\tip daddr 10.0.1.2 dnat to numgen inc mod 2 map { 0 : 10.0.1.11, 1 : 10.0.1.12 }\n\t}\n\
\tchain vip_filter {\n\t\ttype filter hook output priority 0; policy accept;\n\
\t\tip daddr { 10.0.1.3 } reject\n\t}\n}\n";
        assert_eq!(text, want);
        assert_eq!(
            ruleset(&[], None),
            "table ip rswarm\ndelete table ip rswarm\n"
        );
    }
}

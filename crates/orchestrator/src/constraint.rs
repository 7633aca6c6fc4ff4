//! Placement constraints evaluated against a node (global services pick
//! their nodes with these).

use std::net::{IpAddr, SocketAddr};

use rswarm_types::Node;
use rswarm_types::validate::Constraint;

/// True when `node` satisfies every constraint expression. An expression
/// that does not parse matches no node (validation rejects those earlier).
///
/// Keys: `node.id`, `node.hostname`, `node.role`, `node.ip` (exact or
/// CIDR), `node.platform.os`, `node.platform.arch`, `node.labels.<k>`,
/// `engine.labels.<k>`. Values compare case-insensitively; a missing label
/// fails `==` and satisfies `!=`, as in Swarm.
pub fn node_matches(constraints: &[String], node: &Node) -> bool {
    constraints
        .iter()
        .all(|expr| Constraint::parse(expr).is_ok_and(|c| matches(&c, node)))
}

fn matches(c: &Constraint, node: &Node) -> bool {
    let equal = if c.key == "node.ip" {
        ip_matches(&node.status.addr, &c.value)
    } else {
        actual(&c.key, node).is_some_and(|v| v.eq_ignore_ascii_case(&c.value))
    };
    equal == c.equal
}

fn actual<'n>(key: &str, node: &'n Node) -> Option<&'n str> {
    let d = &node.description;
    match key {
        "node.id" => Some(&node.id),
        "node.hostname" => Some(&d.hostname),
        "node.role" => Some(node.role.as_str()),
        "node.platform.os" => Some(&d.platform.os),
        "node.platform.arch" => Some(&d.platform.architecture),
        _ => {
            if let Some(k) = key.strip_prefix("node.labels.") {
                node.spec.labels.get(k).map(String::as_str)
            } else if let Some(k) = key.strip_prefix("engine.labels.") {
                d.engine.labels.get(k).map(String::as_str)
            } else {
                None
            }
        }
    }
}

/// `addr` (an IP, optionally with a port) equals `value` or lies in the
/// CIDR `value`.
fn ip_matches(addr: &str, value: &str) -> bool {
    let ip = match addr.parse::<IpAddr>() {
        Ok(ip) => ip,
        Err(_) => match addr.parse::<SocketAddr>() {
            Ok(sa) => sa.ip(),
            Err(_) => return false,
        },
    };
    let Some((net, bits)) = value.split_once('/') else {
        return value.parse::<IpAddr>().is_ok_and(|v| v == ip);
    };
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if bits <= 32 => {
            prefix_eq(u32::from(a).into(), u32::from(n).into(), 32, bits)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if bits <= 128 => prefix_eq(a.into(), n.into(), 128, bits),
        _ => false,
    }
}

fn prefix_eq(a: u128, b: u128, width: u32, bits: u32) -> bool {
    let shift = width - bits;
    shift >= 128 || (a >> shift) == (b >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::NodeRole;

    fn node() -> Node {
        let mut n = Node {
            id: "n1".into(),
            role: NodeRole::Manager,
            ..Default::default()
        };
        n.description.hostname = "Host-A".into();
        n.description.platform.os = "linux".into();
        n.description.platform.architecture = "x86_64".into();
        n.spec.labels.insert("zone".into(), "East".into());
        n.description
            .engine
            .labels
            .insert("disk".into(), "ssd".into());
        n.status.addr = "10.1.2.3".into();
        n
    }

    #[test]
    fn constraint_table() {
        let n = node();
        let table = [
            ("node.id==n1", true),
            ("node.id!=n1", false),
            ("node.hostname==host-a", true),
            ("node.role==manager", true),
            ("node.role==worker", false),
            ("node.role!=worker", true),
            ("node.platform.os==Linux", true),
            ("node.platform.arch==aarch64", false),
            ("node.labels.zone==east", true),
            ("node.labels.zone!=east", false),
            ("node.labels.rack==r1", false),
            ("node.labels.rack!=r1", true),
            ("engine.labels.disk==SSD", true),
            ("engine.labels.zone==east", false),
            ("node.ip==10.1.2.3", true),
            ("node.ip==10.1.0.0/16", true),
            ("node.ip==10.2.0.0/16", false),
            ("node.ip!=10.2.0.0/16", true),
            ("node.ip==0.0.0.0/0", true),
            ("bogus", false),
        ];
        for (expr, want) in table {
            assert_eq!(node_matches(&[expr.to_string()], &n), want, "{expr}");
        }
        assert!(node_matches(&[], &n));
        let both = [
            "node.role==manager".to_string(),
            "node.labels.zone==west".to_string(),
        ];
        assert!(!node_matches(&both, &n));
    }

    #[test]
    fn ip_forms() {
        assert!(ip_matches("10.0.0.1:2377", "10.0.0.1"));
        assert!(ip_matches("fd00::1", "fd00::/8"));
        assert!(!ip_matches("fd00::1", "10.0.0.0/8"));
        assert!(!ip_matches("nonsense", "10.0.0.0/8"));
        assert!(!ip_matches("10.0.0.1", "10.0.0.0/40"));
    }
}

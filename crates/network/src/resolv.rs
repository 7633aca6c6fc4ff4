//! resolv.conf: reading the host's, writing a task's (Docker's shape:
//! `nameserver 127.0.0.11`, the host's or the task's search domains,
//! `options ndots:0` unless the task sets ndots).

use std::net::{IpAddr, SocketAddr};

/// Where the embedded DNS server answers inside every task namespace.
pub const DNS_ADDR: std::net::Ipv4Addr = std::net::Ipv4Addr::new(127, 0, 0, 11);

/// The DNS settings of a host or a task (`ContainerSpec.DNSConfig`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DnsSettings {
    /// Upstream servers for names that are not the swarm's.
    pub nameservers: Vec<IpAddr>,
    pub search: Vec<String>,
    pub options: Vec<String>,
}

impl DnsSettings {
    /// Parses resolv.conf text (unknown lines are ignored).
    pub fn parse(text: &str) -> DnsSettings {
        let mut s = DnsSettings::default();
        for line in text.lines() {
            let line = line.split(['#', ';']).next().unwrap_or("");
            let mut w = line.split_whitespace();
            match w.next() {
                Some("nameserver") => {
                    if let Some(ip) = w.next().and_then(|a| a.parse().ok()) {
                        s.nameservers.push(ip);
                    }
                }
                Some("search") | Some("domain") => s.search = w.map(str::to_string).collect(),
                Some("options") => s.options.extend(w.map(str::to_string)),
                _ => {}
            }
        }
        s
    }

    /// The host's (`/etc/resolv.conf`; empty when unreadable).
    pub fn host() -> DnsSettings {
        std::fs::read_to_string("/etc/resolv.conf")
            .map(|t| DnsSettings::parse(&t))
            .unwrap_or_default()
    }

    /// The first three servers on port 53, as resolvers use them.
    pub fn upstream(&self) -> Vec<SocketAddr> {
        self.nameservers
            .iter()
            .take(3)
            .map(|ip| SocketAddr::new(*ip, 53))
            .collect()
    }

    /// What a task uses: each of its own settings overrides the host's.
    pub fn for_task(&self, task: &DnsSettings) -> DnsSettings {
        let pick =
            |t: &Vec<String>, h: &Vec<String>| if t.is_empty() { h.clone() } else { t.clone() };
        DnsSettings {
            nameservers: if task.nameservers.is_empty() {
                self.nameservers.clone()
            } else {
                task.nameservers.clone()
            },
            search: pick(&task.search, &self.search),
            options: pick(&task.options, &self.options),
        }
    }

    /// The task's resolv.conf text.
    pub fn resolv_conf(&self) -> String {
        let mut out = String::new();
        if !self.search.is_empty() {
            out.push_str(&format!("search {}\n", self.search.join(" ")));
        }
        out.push_str(&format!("nameserver {DNS_ADDR}\n"));
        let mut options = self.options.clone();
        if !options.iter().any(|o| o.starts_with("ndots:")) {
            options.insert(0, "ndots:0".to_string());
        }
        out.push_str(&format!("options {}\n", options.join(" ")));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_file_is_read_and_task_settings_override_it() {
        let host = DnsSettings::parse(
            "# generated\nnameserver 10.255.255.53\nnameserver 1.1.1.1 # cf\nsearch corp.example\noptions edns0\n",
        );
        assert_eq!(host.upstream().len(), 2);
        assert_eq!(
            host.for_task(&DnsSettings::default()).resolv_conf(),
            "search corp.example\nnameserver 127.0.0.11\noptions ndots:0 edns0\n"
        );
        let task = DnsSettings {
            nameservers: vec!["9.9.9.9".parse().expect("ip")],
            search: vec![],
            options: vec!["ndots:2".into()],
        };
        let t = host.for_task(&task);
        assert_eq!(t.upstream(), vec!["9.9.9.9:53".parse().expect("addr")]);
        assert_eq!(
            t.resolv_conf(),
            "search corp.example\nnameserver 127.0.0.11\noptions ndots:2\n"
        );
    }
}

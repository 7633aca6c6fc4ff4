//! The playground's hosts when it runs as root: each node in a network
//! namespace of its own (`rswpg-<pid>-n<i>`, `ul0` on 198.18.0.<i+1>/24),
//! all on an underlay bridge in a namespace of its own, and a veth from
//! the playground's namespace onto it (198.18.0.254), so a published port
//! answers on every node's address from the user's shell, as on real
//! machines. (Nodes sharing one namespace would share one routing mesh
//! endpoint and egress bridge.) Everything is deleted on drop.

use std::process::Command;

use anyhow::{Context, bail};

/// This namespace's address on the underlay.
pub const HERE: &str = "198.18.0.254";

/// The namespaces and links of the hosts.
pub struct Hosts {
    prefix: String,
    count: usize,
    link: String,
}

fn ip(args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .context("running ip (iproute2)")?;
    if !out.status.success() {
        bail!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

impl Hosts {
    /// Whether hosts can be made here: root and `ip`.
    pub fn possible() -> bool {
        nix::unistd::geteuid().is_root()
            && Command::new("ip")
                .arg("-V")
                .output()
                .is_ok_and(|o| o.status.success())
    }

    /// `count` hosts on a new underlay.
    pub fn create(count: usize) -> anyhow::Result<Hosts> {
        let pid = std::process::id();
        let mut h = Hosts {
            prefix: format!("rswpg-{pid}"),
            count: 0,
            link: format!("rswpg{pid}"),
        };
        let ul = h.underlay();
        ip(&["netns", "add", &ul])?;
        ip(&["-n", &ul, "link", "set", "lo", "up"])?;
        ip(&["-n", &ul, "link", "add", "ulbr", "type", "bridge"])?;
        ip(&["-n", &ul, "link", "set", "ulbr", "up"])?;
        ip(&[
            "link", "add", &h.link, "type", "veth", "peer", "name", "up0", "netns", &ul,
        ])?;
        ip(&["-n", &ul, "link", "set", "up0", "master", "ulbr", "up"])?;
        ip(&["addr", "add", &format!("{HERE}/24"), "dev", &h.link])?;
        ip(&["link", "set", &h.link, "up"])?;
        for i in 0..count {
            let ns = h.netns(i);
            ip(&["netns", "add", &ns])?;
            h.count = i + 1;
            let port = format!("n{i}");
            ip(&[
                "link", "add", "ul0", "netns", &ns, "type", "veth", "peer", "name", &port, "netns",
                &ul,
            ])?;
            ip(&["-n", &ul, "link", "set", &port, "master", "ulbr", "up"])?;
            ip(&[
                "-n",
                &ns,
                "addr",
                "add",
                &format!("{}/24", addr(i)),
                "dev",
                "ul0",
            ])?;
            ip(&["-n", &ns, "link", "set", "ul0", "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        }
        Ok(h)
    }

    /// Host `i`'s namespace name.
    pub fn netns(&self, i: usize) -> String {
        format!("{}-n{i}", self.prefix)
    }

    fn underlay(&self) -> String {
        format!("{}-ul", self.prefix)
    }
}

/// Host `i`'s address.
pub fn addr(i: usize) -> String {
    format!("198.18.0.{}", i + 1)
}

impl Drop for Hosts {
    fn drop(&mut self) {
        let _ = ip(&["link", "del", &self.link]);
        for i in 0..self.count {
            let _ = ip(&["netns", "del", &self.netns(i)]);
        }
        let _ = ip(&["netns", "del", &self.underlay()]);
    }
}

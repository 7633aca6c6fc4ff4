//! Facts about the host the daemon runs on, for `/info` and `/version`:
//! kernel, OS name, CPU count, memory, architecture. Read from `/proc`
//! and `/etc/os-release`; a missing file gives an empty or zero value,
//! never an error.

/// What `/info` and `/version` report about the machine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostFacts {
    /// `uname -r`.
    pub kernel_version: String,
    /// `PRETTY_NAME` of `/etc/os-release`.
    pub operating_system: String,
    /// `VERSION_ID` of `/etc/os-release`.
    pub os_version: String,
    /// `uname -m` style (`x86_64`), as in `/info`.
    pub architecture: String,
    /// Go style (`amd64`), as in `/version`.
    pub go_arch: String,
    /// Usable CPUs.
    pub ncpu: usize,
    /// Total memory in bytes.
    pub mem_total: i64,
    /// `1` or `2`.
    pub cgroup_version: String,
    /// Resource controls the kernel offers to tasks.
    pub cgroups: CgroupCaps,
    /// `net.ipv4.ip_forward` is on.
    pub ipv4_forwarding: bool,
    /// `net.bridge.bridge-nf-call-iptables` is on.
    pub bridge_nf_iptables: bool,
    /// `net.bridge.bridge-nf-call-ip6tables` is on.
    pub bridge_nf_ip6tables: bool,
}

/// The cgroup controllers `/info` reports (moby's `sysinfo` booleans), so
/// the 20.10 CLI's legacy checks warn only about what is really missing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CgroupCaps {
    /// Memory limits.
    pub memory: bool,
    /// Swap limits.
    pub swap: bool,
    /// CFS quota and period.
    pub cpu_cfs: bool,
    /// CPU shares.
    pub cpu_shares: bool,
    /// cpusets.
    pub cpuset: bool,
    /// PID limits.
    pub pids: bool,
    /// `memory.oom_control` (v1 only).
    pub oom_kill_disable: bool,
}

impl CgroupCaps {
    /// From the controllers of a cgroup v2 root (`cgroup.controllers`).
    pub fn from_v2_controllers(controllers: &str) -> CgroupCaps {
        let has = |c: &str| controllers.split_whitespace().any(|x| x == c);
        CgroupCaps {
            memory: has("memory"),
            swap: has("memory"),
            cpu_cfs: has("cpu"),
            cpu_shares: has("cpu"),
            cpuset: has("cpuset"),
            pids: has("pids"),
            oom_kill_disable: false,
        }
    }

    /// From the controller hierarchies of a cgroup v1 mount at `root`.
    pub fn from_v1(root: &std::path::Path) -> CgroupCaps {
        let exists = |p: &str| root.join(p).exists();
        CgroupCaps {
            memory: exists("memory/memory.limit_in_bytes"),
            swap: exists("memory/memory.memsw.limit_in_bytes"),
            cpu_cfs: exists("cpu/cpu.cfs_quota_us"),
            cpu_shares: exists("cpu/cpu.shares"),
            cpuset: exists("cpuset/cpuset.cpus"),
            pids: exists("pids"),
            oom_kill_disable: exists("memory/memory.oom_control"),
        }
    }
}

fn sysctl_on(path: &str) -> bool {
    std::fs::read_to_string(path).is_ok_and(|v| v.trim() == "1")
}

impl HostFacts {
    /// Reads the facts of this machine.
    pub fn read() -> HostFacts {
        let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let arch = std::env::consts::ARCH;
        let v2 = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers").ok();
        HostFacts {
            kernel_version: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
            operating_system: os_release_field(&os_release, "PRETTY_NAME")
                .unwrap_or_else(|| "Linux".into()),
            os_version: os_release_field(&os_release, "VERSION_ID").unwrap_or_default(),
            architecture: arch.to_string(),
            go_arch: go_arch(arch).to_string(),
            ncpu: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            mem_total: mem_total(&meminfo),
            cgroup_version: if v2.is_some() { "2".into() } else { "1".into() },
            cgroups: match &v2 {
                Some(controllers) => CgroupCaps::from_v2_controllers(controllers),
                None => CgroupCaps::from_v1(std::path::Path::new("/sys/fs/cgroup")),
            },
            ipv4_forwarding: sysctl_on("/proc/sys/net/ipv4/ip_forward"),
            bridge_nf_iptables: sysctl_on("/proc/sys/net/bridge/bridge-nf-call-iptables"),
            bridge_nf_ip6tables: sysctl_on("/proc/sys/net/bridge/bridge-nf-call-ip6tables"),
        }
    }
}

/// One field of an os-release file, unquoted.
pub fn os_release_field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"').trim_matches('\'').to_string())
    })
}

/// `MemTotal` of `/proc/meminfo`, in bytes.
pub fn mem_total(meminfo: &str) -> i64 {
    meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<i64>()
                .ok()
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// Rust's architecture name in Go's spelling.
pub fn go_arch(rust_arch: &str) -> &str {
    match rust_arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_files() {
        let os = "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\n";
        assert_eq!(
            os_release_field(os, "PRETTY_NAME").as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(os_release_field(os, "VERSION_ID").as_deref(), Some("12"));
        assert_eq!(os_release_field(os, "ID"), None);
        assert_eq!(
            mem_total("MemTotal:       24570000 kB\nMemFree: 1 kB\n"),
            24_570_000 * 1024
        );
        assert_eq!(mem_total(""), 0);
        assert_eq!(go_arch("x86_64"), "amd64");
        let caps = CgroupCaps::from_v2_controllers("cpuset cpu io memory pids");
        assert!(caps.memory && caps.cpu_cfs && caps.cpuset && caps.pids && !caps.oom_kill_disable);
        assert_eq!(CgroupCaps::from_v2_controllers(""), CgroupCaps::default());
        let facts = HostFacts::read();
        assert!(facts.ncpu >= 1);
    }
}

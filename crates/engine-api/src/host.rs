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
}

impl HostFacts {
    /// Reads the facts of this machine.
    pub fn read() -> HostFacts {
        let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let arch = std::env::consts::ARCH;
        HostFacts {
            kernel_version: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
            operating_system: os_release_field(&os_release, "PRETTY_NAME").unwrap_or_else(|| "Linux".into()),
            os_version: os_release_field(&os_release, "VERSION_ID").unwrap_or_default(),
            architecture: arch.to_string(),
            go_arch: go_arch(arch).to_string(),
            ncpu: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            mem_total: mem_total(&meminfo),
            cgroup_version: if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
                "2".into()
            } else {
                "1".into()
            },
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
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
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
        assert_eq!(os_release_field(os, "PRETTY_NAME").as_deref(), Some("Debian GNU/Linux 12 (bookworm)"));
        assert_eq!(os_release_field(os, "VERSION_ID").as_deref(), Some("12"));
        assert_eq!(os_release_field(os, "ID"), None);
        assert_eq!(mem_total("MemTotal:       24570000 kB\nMemFree: 1 kB\n"), 24_570_000 * 1024);
        assert_eq!(mem_total(""), 0);
        assert_eq!(go_arch("x86_64"), "amd64");
        let facts = HostFacts::read();
        assert!(facts.ncpu >= 1);
    }
}

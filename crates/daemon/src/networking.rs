//! The node's data plane (`rswarm-network`): overlay networks, VIPs and
//! the embedded DNS of the tasks this node runs.
//!
//! * At daemon start, [`Networking::start`] sweeps what a crashed run left
//!   (namespaces pinned under `<data-root>/netns`, `rsw*` links, `rswarm*`
//!   nft tables, per-task files under `<data-root>/tasks/net`). When that
//!   cannot work here (not root, no nftables...), the daemon runs without
//!   a data plane and says so; tasks attached to networks are then
//!   rejected with the reason.
//! * Each activation (swarm init, join, restart of a member) builds a
//!   [`LinuxDataPlane`] whose VTEP is the node's advertised address (the
//!   address the managers put in every endpoint of this node), sweeps
//!   again (after the task processes of an earlier run are killed) and
//!   hands it to the agent.
//! * Deactivation (leave, shutdown) removes everything once the agent has
//!   stopped its tasks; daemon exit unmounts the namespace root.
//! * The daemon runs in a mount namespace of its own (a slave of the
//!   host's, see [`own_mount_namespace`]): the namespace files it pins
//!   vanish with it, even when it is killed, instead of staying mounted
//!   in the host's mount table.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::Arc;

use rswarm_network::{DataPlane, DataPlaneConfig, LinuxDataPlane};

use crate::paths::Paths;

/// Where the data plane keeps its files; present when it can run here.
#[derive(Clone, Debug)]
pub struct Networking {
    netns_root: PathBuf,
    state_dir: PathBuf,
}

impl Networking {
    /// Sweeps leftovers of an earlier run; `None` (logged) when the data
    /// plane cannot run on this host.
    pub async fn start(paths: &Paths) -> Option<Networking> {
        let n = Networking {
            netns_root: paths.netns(),
            state_dir: paths.net_state(),
        };
        match n.sweep(Ipv4Addr::UNSPECIFIED).await {
            Ok(_) => Some(n),
            Err(e) => {
                tracing::warn!(
                    "the node's data plane cannot run here ({e}); tasks attached to networks will be rejected"
                );
                n.release();
                None
            }
        }
    }

    fn config(&self, vtep: Ipv4Addr) -> DataPlaneConfig {
        let mut cfg = DataPlaneConfig::new(vtep);
        cfg.netns_root = self.netns_root.clone();
        cfg.state_dir = self.state_dir.clone();
        cfg
    }

    async fn sweep(&self, vtep: Ipv4Addr) -> Result<Arc<LinuxDataPlane>, String> {
        let dp = LinuxDataPlane::new(self.config(vtep)).map_err(|e| e.to_string())?;
        let c = dp.cleanup_leftovers().await.map_err(|e| e.to_string())?;
        if c.namespaces + c.links + c.tables > 0 {
            tracing::info!(
                "removed what an earlier run left of the data plane: {} namespaces, {} links, {} nft tables",
                c.namespaces,
                c.links,
                c.tables
            );
        }
        Ok(Arc::new(dp))
    }

    /// The data plane of a node advertising `advertise_ip`, clean; `None`
    /// (logged) when it cannot be built.
    pub async fn data_plane(&self, advertise_ip: &str) -> Option<Arc<LinuxDataPlane>> {
        let Ok(vtep) = advertise_ip.parse::<Ipv4Addr>() else {
            tracing::warn!(
                "the node's data plane needs an IPv4 advertise address (have {advertise_ip:?}); tasks attached to networks will be rejected"
            );
            return None;
        };
        match self.sweep(vtep).await {
            Ok(dp) => Some(dp),
            Err(e) => {
                tracing::warn!(
                    "the node's data plane cannot run ({e}); tasks attached to networks will be rejected"
                );
                None
            }
        }
    }

    /// Unmounts the namespace root (made a mount point of its own).
    pub fn release(&self) {
        use nix::mount::{MntFlags, umount2};
        match umount2(&self.netns_root, MntFlags::MNT_DETACH) {
            Ok(()) | Err(nix::errno::Errno::EINVAL | nix::errno::Errno::ENOENT) => {}
            Err(e) => tracing::warn!("unmounting {}: {e}", self.netns_root.display()),
        }
    }
}

/// Moves the calling process into a mount namespace of its own whose
/// mounts are slaves of the host's (host mounts still show up; ours do not
/// leak out). Must run before the process starts any thread. Does nothing
/// when it is not allowed (not root): the data plane will not run then.
pub fn own_mount_namespace() {
    use nix::mount::{MsFlags, mount};
    use nix::sched::{CloneFlags, unshare};
    if unshare(CloneFlags::CLONE_NEWNS).is_ok() {
        let _ = mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_REC | MsFlags::MS_SLAVE,
            None::<&str>,
        );
    }
}

/// Removes everything `dp` programmed (its tasks are stopped).
pub async fn remove_all(dp: &LinuxDataPlane) {
    if let Err(e) = dp.remove_all().await {
        tracing::warn!("removing the node's networks: {e}");
    }
}

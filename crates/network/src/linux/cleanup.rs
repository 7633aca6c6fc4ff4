//! The leftover sweep: every namespace file under our root, every host
//! link with one of our names, every `rswarm*` table in the host
//! namespace, the encrypted networks' policy rule and route (our priority
//! and table number), every per-task directory. Nothing else is touched.

use crate::config::DataPlaneConfig;
use crate::dataplane::Cleanup;
use crate::error::NetError;
use crate::names::is_host_link;
use crate::netns;
use crate::nft;
use crate::nl::Netlink;

/// Removes leftovers; returns what it removed.
pub async fn sweep(cfg: &DataPlaneConfig) -> Result<Cleanup, NetError> {
    let mut c = Cleanup::default();
    netns::prepare_root(&cfg.netns_root)?;
    for p in netns::list(&cfg.netns_root) {
        netns::delete(&p)?;
        c.namespaces += 1;
    }
    let nl = Netlink::open(&cfg.host).await?;
    let r = async {
        let mut n = 0;
        // Ports first, then the bridge (deleting either is enough, but a
        // port of a crashed run may have lost its bridge).
        let mut links: Vec<(u32, String)> = nl
            .links()
            .await?
            .into_iter()
            .filter(|(_, name)| is_host_link(name))
            .collect();
        links.sort_by_key(|(_, name)| std::cmp::Reverse(name.len()));
        for (i, _) in links {
            nl.del_link(i).await?;
            n += 1;
        }
        Ok::<usize, NetError>(n)
    }
    .await;
    nl.close().await;
    c.links = r?;
    c.tables = nft::delete_our_tables(&cfg.host).await?;
    // The encrypted networks' rule and route (their tunnel went with the
    // process that held it).
    super::encrypted::down(cfg, None).await?;
    if let Ok(rd) = std::fs::read_dir(&cfg.state_dir) {
        for e in rd.flatten() {
            let p = e.path();
            std::fs::remove_dir_all(&p).map_err(NetError::io(format!("remove {}", p.display())))?;
        }
    }
    Ok(c)
}

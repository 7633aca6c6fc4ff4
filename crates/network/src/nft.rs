//! nftables through the `nft` command, run inside a namespace. One call
//! is one atomic transaction. Only tables named `rswarm*` are ever
//! touched: Docker's (iptables-nft) tables live in the same namespaces.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::error::NetError;
use crate::names::is_our_table;
use crate::netns::{Netns, run_in};

/// Applies `ruleset` (nft script syntax) in `ns` as one transaction.
pub async fn apply(ns: &Netns, ruleset: String) -> Result<(), NetError> {
    let label = ns.label();
    run_in(ns, move || {
        let mut child = Command::new("nft")
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(NetError::io("run nft"))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(ruleset.as_bytes())
                .map_err(NetError::io("write to nft"))?;
        }
        let out = child
            .wait_with_output()
            .map_err(NetError::io("wait for nft"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(NetError::Nft {
                netns: label,
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            })
        }
    })
    .await
}

/// Our tables in `ns`: (family, name).
pub async fn our_tables(ns: &Netns) -> Result<Vec<(String, String)>, NetError> {
    let label = ns.label();
    let out = run_in(ns, move || {
        Command::new("nft")
            .args(["list", "tables"])
            .output()
            .map_err(NetError::io("run nft list tables"))
    })
    .await?;
    if !out.status.success() {
        return Err(NetError::Nft {
            netns: label,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(parse_tables(&String::from_utf8_lossy(&out.stdout)))
}

/// Deletes our tables in `ns`; returns how many there were.
pub async fn delete_our_tables(ns: &Netns) -> Result<usize, NetError> {
    let tables = our_tables(ns).await?;
    if tables.is_empty() {
        return Ok(0);
    }
    let script: String = tables
        .iter()
        .map(|(f, n)| format!("delete table {f} {n}\n"))
        .collect();
    apply(ns, script).await?;
    Ok(tables.len())
}

/// Picks `table FAMILY NAME` lines naming our tables.
fn parse_tables(listing: &str) -> Vec<(String, String)> {
    listing
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            match (w.next(), w.next(), w.next()) {
                (Some("table"), Some(f), Some(n)) if is_our_table(n) => {
                    Some((f.to_string(), n.to_string()))
                }
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_tables_are_picked() {
        let l = "table ip nat\ntable ip rswarm\ntable inet rswarm_mesh\ntable ip filter\ntable ip docker-dns\n";
        assert_eq!(
            parse_tables(l),
            vec![
                ("ip".to_string(), "rswarm".to_string()),
                ("inet".to_string(), "rswarm_mesh".to_string())
            ]
        );
    }
}

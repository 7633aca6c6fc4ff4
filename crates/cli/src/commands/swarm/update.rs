//! `swarm update`, `swarm join-token` and `swarm unlock-key`: read the
//! swarm, post its spec back (changed, or with rotation flags).

use std::io::Write;

use rswarm_types::SwarmSpec;

use super::{
    JoinTokenArgs, SwarmFlags, SwarmObj, UnlockKeyArgs, UpdateArgs, print_join_command,
    print_unlock_command, unlock_key_value, update_query,
};
use crate::client::Client;
use crate::commands::info;
use crate::error::{CliError, Result};
use crate::output::Output;

pub(super) async fn join_token(client: &Client, a: JoinTokenArgs, io: &mut Output) -> Result<()> {
    let worker = a.role == "worker";
    let manager = a.role == "manager";
    if !worker && !manager {
        return Err(CliError::msg(format!("unknown role {}", a.role)));
    }
    if a.rotate {
        let sw: SwarmObj = client.get("/swarm").await?;
        client
            .post(
                &update_query(sw.version.index, worker, manager, false),
                &sw.spec,
            )
            .await?;
        if !a.quiet {
            write!(io.out, "Successfully rotated {} join token.\n\n", a.role)?;
        }
    }
    let sw: SwarmObj = client.get("/swarm").await?;
    if a.quiet {
        let token = if worker {
            sw.join_tokens.worker
        } else {
            sw.join_tokens.manager
        };
        writeln!(io.out, "{token}")?;
        return Ok(());
    }
    let info = info::get(client).await?;
    print_join_command(client, &info.swarm.node_id, worker, manager, io).await
}

/// Applies `swarm update` flags to a spec (docker's `mergeSwarmSpec`).
pub fn merge_spec(spec: &mut SwarmSpec, f: &SwarmFlags, autolock: Option<bool>) {
    if let Some(n) = f.task_history_limit {
        spec.orchestration.task_history_retention_limit = Some(n);
    }
    if let Some(d) = f.dispatcher_heartbeat {
        spec.dispatcher.heartbeat_period = Some(d);
    }
    if let Some(n) = f.max_snapshots {
        spec.raft.keep_old_snapshots = Some(n);
    }
    if let Some(n) = f.snapshot_interval {
        spec.raft.snapshot_interval = n;
    }
    if let Some(b) = autolock {
        spec.encryption_config.auto_lock_managers = b;
    }
    if let Some(d) = f.cert_expiry {
        spec.ca_config.node_cert_expiry = Some(d);
    }
}

pub(super) async fn update(client: &Client, a: UpdateArgs, io: &mut Output) -> Result<()> {
    let f = &a.swarm;
    let any = a.autolock.is_some()
        || f.task_history_limit.is_some()
        || f.dispatcher_heartbeat.is_some()
        || f.cert_expiry.is_some()
        || f.max_snapshots.is_some()
        || f.snapshot_interval.is_some();
    if !any {
        writeln!(
            io.out,
            "Usage:  rswarm swarm update [OPTIONS]\n\nUpdate the swarm"
        )?;
        return Ok(());
    }
    let mut sw: SwarmObj = client.get("/swarm").await?;
    let prev = sw.spec.encryption_config.auto_lock_managers;
    merge_spec(&mut sw.spec, f, a.autolock);
    let cur = sw.spec.encryption_config.auto_lock_managers;
    client
        .post(
            &update_query(sw.version.index, false, false, false),
            &sw.spec,
        )
        .await?;
    writeln!(io.out, "Swarm updated.")?;
    if cur && !prev {
        let key = unlock_key_value(client)
            .await
            .map_err(|e| CliError::msg(format!("could not fetch unlock key: {e}")))?;
        print_unlock_command(&key, io)?;
    }
    Ok(())
}

pub(super) async fn unlock_key(client: &Client, a: UnlockKeyArgs, io: &mut Output) -> Result<()> {
    if a.rotate {
        let sw: SwarmObj = client.get("/swarm").await?;
        if !sw.spec.encryption_config.auto_lock_managers {
            return Err(CliError::msg(
                "cannot rotate because autolock is not turned on",
            ));
        }
        client
            .post(
                &update_query(sw.version.index, false, false, true),
                &sw.spec,
            )
            .await?;
        if !a.quiet {
            write!(io.out, "Successfully rotated manager unlock key.\n\n")?;
        }
    }
    let key = unlock_key_value(client).await?;
    if key.is_empty() {
        return Err(CliError::msg("no unlock key is set"));
    }
    if a.quiet {
        writeln!(io.out, "{key}")?;
        return Ok(());
    }
    print_unlock_command(&key, io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_merges_only_given_flags() {
        let mut spec = SwarmSpec::default();
        spec.fill_defaults();
        let before = spec.clone();
        let f = SwarmFlags {
            dispatcher_heartbeat: Some(10_000_000_000),
            ..Default::default()
        };
        merge_spec(&mut spec, &f, Some(true));
        assert_eq!(spec.dispatcher.heartbeat_period, Some(10_000_000_000));
        assert!(spec.encryption_config.auto_lock_managers);
        assert_eq!(spec.orchestration, before.orchestration);
        assert_eq!(spec.ca_config, before.ca_config);
    }
}

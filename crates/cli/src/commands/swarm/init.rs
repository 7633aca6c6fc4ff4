//! `swarm init` and `swarm join`.

use std::io::Write;

use serde_json::{Map, Value, json};

use super::{
    DEFAULT_LISTEN_ADDR, InitArgs, JoinArgs, SwarmFlags, availability, print_join_command,
    print_unlock_command, unlock_key_value,
};
use crate::client::Client;
use crate::commands::info;
use crate::error::{CliError, Result};
use crate::opts::parse_node_addr;
use crate::output::Output;

/// The `Spec` of `POST /swarm/init` as docker builds it: Go's zero spec
/// with only the given flags set.
pub fn init_spec(f: &SwarmFlags, autolock: bool) -> Value {
    let mut orch = Map::new();
    if let Some(n) = f.task_history_limit {
        orch.insert("TaskHistoryRetentionLimit".into(), json!(n));
    }
    let mut raft = Map::new();
    if let Some(n) = f.snapshot_interval.filter(|n| *n != 0) {
        raft.insert("SnapshotInterval".into(), json!(n));
    }
    if let Some(n) = f.max_snapshots {
        raft.insert("KeepOldSnapshots".into(), json!(n));
    }
    raft.insert("ElectionTick".into(), json!(0));
    raft.insert("HeartbeatTick".into(), json!(0));
    let mut disp = Map::new();
    if let Some(d) = f.dispatcher_heartbeat.filter(|d| *d != 0) {
        disp.insert("HeartbeatPeriod".into(), json!(d));
    }
    let mut ca = Map::new();
    if let Some(d) = f.cert_expiry.filter(|d| *d != 0) {
        ca.insert("NodeCertExpiry".into(), json!(d));
    }
    json!({
        "Labels": null,
        "Orchestration": orch,
        "Raft": raft,
        "Dispatcher": disp,
        "CAConfig": ca,
        "TaskDefaults": {},
        "EncryptionConfig": {"AutoLockManagers": autolock},
    })
}

/// The body of `POST /swarm/init`.
pub fn init_request(a: &InitArgs) -> Result<Value> {
    let listen = parse_node_addr(&a.listen_addr, DEFAULT_LISTEN_ADDR).map_err(CliError::Msg)?;
    for pool in &a.default_addr_pool {
        let ok = pool.split_once('/').is_some_and(|(ip, bits)| {
            ip.parse::<std::net::IpAddr>().is_ok() && bits.parse::<u8>().is_ok_and(|b| b <= 128)
        });
        if !ok {
            return Err(CliError::msg(format!(
                "invalid argument \"{pool}\" for \"--default-addr-pool\" flag: invalid CIDR address: {pool}"
            )));
        }
    }
    Ok(json!({
        "ListenAddr": listen,
        "AdvertiseAddr": a.advertise_addr,
        "DataPathAddr": a.data_path_addr,
        "DataPathPort": a.data_path_port,
        "ForceNewCluster": a.force_new_cluster,
        "Spec": init_spec(&a.swarm, a.autolock),
        "AutoLockManagers": a.autolock,
        "Availability": availability(&a.availability)?,
        "DefaultAddrPool": a.default_addr_pool,
        "SubnetSize": a.default_addr_pool_mask_length,
    }))
}

pub(super) async fn init(client: &Client, a: InitArgs, io: &mut Output) -> Result<()> {
    let req = init_request(&a)?;
    let node_id: String = match client.post("/swarm/init", &req).await {
        Ok(body) => serde_json::from_slice(&body).map_err(|e| CliError::Decode(e.to_string()))?,
        Err(e) => {
            let s = e.to_string();
            if s.contains("could not choose an IP address to advertise")
                || s.contains("could not find the system's IP address")
            {
                return Err(CliError::msg(format!(
                    "{s} - specify one with --advertise-addr"
                )));
            }
            return Err(e);
        }
    };
    write!(
        io.out,
        "Swarm initialized: current node ({node_id}) is now a manager.\n\n"
    )?;
    print_join_command(client, &node_id, true, false, io).await?;
    writeln!(
        io.out,
        "To add a manager to this swarm, run 'rswarm swarm join-token manager' and follow the instructions."
    )?;
    if a.autolock {
        let key = unlock_key_value(client)
            .await
            .map_err(|e| CliError::msg(format!("could not fetch unlock key: {e}")))?;
        print_unlock_command(&key, io)?;
    }
    Ok(())
}

pub(super) async fn join(client: &Client, a: JoinArgs, io: &mut Output) -> Result<()> {
    let req = json!({
        "ListenAddr": parse_node_addr(&a.listen_addr, DEFAULT_LISTEN_ADDR).map_err(CliError::Msg)?,
        "AdvertiseAddr": a.advertise_addr,
        "DataPathAddr": a.data_path_addr,
        "RemoteAddrs": [a.remote],
        "JoinToken": a.token,
        "Availability": availability(&a.availability)?,
    });
    client.post("/swarm/join", &req).await?;
    let info = info::get(client).await?;
    if info.swarm.control_available {
        writeln!(io.out, "This node joined a swarm as a manager.")?;
    } else {
        writeln!(io.out, "This node joined a swarm as a worker.")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::swarm::SwarmFlags;

    #[test]
    fn init_body_matches_docker() {
        let a = InitArgs {
            advertise_addr: "127.0.0.1".into(),
            listen_addr: DEFAULT_LISTEN_ADDR.into(),
            data_path_addr: String::new(),
            data_path_port: 0,
            force_new_cluster: false,
            autolock: false,
            availability: None,
            default_addr_pool: vec![],
            default_addr_pool_mask_length: 24,
            swarm: SwarmFlags {
                task_history_limit: Some(3),
                ..Default::default()
            },
        };
        let body = init_request(&a).expect("body");
        let docker: Value = serde_json::from_str(
            r#"{"ListenAddr":"0.0.0.0:2377","AdvertiseAddr":"127.0.0.1","DataPathAddr":"","DataPathPort":0,"ForceNewCluster":false,"Spec":{"Labels":null,"Orchestration":{"TaskHistoryRetentionLimit":3},"Raft":{"ElectionTick":0,"HeartbeatTick":0},"Dispatcher":{},"CAConfig":{},"TaskDefaults":{},"EncryptionConfig":{"AutoLockManagers":false}},"AutoLockManagers":false,"Availability":"","DefaultAddrPool":[],"SubnetSize":24}"#,
        )
        .expect("json");
        assert_eq!(body, docker);
    }
}

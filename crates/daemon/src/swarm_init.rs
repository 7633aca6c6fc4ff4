//! `swarm init`: creates the cluster identity (root CA, node certificate,
//! join tokens) and the first objects of the store.

use rswarm_engine_api::InitRequest;
use rswarm_pki::{NodeIdentity, RootCa, generate_join_token};
use rswarm_types::{
    Availability, Cluster, ControlError, JoinTokens, ManagerStatus, Node, NodeRole, NodeSpec,
    NodeState, NodeStatus,
};

use crate::node::{LocalNode, SwarmConfig};

/// The default manager port.
pub const DEFAULT_PORT: u16 = 2377;

impl LocalNode {
    /// Creates a new swarm with this node as its only manager.
    pub async fn init(
        &self,
        req: InitRequest,
        description: rswarm_types::NodeDescription,
    ) -> Result<String, ControlError> {
        if self.membership.lock().await.is_some() {
            return Err(ControlError::AlreadyInSwarm);
        }
        if req.force_new_cluster {
            return Err(ControlError::NotImplemented(
                "--force-new-cluster is not supported yet".into(),
            ));
        }
        if req.auto_lock_managers {
            return Err(ControlError::NotImplemented(
                "autolock is not supported yet".into(),
            ));
        }
        let listen_addr = with_port(if req.listen_addr.is_empty() {
            "0.0.0.0:2377"
        } else {
            &req.listen_addr
        })?;
        let advertise_addr = advertise_addr(&req.advertise_addr, &listen_addr)?;
        // Fail before writing anything when the swarm port is taken.
        drop(
            tokio::net::TcpListener::bind(&listen_addr)
                .await
                .map_err(|e| {
                    ControlError::Unavailable(format!(
                        "cannot listen on {listen_addr} for the swarm: {e}"
                    ))
                })?,
        );
        let mut spec = req.spec;
        spec.fill_defaults();
        if spec
            .ca_config
            .node_cert_expiry
            .is_some_and(|e| e < 3600 * rswarm_types::SECOND)
        {
            return Err(ControlError::invalid(
                "minimum certificate expiry time is 1h0m0s",
            ));
        }

        let now = self.clock.now();
        let node_id = rswarm_rt::new_id();
        let cluster_id = rswarm_rt::new_id();
        let internal = |e: rswarm_pki::PkiError| {
            ControlError::Internal(format!("creating the cluster CA: {e}"))
        };
        let root = RootCa::generate(now).map_err(internal)?;
        let (cert_pem, key_pem) = root
            .issue_self(&node_id, NodeRole::Manager, &cluster_id, now)
            .map_err(internal)?;
        let identity =
            NodeIdentity::from_pems(cert_pem, key_pem, root.cert_pem()).map_err(internal)?;

        let cluster = Cluster {
            id: cluster_id.clone(),
            spec,
            ca_cert_pem: root.cert_pem().to_string(),
            ca_key_pem: root.key_pem().unwrap_or_default().to_string(),
            join_tokens: JoinTokens {
                worker: generate_join_token(&root),
                manager: generate_join_token(&root),
            },
            default_addr_pool: req
                .default_addr_pool
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| vec!["10.0.0.0/8".into()]),
            subnet_size: if req.subnet_size == 0 {
                24
            } else {
                req.subnet_size
            },
            data_path_port: if req.data_path_port == 0 {
                4789
            } else {
                req.data_path_port
            },
            ..Default::default()
        };
        let ip = host_of(&advertise_addr).to_string();
        let node = Node {
            id: node_id.clone(),
            spec: NodeSpec {
                role: NodeRole::Manager,
                availability: req.availability.unwrap_or(Availability::Active),
                ..Default::default()
            },
            description,
            status: NodeStatus {
                state: NodeState::Ready,
                message: String::new(),
                addr: ip,
            },
            manager_status: Some(ManagerStatus {
                leader: true,
                reachability: "reachable".into(),
                addr: advertise_addr.clone(),
            }),
            role: NodeRole::Manager,
            ..Default::default()
        };
        identity
            .save(&self.paths.certificates())
            .map_err(internal)?;
        let store = self.open_store()?;
        rswarm_manager::ControlApi::new(store.clone(), self.clock.clone())
            .bootstrap(cluster, node)
            .await?;
        let config = SwarmConfig {
            node_id: node_id.clone(),
            cluster_id,
            role: NodeRole::Manager,
            advertise_addr,
            listen_addr,
            managers: Vec::new(),
        };
        self.activate(config, identity, Some(store)).await?;
        Ok(node_id)
    }
}

/// `ip` → `ip:2377`; `ip:port` stays.
pub(crate) fn with_port(addr: &str) -> Result<String, ControlError> {
    let addr = addr.trim();
    if addr.is_empty() {
        return Err(ControlError::invalid("empty address"));
    }
    if addr.parse::<std::net::SocketAddr>().is_ok() {
        return Ok(addr.to_string());
    }
    if let Ok(ip) = addr.parse::<std::net::IpAddr>() {
        return Ok(std::net::SocketAddr::new(ip, DEFAULT_PORT).to_string());
    }
    if let Some((host, port)) = addr.rsplit_once(':')
        && port.parse::<u16>().is_ok()
        && !host.is_empty()
    {
        return Ok(addr.to_string());
    }
    Err(ControlError::invalid(format!(
        "invalid address '{addr}': expected an IP address with an optional port"
    )))
}

fn host_of(addr: &str) -> &str {
    addr.rsplit_once(':')
        .map(|(h, _)| h.trim_matches(['[', ']']))
        .unwrap_or(addr)
}

/// The address to advertise: as given, else the listen address when it is
/// specific, else the address of the interface holding the default route.
pub(crate) fn advertise_addr(given: &str, listen: &str) -> Result<String, ControlError> {
    let listen_port = listen.rsplit_once(':').map(|(_, p)| p).unwrap_or("2377");
    if !given.trim().is_empty() {
        let given = given.trim();
        if given.parse::<std::net::IpAddr>().is_ok() {
            return Ok(format!("{given}:{listen_port}"));
        }
        return with_port(given);
    }
    let host = host_of(listen);
    if let Ok(ip) = host.parse::<std::net::IpAddr>()
        && !ip.is_unspecified()
    {
        return Ok(listen.to_string());
    }
    // A UDP "connect" sends nothing; it only asks the kernel which source
    // address the default route would use.
    let sock = std::net::UdpSocket::bind("0.0.0.0:0")
        .map_err(|e| ControlError::Internal(e.to_string()))?;
    let ip = sock
        .connect("192.0.2.1:9")
        .and_then(|_| sock.local_addr())
        .map(|a| a.ip())
        .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
    Ok(format!("{ip}:{listen_port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(with_port("10.1.2.3").expect("ip"), "10.1.2.3:2377");
        assert_eq!(
            with_port("10.1.2.3:4000").expect("ip:port"),
            "10.1.2.3:4000"
        );
        assert!(with_port("not an address").is_err());
        assert_eq!(
            advertise_addr("127.0.0.2", "0.0.0.0:2377").expect("given"),
            "127.0.0.2:2377"
        );
        assert_eq!(
            advertise_addr("", "127.0.0.3:2377").expect("listen"),
            "127.0.0.3:2377"
        );
        assert!(
            advertise_addr("", "0.0.0.0:2377")
                .expect("route")
                .ends_with(":2377")
        );
    }
}

//! The data plane with real namespaces, links, nftables and traffic.
//! Needs root (CI runs as root), `ip`, `nsenter`, `nft`, `busybox`.

mod dnslab;
mod maps;
mod netlab;

mod cleanup;
mod dns;
mod isolation;
mod lab;
mod traffic;

/// Runs blocking test code off the runtime's workers.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("blocking task")
}

/// An attach request for a task in a namespace the data plane creates.
pub fn req(task: &str, networks: &[&str]) -> rswarm_network::AttachRequest {
    rswarm_network::AttachRequest {
        task_id: task.into(),
        netns: rswarm_network::TaskNetns::Create,
        networks: networks.iter().map(|s| s.to_string()).collect(),
        dns: rswarm_network::DnsSettings::default(),
    }
}

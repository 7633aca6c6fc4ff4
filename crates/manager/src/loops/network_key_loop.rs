//! On the leader: the key of encrypted overlay networks.
//!
//! Rules:
//! - The key is made when the first encrypted network is created (in that
//!   network's write, see `control::networks`), so no encrypted network is
//!   ever carried without one.
//! - Every `period` (Swarm rotates its overlay keys every 12 hours) the
//!   leader replaces it with a new random key of the next generation,
//!   while an encrypted network exists. Nodes get the new key in their
//!   network maps and re-key their tunnels; the old key is not kept.
//! - A new leader starts its own period.

use std::time::Duration;

use rswarm_rt::Shutdown;
use rswarm_store::{Object, Store};
use rswarm_types::{Cluster, ControlError, Network, NetworkKey};

/// Swarm's rotation period for overlay keys.
pub const DEFAULT_PERIOD: Duration = Duration::from_secs(12 * 3600);

/// The key that replaces `cluster`'s now, when one is due: some network of
/// `networks` is encrypted and the cluster has a key.
pub fn rotated<'a>(
    cluster: &Cluster,
    mut networks: impl Iterator<Item = &'a Network>,
    random: impl Fn() -> [u8; 32],
) -> Option<NetworkKey> {
    let current = cluster.network_key.as_ref()?;
    networks
        .any(Network::encrypted)
        .then(|| NetworkKey::generate(current.generation + 1, random))
}

/// Rotates every `period` until `term` ends.
pub async fn run(store: Store, period: Duration, term: Shutdown) {
    loop {
        tokio::select! {
            _ = term.wait() => return,
            _ = tokio::time::sleep(period) => {}
        }
        let r = store
            .update(|tx| {
                let Some(mut cluster) = tx.cluster() else {
                    return Ok::<_, ControlError>(None);
                };
                let Some(key) =
                    rotated(&cluster, tx.base().networks(), rswarm_rt::id::random_bytes)
                else {
                    return Ok(None);
                };
                let generation = key.generation;
                cluster.network_key = Some(key);
                tx.update(Object::Cluster(cluster))?;
                Ok(Some(generation))
            })
            .await;
        match r {
            Ok(Some(g)) => {
                tracing::info!("encrypted overlay networks: key rotated (generation {g})")
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("encrypted overlay networks: key rotation failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use rswarm_types::{Driver, ENCRYPTED_OPTION};

    use super::*;

    fn network(encrypted: bool) -> Network {
        let mut n = Network::default();
        if encrypted {
            let mut d = Driver::default();
            d.options.insert(ENCRYPTED_OPTION.into(), String::new());
            n.spec.driver_configuration = Some(d);
        }
        n
    }

    #[test]
    fn a_key_rotates_only_while_an_encrypted_network_exists() {
        let mut c = Cluster::default();
        let plain = [network(false)];
        let both = [network(false), network(true)];
        assert_eq!(rotated(&c, both.iter(), || [1; 32]), None, "no key yet");
        c.network_key = Some(NetworkKey::generate(3, || [1; 32]));
        assert_eq!(rotated(&c, plain.iter(), || [2; 32]), None);
        let next = rotated(&c, both.iter(), || [2; 32]).expect("rotated");
        assert_eq!(next.generation, 4);
        assert_eq!(next.bytes(), Some(([2; 32], [2; 32])));
    }
}

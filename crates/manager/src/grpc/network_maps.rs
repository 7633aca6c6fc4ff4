//! The NetworkMaps stream of one node: its [`NetworkMap`] as a snapshot
//! (version 1), then a [`NetworkMapDelta`](rswarm_types::NetworkMapDelta)
//! with the next version each time a store commit changes it.
//!
//! Any commit touching nodes, services, tasks or networks may change the
//! map (an endpoint anywhere in the cluster, a node's address, a VIP), so
//! each such batch of commits recomputes the node's whole map and sends
//! the difference from what the client has, if any. Commits are batched
//! like assignments ([`QUIET`], [`MAX_DELAY`]). A lagging store watcher
//! is just another change: the difference is taken against the whole
//! current map, so nothing missed is lost.

use std::pin::Pin;
use std::sync::Arc;

use futures_util::Stream;
use rswarm_proto::dispatcher::NetworkMapMessage;
use rswarm_rt::Shutdown;
use rswarm_store::{Commit, Kind, Store};
use rswarm_types::{NetworkMap, NetworkMapUpdate};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tonic::Status;

use super::assignments::{MAX_DELAY, QUIET};
use crate::network_map::{delta, network_map};

/// The stream of messages served to `node_id`; ends when the client goes
/// away or `shutdown` fires.
pub(super) fn stream(
    store: Store,
    node_id: String,
    shutdown: Shutdown,
) -> Pin<Box<dyn Stream<Item = Result<NetworkMapMessage, Status>> + Send>> {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        tokio::select! {
            _ = shutdown.wait() => {}
            _ = tx.closed() => {}
            r = serve(&store, &node_id, &tx) => if let Err(status) = r {
                let _ = tx.send(Err(status)).await;
            },
        }
    });
    Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|m| (m, rx))
    }))
}

type Sender = mpsc::Sender<Result<NetworkMapMessage, Status>>;

/// Stamps versions on the maps of one stream and says what to send.
#[derive(Debug, Default)]
pub(super) struct Versions {
    /// The map as the client has it after the last message.
    sent: Option<NetworkMap>,
}

impl Versions {
    /// What to send for the node's current `map`: a snapshot (version 1)
    /// first, then a delta to the next version when the map changed.
    pub(super) fn update(&mut self, mut map: NetworkMap) -> Option<NetworkMapUpdate> {
        let Some(sent) = &self.sent else {
            map.version = 1;
            self.sent = Some(map.clone());
            return Some(NetworkMapUpdate::Snapshot(map));
        };
        map.version = sent.version + 1;
        let d = delta(sent, &map)?;
        self.sent = Some(map);
        Some(NetworkMapUpdate::Delta(d))
    }
}

/// Sends until the store's event stream closes or the client goes away.
async fn serve(store: &Store, node_id: &str, tx: &Sender) -> Result<(), Status> {
    let (initial, mut events) = store.view_and_watch(|t| network_map(t, node_id));
    let mut versions = Versions::default();
    let mut next = Some(initial);
    loop {
        if let Some(update) = next.take().and_then(|m| versions.update(m)) {
            let update = serde_json::to_vec(&update)
                .map_err(|e| Status::internal(format!("encoding network map: {e}")))?;
            if tx.send(Ok(NetworkMapMessage { update })).await.is_err() {
                return Ok(());
            }
        }
        if !next_batch(&mut events).await {
            return Ok(());
        }
        next = Some(store.view(|t| network_map(t, node_id)));
    }
}

/// Waits for a commit that may change a map, then for the batch to end
/// (no further one for [`QUIET`], or [`MAX_DELAY`] after the first);
/// false when the store closed.
async fn next_batch(events: &mut broadcast::Receiver<Arc<Commit>>) -> bool {
    loop {
        match events.recv().await {
            Ok(commit) if relevant(&commit) => break,
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => break,
            Err(RecvError::Closed) => return false,
        }
    }
    let last_call = Instant::now() + MAX_DELAY;
    loop {
        let due = (Instant::now() + QUIET).min(last_call);
        loop {
            let r = tokio::select! {
                _ = tokio::time::sleep_until(due) => return true,
                r = events.recv() => r,
            };
            match r {
                Ok(commit) if relevant(&commit) => break,
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => break,
                Err(RecvError::Closed) => return false,
            }
        }
    }
}

/// Whether a commit touches what maps are made of.
fn relevant(commit: &Commit) -> bool {
    commit.events.iter().any(|e| {
        matches!(
            e.kind(),
            Kind::Node | Kind::Service | Kind::Task | Kind::Network
        )
    })
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use rswarm_types::MapNetwork;

    use super::*;

    fn map(vnis: &[u32]) -> NetworkMap {
        NetworkMap {
            version: 0,
            networks: vnis
                .iter()
                .map(|&vni| {
                    let n = MapNetwork {
                        id: format!("n{vni}"),
                        name: format!("n{vni}"),
                        vni,
                        subnet: "10.0.1.0/24".parse().expect("cidr"),
                        gateway: Ipv4Addr::new(10, 0, 1, 1),
                        mtu: 1450,
                        internal: false,
                        endpoints: vec![],
                        services: vec![],
                        ingress: None,
                        encryption: None,
                    };
                    (n.id.clone(), n)
                })
                .collect(),
        }
    }

    #[test]
    fn a_snapshot_first_then_deltas_chained_by_version() {
        let mut v = Versions::default();
        let Some(NetworkMapUpdate::Snapshot(first)) = v.update(map(&[])) else {
            panic!("a snapshot first, even of an empty map");
        };
        assert_eq!(first.version, 1);
        assert_eq!(v.update(map(&[])), None, "nothing changed, nothing sent");
        let Some(NetworkMapUpdate::Delta(d)) = v.update(map(&[4096])) else {
            panic!("a delta");
        };
        assert_eq!((d.base_version, d.version), (1, 2));
        assert_eq!(d.upserts.len(), 1);
        let Some(NetworkMapUpdate::Delta(d)) = v.update(map(&[])) else {
            panic!("a delta");
        };
        assert_eq!((d.base_version, d.version), (2, 3));
        assert_eq!(d.removals, vec!["n4096".to_string()]);
    }

    #[tokio::test(start_paused = true)]
    async fn the_stream_starts_with_a_snapshot_and_ends_at_shutdown() {
        use futures_util::StreamExt;
        let store = Store::open(
            Arc::new(rswarm_store::MemoryProposer),
            Arc::new(rswarm_rt::SystemClock),
        )
        .expect("store");
        let shutdown = Shutdown::new();
        let mut s = stream(store, "n1".into(), shutdown.clone());
        let first = s.next().await.expect("message").expect("ok");
        let update: NetworkMapUpdate = serde_json::from_slice(&first.update).expect("json");
        assert_eq!(
            update,
            NetworkMapUpdate::Snapshot(NetworkMap {
                version: 1,
                ..NetworkMap::default()
            })
        );
        shutdown.trigger();
        assert!(s.next().await.is_none(), "the stream ends at shutdown");
    }
}

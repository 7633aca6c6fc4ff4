//! Follows the node's network map during a session: opens the
//! dispatcher's NetworkMaps stream and hands every update, in order, to
//! the node's [`DataPlane`]. A delta that does not follow the version last
//! applied on this stream (a gap), or that the data plane refuses as
//! stale, reopens the stream, which starts with a snapshot again. A
//! stream that ends is reopened with backoff.
//!
//! A data plane that fails to program an update still keeps its map (see
//! [`DataPlane::apply`]), so the chain goes on and the next update
//! converges.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use rswarm_network::{DataPlane, NetError};
use rswarm_rt::Backoff;
use rswarm_types::NetworkMapUpdate;

use crate::DispatcherClient;
use crate::client::NetworkMapStream;

/// Why an update cannot follow the last one applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Gap {
    /// A delta before any snapshot on this stream.
    #[error("network map delta for version {base} before any snapshot")]
    NoSnapshot { base: u64 },
    /// A delta for another version than the one last applied.
    #[error("network map delta for version {base} does not follow version {have}")]
    Version { base: u64, have: u64 },
}

/// The version last applied on one stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Chain {
    have: Option<u64>,
}

impl Chain {
    /// Whether `update` follows: a snapshot always does, a delta when its
    /// base is the version last applied.
    pub fn check(&self, update: &NetworkMapUpdate) -> Result<(), Gap> {
        match (update, self.have) {
            (NetworkMapUpdate::Snapshot(_), _) => Ok(()),
            (NetworkMapUpdate::Delta(d), None) => Err(Gap::NoSnapshot {
                base: d.base_version,
            }),
            (NetworkMapUpdate::Delta(d), Some(have)) if d.base_version != have => {
                Err(Gap::Version {
                    base: d.base_version,
                    have,
                })
            }
            (NetworkMapUpdate::Delta(_), Some(_)) => Ok(()),
        }
    }

    /// Records `update` as applied.
    pub fn applied(&mut self, update: &NetworkMapUpdate) {
        self.have = Some(match update {
            NetworkMapUpdate::Snapshot(m) => m.version,
            NetworkMapUpdate::Delta(d) => d.version,
        });
    }

    /// The version last applied, if any.
    pub fn version(&self) -> Option<u64> {
        self.have
    }
}

/// Opens and follows the stream until the task is aborted (the session's
/// end).
pub(crate) async fn follow(client: Arc<dyn DispatcherClient>, data_plane: Arc<dyn DataPlane>) {
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(8));
    loop {
        match client.network_maps().await {
            Ok(stream) => {
                if apply_stream(stream, data_plane.as_ref()).await {
                    backoff.reset();
                }
            }
            Err(e) => tracing::warn!("agent: network maps: {e}"),
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

/// Applies the updates of one stream until it ends or breaks; true when
/// at least one was applied.
async fn apply_stream(mut stream: NetworkMapStream, data_plane: &dyn DataPlane) -> bool {
    let mut chain = Chain::default();
    let mut any = false;
    while let Some(update) = stream.next().await {
        if let Err(gap) = chain.check(&update) {
            tracing::warn!("agent: {gap}; asking for a snapshot");
            return any;
        }
        match data_plane.apply(&update).await {
            Ok(()) => {}
            Err(NetError::StaleDelta(e)) => {
                tracing::warn!("agent: {e}; asking for a snapshot");
                return any;
            }
            Err(e) => tracing::warn!("agent: programming the network map: {e}"),
        }
        chain.applied(&update);
        any = true;
    }
    tracing::debug!("agent: network map stream ended");
    any
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use rswarm_network::{Call, FakeDataPlane};
    use rswarm_types::{NetworkMap, NetworkMapDelta, NodeDescription, Task, TaskStatus};
    use tokio::sync::mpsc;

    use super::*;
    use crate::AgentError;

    fn snapshot(version: u64) -> NetworkMapUpdate {
        NetworkMapUpdate::Snapshot(NetworkMap {
            version,
            ..NetworkMap::default()
        })
    }

    fn delta(base_version: u64, version: u64) -> NetworkMapUpdate {
        NetworkMapUpdate::Delta(NetworkMapDelta {
            base_version,
            version,
            ..NetworkMapDelta::default()
        })
    }

    #[test]
    fn deltas_must_follow_the_version_last_applied() {
        let mut c = Chain::default();
        assert_eq!(
            c.check(&delta(1, 2)),
            Err(Gap::NoSnapshot { base: 1 }),
            "no delta before a snapshot"
        );
        assert_eq!(c.check(&snapshot(1)), Ok(()));
        c.applied(&snapshot(1));
        assert_eq!(c.check(&delta(1, 2)), Ok(()));
        c.applied(&delta(1, 2));
        assert_eq!(c.version(), Some(2));
        assert_eq!(
            c.check(&delta(3, 4)),
            Err(Gap::Version { base: 3, have: 2 })
        );
        assert_eq!(c.check(&snapshot(1)), Ok(()), "a snapshot always applies");
    }

    /// Serves one scripted stream per `network_maps` call.
    struct Scripted {
        streams: Mutex<Vec<Vec<NetworkMapUpdate>>>,
        opened: mpsc::UnboundedSender<()>,
    }

    #[async_trait]
    impl DispatcherClient for Scripted {
        async fn register(&self, _: NodeDescription) -> Result<Duration, AgentError> {
            Ok(Duration::from_secs(5))
        }
        async fn assignments(&self) -> Result<mpsc::Receiver<Vec<Task>>, AgentError> {
            Ok(mpsc::channel(1).1)
        }
        async fn update_task_status(&self, _: Vec<(String, TaskStatus)>) -> Result<(), AgentError> {
            Ok(())
        }
        async fn heartbeat(&self) -> Result<Duration, AgentError> {
            Ok(Duration::from_secs(5))
        }
        async fn network_maps(&self) -> Result<NetworkMapStream, AgentError> {
            let _ = self.opened.send(());
            let mut streams = self.streams.lock().expect("lock");
            if streams.is_empty() {
                return Ok(Box::pin(futures_util::stream::pending()));
            }
            let updates = streams.remove(0);
            Ok(Box::pin(futures_util::stream::iter(updates)))
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_stale_delta_or_a_gap_reopens_the_stream_for_a_snapshot() {
        let (opened, mut opens) = mpsc::unbounded_channel();
        let client = Arc::new(Scripted {
            streams: Mutex::new(vec![
                // The snapshot fails to apply and leaves the data plane's
                // map as it was (version 0): the delta is stale there.
                vec![snapshot(1), delta(1, 2), delta(2, 3)],
                // Fine, then a delta skipping version 3: a gap.
                vec![snapshot(1), delta(1, 2), delta(3, 4), delta(4, 5)],
                vec![snapshot(1)],
            ]),
            opened,
        });
        let dp = Arc::new(FakeDataPlane::new());
        dp.fail_next("boom");
        let follower = tokio::spawn(follow(client, dp.clone()));
        for _ in 0..4 {
            opens.recv().await.expect("opened");
        }
        follower.abort();
        assert_eq!(
            dp.calls(),
            vec![
                Call::Apply(1),
                // Refused as stale: reopened without applying 3.
                Call::Apply(2),
                Call::Apply(1),
                Call::Apply(2),
                // The gap: reopened without applying 4 or 5.
                Call::Apply(1),
            ]
        );
        assert_eq!(dp.current_map().await.version, 1);
    }
}

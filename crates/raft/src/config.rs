//! Timing and log-compaction settings, and their openraft translation.

use std::time::Duration;

use crate::error::RaftNodeError;

/// How a manager's Raft node behaves in time and log size.
///
/// The defaults give a new leader within about 2 s of the old one's death
/// (followers wait 1-1.5 s without a heartbeat, then vote; the old
/// leader's lease is the maximum election timeout). Swarm's defaults are a
/// 1 s tick, heartbeat 1 tick, election 10 ticks (~10 s to fail over).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaftTiming {
    /// How often the leader sends heartbeats.
    pub heartbeat_interval: Duration,
    /// A follower that hears nothing for a random time between these two
    /// starts an election. Both must exceed the heartbeat interval.
    pub election_timeout_min: Duration,
    /// See `election_timeout_min`; also the leader's lease.
    pub election_timeout_max: Duration,
    /// How long a write waits to be committed and applied before it fails
    /// with the quorum error.
    pub commit_timeout: Duration,
    /// A snapshot is taken (and the log before it compacted) every this
    /// many entries (Swarm's `SnapshotInterval`, default 10000).
    pub snapshot_interval: u64,
    /// Entries kept after a snapshot for followers that lag a little
    /// (Swarm's `LogEntriesForSlowFollowers`, default 500); a follower
    /// further behind gets the snapshot.
    pub log_entries_for_slow_followers: u64,
    /// Size of one snapshot chunk on the wire.
    pub snapshot_chunk_bytes: u64,
    /// How long one snapshot chunk may take to send (and, for the last
    /// one, to install).
    pub snapshot_chunk_timeout: Duration,
}

impl Default for RaftTiming {
    fn default() -> Self {
        RaftTiming {
            heartbeat_interval: Duration::from_millis(150),
            election_timeout_min: Duration::from_millis(1000),
            election_timeout_max: Duration::from_millis(1500),
            commit_timeout: Duration::from_secs(5),
            snapshot_interval: 10_000,
            log_entries_for_slow_followers: 500,
            snapshot_chunk_bytes: 1024 * 1024,
            snapshot_chunk_timeout: Duration::from_secs(30),
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl RaftTiming {
    /// Openraft's configuration for a cluster named `cluster_id`.
    pub(crate) fn openraft_config(
        &self,
        cluster_id: &str,
    ) -> Result<openraft::Config, RaftNodeError> {
        let config = openraft::Config {
            cluster_name: cluster_id.to_string(),
            heartbeat_interval: millis(self.heartbeat_interval),
            election_timeout_min: millis(self.election_timeout_min),
            election_timeout_max: millis(self.election_timeout_max),
            install_snapshot_timeout: millis(self.snapshot_chunk_timeout),
            snapshot_policy: openraft::SnapshotPolicy::LogsSinceLast(self.snapshot_interval.max(1)),
            max_in_snapshot_log_to_keep: self.log_entries_for_slow_followers,
            // A follower further behind than what the log still holds
            // gets the snapshot anyway; past this lag, prefer it.
            replication_lag_threshold: self
                .snapshot_interval
                .saturating_add(self.log_entries_for_slow_followers),
            snapshot_max_chunk_size: self.snapshot_chunk_bytes.max(1),
            ..Default::default()
        };
        config
            .validate()
            .map_err(|e| RaftNodeError::Config(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_fail_over_within_three_seconds() {
        let t = RaftTiming::default();
        let c = t.openraft_config("c1").expect("valid");
        assert_eq!(c.cluster_name, "c1");
        assert!(c.heartbeat_interval * 5 <= c.election_timeout_min);
        // Lease (max timeout) plus one election round stays under 3 s.
        assert!(t.election_timeout_max * 2 <= Duration::from_secs(3));
    }

    #[test]
    fn bad_timings_are_refused() {
        let t = RaftTiming {
            election_timeout_min: Duration::from_millis(100),
            heartbeat_interval: Duration::from_millis(200),
            ..Default::default()
        };
        assert!(matches!(
            t.openraft_config("c"),
            Err(RaftNodeError::Config(_))
        ));
    }
}

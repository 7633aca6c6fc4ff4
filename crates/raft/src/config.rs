//! Timing and log-compaction settings, and their openraft translation.
//!
//! Timing follows Swarm's ticks: a tick length (Swarm: 1 s, rswarm: the
//! daemon's `--raft-tick`, 100 ms), the heartbeat every `HeartbeatTick`
//! ticks and an election after `ElectionTick` ticks without one (dockerd's
//! `swarm-raft-heartbeat-tick` / `swarm-raft-election-tick`; the values in
//! the swarm spec are informational, as in Swarm). They are fixed when the
//! node opens: changing them needs a daemon restart. Snapshot interval and
//! slow-follower entries come from the swarm spec while the node runs (see
//! `compaction`); the values here apply until a cluster object exists.
//!
//! rswarm's default heartbeat is 3 ticks (300 ms), not Swarm's 1: openraft
//! 0.9 gives every replication request and every leadership confirmation
//! one heartbeat interval to complete, and 100 ms is too short for a
//! loaded manager (every request timed out, replication stalled). The
//! election timeout, which decides failover time, stays 10 ticks.

use std::time::Duration;

use crate::error::RaftNodeError;

/// How a manager's Raft node behaves in time and log size.
///
/// The defaults (100 ms tick, heartbeat 3 ticks, election 10 ticks) give a
/// new leader within about 2 s of the old one's death (followers wait
/// 1-1.5 s without a heartbeat, then vote; the old leader's lease is the
/// maximum election timeout). Swarm's defaults are a 1 s tick, heartbeat
/// 1 tick, election 10 ticks (~10 s to fail over).
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
    /// many entries (Swarm's `SnapshotInterval`, default 10000) until the
    /// store holds a cluster object; then its spec's value counts.
    pub snapshot_interval: u64,
    /// Entries kept after a snapshot for followers that lag a little
    /// (Swarm's `LogEntriesForSlowFollowers`, default 500); a follower
    /// further behind gets the snapshot. The cluster spec's value counts
    /// once there is one.
    pub log_entries_for_slow_followers: u64,
    /// Size of one snapshot chunk on the wire.
    pub snapshot_chunk_bytes: u64,
    /// How long one snapshot chunk may take to send (and, for the last
    /// one, to install).
    pub snapshot_chunk_timeout: Duration,
}

/// Entries read from the log for one AppendEntries (openraft's default,
/// 300, reads up to 300 entries of up to 200 objects each, of which the
/// byte budget sends a few).
const MAX_PAYLOAD_ENTRIES: u64 = 16;

/// rswarm's default tick length (Swarm's is 1 s).
pub const DEFAULT_TICK: Duration = Duration::from_millis(100);
/// rswarm's default `HeartbeatTick` (Swarm's is 1 tick of 1 s; see the
/// module doc).
pub const DEFAULT_HEARTBEAT_TICK: u32 = 3;
/// Swarm's default `ElectionTick`.
pub const DEFAULT_ELECTION_TICK: u32 = 10;

impl Default for RaftTiming {
    fn default() -> Self {
        let tick = DEFAULT_TICK;
        RaftTiming {
            heartbeat_interval: tick * DEFAULT_HEARTBEAT_TICK,
            election_timeout_min: tick * DEFAULT_ELECTION_TICK,
            election_timeout_max: tick * DEFAULT_ELECTION_TICK * 3 / 2,
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
    /// The timing of `tick`-long ticks: a heartbeat every `heartbeat_tick`
    /// ticks, an election after `election_tick` to 1.5 × `election_tick`
    /// ticks without one (etcd's Raft, which Swarm uses, picks in
    /// `[election, 2 × election)`; the narrower range fails over sooner).
    /// Everything else keeps its default.
    pub fn from_ticks(
        tick: Duration,
        heartbeat_tick: u32,
        election_tick: u32,
    ) -> Result<RaftTiming, RaftNodeError> {
        if tick < Duration::from_millis(1) {
            return Err(RaftNodeError::Config(
                "the raft tick must be at least 1ms".into(),
            ));
        }
        if heartbeat_tick == 0 {
            return Err(RaftNodeError::Config(
                "heartbeat tick must be greater than 0".into(),
            ));
        }
        if election_tick <= heartbeat_tick {
            return Err(RaftNodeError::Config(
                "election tick must be greater than heartbeat tick".into(),
            ));
        }
        let election = tick.saturating_mul(election_tick);
        Ok(RaftTiming {
            heartbeat_interval: tick.saturating_mul(heartbeat_tick),
            election_timeout_min: election,
            election_timeout_max: election
                .saturating_add(election / 2)
                .max(election.saturating_add(tick)),
            ..RaftTiming::default()
        })
    }

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
            // Compaction follows the swarm spec, which can change while
            // the node runs: `compaction` asks for snapshots and purges;
            // openraft alone never does (it still purges what an
            // installed snapshot covers).
            snapshot_policy: openraft::SnapshotPolicy::Never,
            max_in_snapshot_log_to_keep: u64::MAX,
            // A learner this close to the leader's log counts as caught
            // up (join as manager, promote).
            replication_lag_threshold: self
                .snapshot_interval
                .saturating_add(self.log_entries_for_slow_followers),
            snapshot_max_chunk_size: self.snapshot_chunk_bytes.max(1),
            // Entries read for one AppendEntries; the client sends what
            // fits in its byte budget (`append_budget`).
            max_payload_entries: MAX_PAYLOAD_ENTRIES,
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
        assert!(c.heartbeat_interval * 3 <= c.election_timeout_min);
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

    #[test]
    fn swarm_ticks_translate_to_intervals() {
        let t = RaftTiming::from_ticks(DEFAULT_TICK, 3, 10).expect("valid");
        assert_eq!(t, RaftTiming::default());
        assert_eq!(t.heartbeat_interval, Duration::from_millis(300));
        assert_eq!(t.election_timeout_min, Duration::from_secs(1));
        assert_eq!(t.election_timeout_max, Duration::from_millis(1500));
        // Swarm's own timing: 1 s ticks.
        let swarm = RaftTiming::from_ticks(Duration::from_secs(1), 1, 10).expect("valid");
        assert_eq!(swarm.heartbeat_interval, Duration::from_secs(1));
        assert_eq!(swarm.election_timeout_min, Duration::from_secs(10));
        assert_eq!(swarm.election_timeout_max, Duration::from_secs(15));
        let c = swarm.openraft_config("c").expect("openraft accepts it");
        assert_eq!(
            (
                c.heartbeat_interval,
                c.election_timeout_min,
                c.election_timeout_max
            ),
            (1000, 10_000, 15_000)
        );
        // The smallest election still has a range to randomise in.
        let tight = RaftTiming::from_ticks(Duration::from_millis(1), 1, 2).expect("valid");
        assert!(tight.election_timeout_min < tight.election_timeout_max);
        tight.openraft_config("c").expect("openraft accepts it");
    }

    #[test]
    fn impossible_ticks_are_refused_with_etcds_words() {
        let err = |tick, hb, el| match RaftTiming::from_ticks(tick, hb, el) {
            Err(RaftNodeError::Config(m)) => m,
            other => panic!("{tick:?} {hb} {el}: {other:?}"),
        };
        let ms = Duration::from_millis(100);
        assert_eq!(
            err(ms, 3, 3),
            "election tick must be greater than heartbeat tick"
        );
        assert_eq!(err(ms, 0, 10), "heartbeat tick must be greater than 0");
        assert_eq!(
            err(Duration::from_micros(10), 1, 10),
            "the raft tick must be at least 1ms"
        );
    }

    #[test]
    fn openraft_never_compacts_on_its_own() {
        let c = RaftTiming::default().openraft_config("c").expect("valid");
        assert_eq!(c.snapshot_policy, openraft::SnapshotPolicy::Never);
        assert_eq!(c.max_in_snapshot_log_to_keep, u64::MAX);
    }
}

//! Log compaction as the swarm spec says, on every manager: a snapshot
//! once `Raft.SnapshotInterval` entries were applied since the last one,
//! then the log before it purged except the last
//! `Raft.LogEntriesForSlowFollowers` entries (a follower that lags less
//! than that still gets entries; one further behind, or a new manager,
//! gets the snapshot). The settings are read from the replicated cluster
//! object at every step, so `docker swarm update --snapshot-interval N`
//! takes effect on every manager at once, without a restart. Openraft's
//! own policy is off (see `config`); before a cluster object exists the
//! node's [`RaftTiming`] values count.
//!
//! The decision ([`step`]) is pure; [`spawn`] runs it against openraft's
//! metrics and asks openraft to snapshot or purge.

use std::time::{Duration, Instant};

use rswarm_store::Store;
use tokio::task::JoinHandle;

use crate::config::RaftTiming;
use crate::types::Raft;

/// A snapshot asked for and not built after this long is asked for again
/// (openraft drops a request that arrives while another build runs).
const RETRY: Duration = Duration::from_secs(10);

/// The compaction settings in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Settings {
    /// Entries applied between two snapshots (at least 1).
    pub interval: u64,
    /// Entries kept in the log behind a snapshot.
    pub keep: u64,
}

impl Settings {
    /// The node's own values (before a cluster object exists).
    pub(crate) fn of_timing(timing: &RaftTiming) -> Settings {
        Settings {
            interval: timing.snapshot_interval.max(1),
            keep: timing.log_entries_for_slow_followers,
        }
    }

    /// The cluster spec's values (`Raft.SnapshotInterval`,
    /// `Raft.LogEntriesForSlowFollowers`); zero or no cluster object
    /// means `fallback`'s.
    pub(crate) fn of_store(store: &Store, fallback: Settings) -> Settings {
        let spec = store.view(|t| {
            t.cluster().map(|c| {
                (
                    c.spec.raft.snapshot_interval,
                    c.spec.raft.log_entries_for_slow_followers,
                )
            })
        });
        match spec {
            Some((interval, keep)) => Settings {
                interval: if interval == 0 {
                    fallback.interval
                } else {
                    interval
                },
                keep: if keep == 0 { fallback.keep } else { keep },
            },
            None => fallback,
        }
    }
}

/// The log as openraft's metrics show it (log indexes; `None`: nothing
/// yet).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LogState {
    /// Last entry applied to the tables.
    pub applied: Option<u64>,
    /// Last entry the latest snapshot covers.
    pub snapshot: Option<u64>,
    /// Last entry removed from the log.
    pub purged: Option<u64>,
}

/// What to ask openraft for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Step {
    /// Build a snapshot of the tables now.
    pub snapshot: bool,
    /// Remove the log up to this index (inclusive).
    pub purge_upto: Option<u64>,
}

/// The next step for `log` under `settings`. `snapshot_pending`: a
/// snapshot was asked for and not built yet; `purge_asked`: the last
/// purge asked for (not asked again until a later snapshot allows more).
pub(crate) fn step(
    log: LogState,
    settings: Settings,
    snapshot_pending: bool,
    purge_asked: Option<u64>,
) -> Step {
    let since_snapshot = match (log.applied, log.snapshot) {
        (None, _) => 0,
        (Some(a), None) => a + 1,
        (Some(a), Some(s)) => a.saturating_sub(s),
    };
    let snapshot = !snapshot_pending && since_snapshot >= settings.interval.max(1);
    let purge_upto = log
        .snapshot
        .filter(|s| *s > settings.keep)
        .map(|s| s - settings.keep)
        .filter(|upto| log.purged.max(purge_asked).is_none_or(|done| *upto > done));
    Step {
        snapshot,
        purge_upto,
    }
}

/// Starts the compaction loop of `raft`, whose tables are `store`'s; it
/// ends when the Raft node stops.
pub(crate) fn spawn(raft: Raft, store: Store, timing: &RaftTiming) -> JoinHandle<()> {
    tokio::spawn(run(raft, store, Settings::of_timing(timing)))
}

async fn run(raft: Raft, store: Store, fallback: Settings) {
    let mut metrics = raft.metrics();
    // The snapshot index when a snapshot was last asked for, and when.
    let mut asked_snapshot: Option<(Option<u64>, Instant)> = None;
    let mut purge_asked: Option<u64> = None;
    let mut purged_seen: Option<u64> = None;
    loop {
        let log = {
            let m = metrics.borrow_and_update();
            LogState {
                applied: m.last_applied.map(|l| l.index),
                snapshot: m.snapshot.map(|l| l.index),
                purged: m.purged.map(|l| l.index),
            }
        };
        if log.purged > purged_seen {
            if let Some(p) = log.purged {
                tracing::info!(
                    "raft: log compacted up to index {p} (snapshot at {:?})",
                    log.snapshot
                );
            }
            purged_seen = log.purged;
        }
        let pending =
            asked_snapshot.is_some_and(|(at, when)| log.snapshot == at && when.elapsed() < RETRY);
        let settings = Settings::of_store(&store, fallback);
        let next = step(log, settings, pending, purge_asked);
        if next.snapshot {
            if raft.trigger().snapshot().await.is_err() {
                return;
            }
            tracing::debug!(
                "raft: snapshot asked at applied index {:?} (interval {})",
                log.applied,
                settings.interval
            );
            asked_snapshot = Some((log.snapshot, Instant::now()));
        }
        if let Some(upto) = next.purge_upto {
            if raft.trigger().purge_log(upto).await.is_err() {
                return;
            }
            purge_asked = Some(upto);
        }
        if let Ok(Err(_)) = tokio::time::timeout(RETRY, metrics.changed()).await {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_store::{Object, Tables};
    use rswarm_types::Cluster;

    const SWARM: Settings = Settings {
        interval: 10_000,
        keep: 500,
    };

    fn log(applied: u64, snapshot: Option<u64>, purged: Option<u64>) -> LogState {
        LogState {
            applied: Some(applied),
            snapshot,
            purged,
        }
    }

    #[test]
    fn a_snapshot_every_interval_entries() {
        assert_eq!(
            step(LogState::default(), SWARM, false, None),
            Step::default()
        );
        assert!(!step(log(9_998, None, None), SWARM, false, None).snapshot);
        assert!(step(log(9_999, None, None), SWARM, false, None).snapshot);
        assert!(!step(log(19_999, Some(10_000), None), SWARM, false, None).snapshot);
        assert!(step(log(20_000, Some(10_000), None), SWARM, false, None).snapshot);
        // Not asked twice while one is being built.
        assert!(!step(log(20_000, Some(10_000), None), SWARM, true, None).snapshot);
    }

    #[test]
    fn a_smaller_interval_takes_effect_at_once() {
        let small = Settings {
            interval: 100,
            keep: 500,
        };
        let l = log(5_000, Some(4_000), Some(3_500));
        assert!(!step(l, SWARM, false, None).snapshot);
        assert!(step(l, small, false, None).snapshot);
    }

    #[test]
    fn the_log_behind_a_snapshot_is_purged_but_for_the_slow_followers_entries() {
        let s = step(log(10_000, Some(10_000), None), SWARM, false, None);
        assert_eq!(s.purge_upto, Some(9_500));
        // Done (or asked) already: not again until a later snapshot.
        assert_eq!(
            step(log(10_050, Some(10_000), Some(9_500)), SWARM, false, None).purge_upto,
            None
        );
        assert_eq!(
            step(log(10_050, Some(10_000), None), SWARM, false, Some(9_500)).purge_upto,
            None
        );
        assert_eq!(
            step(log(20_000, Some(20_000), Some(9_500)), SWARM, false, None).purge_upto,
            Some(19_500)
        );
        // Keeping nothing purges the whole snapshot; a snapshot shorter
        // than what is kept purges nothing.
        let keep_none = Settings {
            interval: 10,
            keep: 0,
        };
        assert_eq!(
            step(log(30, Some(30), Some(10)), keep_none, false, None).purge_upto,
            Some(30)
        );
        assert_eq!(
            step(log(400, Some(400), None), SWARM, false, None).purge_upto,
            None
        );
    }

    #[test]
    fn settings_come_from_the_cluster_spec_when_there_is_one() {
        let fallback = Settings::of_timing(&RaftTiming {
            snapshot_interval: 20,
            log_entries_for_slow_followers: 0,
            ..RaftTiming::default()
        });
        assert_eq!(
            fallback,
            Settings {
                interval: 20,
                keep: 0
            }
        );
        let clock = std::sync::Arc::new(rswarm_rt::SystemClock);
        let empty = Store::replicated(Tables::default(), 0, clock.clone());
        assert_eq!(Settings::of_store(&empty, fallback), fallback);
        let mut cluster = Cluster::default();
        cluster.spec.raft.snapshot_interval = 300;
        let store = Store::replicated(
            Tables::from_objects([Object::Cluster(cluster.clone())]),
            1,
            clock.clone(),
        );
        assert_eq!(
            Settings::of_store(&store, fallback),
            Settings {
                interval: 300,
                keep: 0
            },
            "a zero field keeps the node's value"
        );
        cluster.spec.fill_defaults();
        let store = Store::replicated(Tables::from_objects([Object::Cluster(cluster)]), 1, clock);
        assert_eq!(
            Settings::of_store(&store, fallback),
            Settings {
                interval: 300,
                keep: 500
            },
            "Swarm's default for what was left zero"
        );
    }
}

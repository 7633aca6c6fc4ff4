//! Who leads, as leader-only loops need to know it: a watch that says
//! "this manager leads" only while a quorum still answers it.
//!
//! Openraft 0.9 keeps an isolated leader in the leader state until it
//! hears a higher term; Swarm's Raft (etcd's CheckQuorum) steps down. The
//! monitor here checks quorum on the leader every two heartbeats and
//! reports leadership lost when no quorum answered within the maximum
//! election timeout, so loops stop on the minority side.

use std::time::{Duration, Instant};

use openraft::ServerState;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::RaftTiming;
use crate::types::{Peer, Raft};

/// This manager's view of the leadership.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Leadership {
    /// This manager leads and a quorum answered it recently: run the
    /// leader-only loops.
    pub is_leader: bool,
    /// The leader as this manager knows it; `None` during an election or
    /// when this leader lost its quorum.
    pub leader: Option<Peer>,
    /// The Raft term of this view.
    pub term: u64,
}

/// Starts the monitor of `raft`; it ends when the Raft node stops.
pub(crate) fn spawn(
    raft: Raft,
    me: Peer,
    timing: RaftTiming,
) -> (watch::Receiver<Leadership>, JoinHandle<()>) {
    let (tx, rx) = watch::channel(Leadership::default());
    let task = tokio::spawn(run(raft, me, timing, tx));
    (rx, task)
}

async fn quorum_answers(raft: &Raft, within: Duration) -> bool {
    matches!(
        tokio::time::timeout(within, raft.get_read_log_id()).await,
        Ok(Ok(_))
    )
}

async fn run(raft: Raft, me: Peer, timing: RaftTiming, tx: watch::Sender<Leadership>) {
    let mut metrics = raft.metrics();
    let check_every = timing.heartbeat_interval * 2;
    // When a quorum last answered this leader, in its current term.
    let mut quorum_at: Option<(u64, Instant)> = None;
    let mut next_check = Instant::now();
    loop {
        let m = metrics.borrow_and_update().clone();
        let leads = m.state == ServerState::Leader;
        if !leads {
            quorum_at = None;
        } else if quorum_at.is_none_or(|(term, _)| term != m.current_term) {
            // Just elected: a majority voted for it a moment ago.
            quorum_at = Some((m.current_term, Instant::now()));
        }
        if leads && Instant::now() >= next_check {
            if quorum_answers(&raft, timing.election_timeout_min).await {
                quorum_at = Some((m.current_term, Instant::now()));
            }
            next_check = Instant::now() + check_every;
        }
        let has_quorum =
            leads && quorum_at.is_some_and(|(_, t)| t.elapsed() <= timing.election_timeout_max);
        let leader = if leads {
            has_quorum.then(|| me.clone())
        } else {
            m.current_leader
                .and_then(|id| m.membership_config.membership().get_node(&id).cloned())
        };
        let view = Leadership {
            is_leader: has_quorum,
            leader,
            term: m.current_term,
        };
        tx.send_if_modified(|cur| {
            let changed = *cur != view;
            if changed {
                if view.is_leader != cur.is_leader {
                    tracing::info!(
                        "raft: {} {} leadership (term {})",
                        me.node_id,
                        if view.is_leader { "gained" } else { "lost" },
                        view.term
                    );
                }
                *cur = view;
            }
            changed
        });
        let until_check = next_check.saturating_duration_since(Instant::now());
        tokio::select! {
            changed = metrics.changed() => {
                if changed.is_err() {
                    tx.send_modify(|cur| {
                        cur.is_leader = false;
                        cur.leader = None;
                    });
                    return;
                }
            }
            _ = tokio::time::sleep(until_check), if leads => {}
        }
    }
}

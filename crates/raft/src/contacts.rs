//! When this manager last heard from each peer: a successful RPC answer
//! (the leader's view of its followers) or an RPC it received (a
//! follower's view of its leader). Reachability is read from it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Swarm's reachability of a manager, as `node ls` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reachability {
    /// Heard from within the election timeout.
    Reachable,
    /// Not heard from within the election timeout.
    Unreachable,
    /// This manager has no view of it (a follower only talks to the
    /// leader; ask the leader).
    Unknown,
}

impl Reachability {
    /// Swarm's word: `reachable`, `unreachable`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reachability::Reachable => "reachable",
            Reachability::Unreachable => "unreachable",
            Reachability::Unknown => "unknown",
        }
    }
}

/// Last contact per Raft ID. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Contacts {
    last: Arc<Mutex<HashMap<u64, Instant>>>,
    /// When this manager started listening: a peer never heard from for a
    /// whole window since then is unreachable, not unknown (a leader
    /// elected after a peer died never hears from it).
    since: Instant,
}

impl Default for Contacts {
    fn default() -> Self {
        Contacts {
            last: Arc::default(),
            since: Instant::now(),
        }
    }
}

impl Contacts {
    /// Records a contact with `id` now.
    pub(crate) fn heard(&self, id: u64) {
        if let Ok(mut m) = self.last.lock() {
            m.insert(id, Instant::now());
        }
    }

    /// When this manager last heard from `id`.
    pub(crate) fn last_heard(&self, id: u64) -> Option<Instant> {
        self.last.lock().ok().and_then(|m| m.get(&id).copied())
    }

    /// Reachable when heard from within `window`, unreachable when heard
    /// from before or never heard from in a window since this manager
    /// started, `unknown` otherwise.
    pub(crate) fn reachability(&self, id: u64, window: Duration) -> Reachability {
        let last = self.last.lock().ok().and_then(|m| m.get(&id).copied());
        match last {
            Some(t) if t.elapsed() <= window => Reachability::Reachable,
            Some(_) => Reachability::Unreachable,
            None if self.since.elapsed() > window => Reachability::Unreachable,
            None => Reachability::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_age() {
        let c = Contacts::default();
        assert_eq!(
            c.reachability(1, Duration::from_secs(60)),
            Reachability::Unknown,
            "not heard from yet, but not for a whole window either"
        );
        assert_eq!(
            c.reachability(2, Duration::ZERO),
            Reachability::Unreachable,
            "never heard from during a whole window"
        );
        c.heard(1);
        assert_eq!(
            c.reachability(1, Duration::from_secs(60)),
            Reachability::Reachable
        );
        assert_eq!(c.reachability(1, Duration::ZERO), Reachability::Unreachable);
        assert_eq!(Reachability::Unreachable.as_str(), "unreachable");
    }
}

//! Agent session bookkeeping for the dispatcher: each registration opens a
//! new session (the previous one of that node becomes invalid), and a node
//! may register at most 3 times within 8 s (Swarm's rate limit), so a
//! misbehaving agent cannot flood the store with node writes.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use rswarm_types::{ControlError, Timestamp};

/// Registrations allowed per node within [`RATE_WINDOW_SECS`].
pub const MAX_REGISTRATIONS: usize = 3;
/// The rate-limit window.
pub const RATE_WINDOW_SECS: i64 = 8;

/// The current session of every node.
#[derive(Debug, Default)]
pub struct Sessions {
    nodes: Mutex<HashMap<String, NodeSessions>>,
}

#[derive(Debug, Default)]
struct NodeSessions {
    current: String,
    registrations: VecDeque<Timestamp>,
}

impl Sessions {
    /// Opens a new session for `node_id` at `now`, returning its ID, or
    /// refuses when the node registered too often.
    pub fn open(
        &self,
        node_id: &str,
        now: Timestamp,
        new_id: impl FnOnce() -> String,
    ) -> Result<String, ControlError> {
        let mut nodes = self.nodes.lock().unwrap_or_else(|e| e.into_inner());
        let n = nodes.entry(node_id.to_string()).or_default();
        let window = chrono::Duration::seconds(RATE_WINDOW_SECS);
        while n.registrations.front().is_some_and(|t| now - *t > window) {
            n.registrations.pop_front();
        }
        if n.registrations.len() >= MAX_REGISTRATIONS {
            return Err(ControlError::Unavailable(format!(
                "node {node_id} exceeded rate limit count of registrations"
            )));
        }
        n.registrations.push_back(now);
        n.current = new_id();
        Ok(n.current.clone())
    }

    /// Checks that `session_id` is the node's current session.
    pub fn check(&self, node_id: &str, session_id: &str) -> Result<(), ControlError> {
        let nodes = self.nodes.lock().unwrap_or_else(|e| e.into_inner());
        match nodes.get(node_id) {
            Some(n) if !n.current.is_empty() && n.current == session_id => Ok(()),
            _ => Err(ControlError::Unavailable(format!(
                "session invalid: node {node_id} must register again"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        chrono::DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap_or_default()
    }

    #[test]
    fn a_new_registration_invalidates_the_old_session() {
        let s = Sessions::default();
        let a = s.open("n1", at(0), || "a".into()).expect("open");
        s.check("n1", &a).expect("current");
        let b = s.open("n1", at(1), || "b".into()).expect("open again");
        assert!(s.check("n1", &a).is_err(), "old session refused");
        s.check("n1", &b).expect("new session");
        assert!(s.check("n2", "").is_err(), "unknown node");
        assert!(s.check("n2", "b").is_err());
    }

    #[test]
    fn more_than_three_registrations_in_eight_seconds_are_refused() {
        let s = Sessions::default();
        for i in 0..3 {
            s.open("n1", at(i), || format!("s{i}"))
                .expect("within the limit");
        }
        let err = s.open("n1", at(3), || "s3".into()).expect_err("limited");
        assert!(
            err.to_string()
                .contains("exceeded rate limit count of registrations")
        );
        s.open("n2", at(3), || "x".into())
            .expect("other nodes are not limited");
        s.open("n1", at(9), || "s4".into())
            .expect("allowed once the window moved on");
    }
}

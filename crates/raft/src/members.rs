//! The managers of the Raft group and the quorum-safety rule for removing
//! one.

use crate::contacts::Reachability;
use crate::error::RaftNodeError;

/// One manager of the Raft group, as this manager sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Its swarm node ID.
    pub node_id: String,
    /// Its Raft address (`host:port`).
    pub addr: String,
    /// Its Raft ID.
    pub raft_id: u64,
    /// A voter (a manager) rather than a learner still catching up.
    pub voter: bool,
    /// The current leader.
    pub leader: bool,
    /// Whether this manager hears from it (authoritative on the leader).
    pub reachability: Reachability,
}

/// Whether removing `node_id` (demote, leave, `node rm`) keeps a quorum:
/// the remaining voters that are reachable must be a majority of the
/// remaining voters (swarmkit's `CanRemoveMember`). Removing a learner or
/// a non-member is always safe; removing the last voter never is.
/// `Unknown` reachability counts as reachable: call this on the leader,
/// which knows.
pub fn can_remove(members: &[Member], node_id: &str) -> Result<(), RaftNodeError> {
    let voters: Vec<&Member> = members.iter().filter(|m| m.voter).collect();
    if !voters.iter().any(|m| m.node_id == node_id) {
        return Ok(());
    }
    if voters.len() == 1 {
        return Err(RaftNodeError::LastManager);
    }
    let remaining: Vec<&&Member> = voters.iter().filter(|m| m.node_id != node_id).collect();
    let reachable = remaining
        .iter()
        .filter(|m| m.reachability != Reachability::Unreachable)
        .count();
    let quorum = remaining.len() / 2 + 1;
    if reachable < quorum {
        return Err(RaftNodeError::WouldLoseQuorum);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str, voter: bool, r: Reachability) -> Member {
        Member {
            node_id: id.into(),
            addr: String::new(),
            raft_id: 0,
            voter,
            leader: false,
            reachability: r,
        }
    }

    use Reachability::{Reachable as R, Unreachable as U};

    #[test]
    fn three_managers() {
        let all_up = [m("a", true, R), m("b", true, R), m("c", true, R)];
        assert_eq!(can_remove(&all_up, "c"), Ok(()));
        // c down: removing it leaves a, b reachable: fine.
        let c_down = [m("a", true, R), m("b", true, R), m("c", true, U)];
        assert_eq!(can_remove(&c_down, "c"), Ok(()));
        // c down: removing b leaves a (up) and c (down): 1 of 2 is no quorum.
        assert_eq!(
            can_remove(&c_down, "b"),
            Err(RaftNodeError::WouldLoseQuorum)
        );
    }

    #[test]
    fn last_manager_learners_and_strangers() {
        let one = [m("a", true, R), m("l", false, U)];
        assert_eq!(can_remove(&one, "a"), Err(RaftNodeError::LastManager));
        assert_eq!(can_remove(&one, "l"), Ok(()));
        assert_eq!(can_remove(&one, "zz"), Ok(()));
        assert!(
            RaftNodeError::WouldLoseQuorum
                .to_string()
                .contains("loss of quorum")
        );
    }
}

//! AppendEntries requests of bounded size. Openraft 0.9 gives every
//! AppendEntries one heartbeat interval to complete, whatever it carries;
//! a follower behind by dozens of entries of 200 objects each (the
//! manager loops' batches) would get them all in one request that never
//! completes in time, again and again. The leader's client sends the
//! leading entries that fit in [`APPEND_BYTES`] (at least one) and
//! reports the rest as not sent yet (openraft's `PartialSuccess`); the
//! next request carries on from there.
//!
//! The request is encoded as serde would encode it (same fields, same
//! order), entry by entry, so measuring costs nothing extra.

use openraft::raft::{AppendEntriesRequest, AppendEntriesResponse};

use crate::types::{LogId, TypeConfig};

/// Bytes of entries per request (a single larger entry still goes alone).
pub(crate) const APPEND_BYTES: usize = 512 * 1024;

/// A request's JSON with the leading entries that fit in `budget` bytes
/// (at least one), and, when some were left out, the log ID of the last
/// one sent.
pub(crate) fn encode(
    rpc: &AppendEntriesRequest<TypeConfig>,
    budget: usize,
) -> serde_json::Result<(Vec<u8>, Option<LogId>)> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"{\"vote\":");
    serde_json::to_writer(&mut out, &rpc.vote)?;
    out.extend_from_slice(b",\"prev_log_id\":");
    serde_json::to_writer(&mut out, &rpc.prev_log_id)?;
    out.extend_from_slice(b",\"entries\":[");
    let start = out.len();
    let mut sent = 0;
    for entry in &rpc.entries {
        let before = out.len();
        if sent > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, entry)?;
        if sent > 0 && out.len() - start > budget {
            out.truncate(before);
            break;
        }
        sent += 1;
    }
    out.extend_from_slice(b"],\"leader_commit\":");
    serde_json::to_writer(&mut out, &rpc.leader_commit)?;
    out.push(b'}');
    let cut = (sent < rpc.entries.len()).then(|| rpc.entries[sent - 1].log_id);
    Ok((out, cut))
}

/// The answer to a request cut after `cut`: what the follower accepted
/// of the whole request openraft asked for.
pub(crate) fn answer(
    resp: AppendEntriesResponse<u64>,
    cut: Option<LogId>,
) -> AppendEntriesResponse<u64> {
    match (resp, cut) {
        (AppendEntriesResponse::Success, Some(last)) => {
            AppendEntriesResponse::PartialSuccess(Some(last))
        }
        (resp, _) => resp,
    }
}

#[cfg(test)]
mod tests {
    use openraft::{CommittedLeaderId, EntryPayload, Vote};
    use rswarm_store::{Action, Object, Proposal};
    use rswarm_types::Service;

    use super::*;

    fn log_id(index: u64) -> LogId {
        LogId::new(CommittedLeaderId::new(3, 7), index)
    }

    fn entry(index: u64, objects: usize) -> openraft::Entry<TypeConfig> {
        let actions = (0..objects)
            .map(|i| {
                let mut s = Service {
                    id: format!("s{index}-{i}"),
                    ..Default::default()
                };
                s.spec.name = "x".repeat(100);
                Action::Create(Object::Service(s))
            })
            .collect();
        openraft::Entry {
            log_id: log_id(index),
            payload: EntryPayload::Normal(Proposal { actions }),
        }
    }

    fn request(entries: Vec<openraft::Entry<TypeConfig>>) -> AppendEntriesRequest<TypeConfig> {
        AppendEntriesRequest {
            vote: Vote::new_committed(3, 7),
            prev_log_id: Some(log_id(9)),
            entries,
            leader_commit: Some(log_id(9)),
        }
    }

    #[test]
    fn an_uncut_request_is_what_serde_writes() {
        for entries in [vec![], vec![entry(10, 1)], vec![entry(10, 2), entry(11, 1)]] {
            let rpc = request(entries);
            let (bytes, cut) = encode(&rpc, APPEND_BYTES).expect("encode");
            assert_eq!(cut, None);
            assert_eq!(bytes, serde_json::to_vec(&rpc).expect("serde"));
        }
    }

    #[test]
    fn a_large_request_is_cut_after_the_entries_that_fit() {
        let rpc = request((10..20).map(|i| entry(i, 20)).collect());
        let one = serde_json::to_vec(&rpc.entries[0]).expect("entry").len();
        let (bytes, cut) = encode(&rpc, one * 3 + 10).expect("encode");
        assert_eq!(cut, Some(log_id(12)));
        let sent: AppendEntriesRequest<TypeConfig> =
            serde_json::from_slice(&bytes).expect("the follower reads it");
        assert_eq!(sent.entries.len(), 3);
        assert_eq!(sent.entries[2].log_id, log_id(12));
        assert_eq!(sent.prev_log_id, rpc.prev_log_id);
        assert_eq!(sent.leader_commit, rpc.leader_commit);
        assert_eq!(
            answer(AppendEntriesResponse::Success, cut),
            AppendEntriesResponse::PartialSuccess(Some(log_id(12)))
        );
        assert_eq!(
            answer(AppendEntriesResponse::Conflict, cut),
            AppendEntriesResponse::Conflict
        );
        assert_eq!(
            answer(AppendEntriesResponse::Success, None),
            AppendEntriesResponse::Success
        );
    }

    #[test]
    fn an_entry_larger_than_the_budget_still_goes_alone() {
        let rpc = request(vec![entry(10, 50), entry(11, 1)]);
        let (bytes, cut) = encode(&rpc, 10).expect("encode");
        assert_eq!(cut, Some(log_id(10)));
        let sent: AppendEntriesRequest<TypeConfig> = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(sent.entries.len(), 1);
    }
}

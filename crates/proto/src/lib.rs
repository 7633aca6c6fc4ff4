//! rswarm's internal gRPC API between nodes: the CA (root certificate,
//! node certificate issuance), the control API forwarded between managers,
//! the dispatcher (agent sessions, assignments
//! as a complete set then chained increments), the log broker (task
//! output of other nodes, by subscription) and Raft between managers
//! (openraft's messages in a bytes envelope, snapshots in chunks). The
//! code is generated from `proto/*.proto` at build time by protox and
//! tonic-prost-build; nothing here is written by hand except the gRPC
//! metadata keys the services set ([`metadata`]).
//!
//! Objects (tasks, statuses, node descriptions) travel as their
//! Engine-API JSON, so the wire format follows `rswarm-types`.
//!
//! What it does not do: TLS, authorization or any behaviour (see
//! `rswarm-manager::grpc` and `rswarm-agent::remote`).

#![allow(missing_docs, clippy::all, clippy::pedantic)]

/// CA and NodeCA services.
pub mod ca {
    tonic::include_proto!("rswarm.ca");
}

/// Control service between managers (writes forwarded to the leader).
pub mod control {
    tonic::include_proto!("rswarm.control");
}

/// Dispatcher service.
pub mod dispatcher {
    tonic::include_proto!("rswarm.dispatcher");
}

/// LogBroker service (agent side: subscriptions in, log lines out).
pub mod logbroker {
    tonic::include_proto!("rswarm.logbroker");
}

/// Raft service between managers.
pub mod raft {
    tonic::include_proto!("rswarm.raft");
}

/// gRPC metadata keys of the protocol (beside the messages).
pub mod metadata {
    /// On a `Dispatcher` call refused by a manager that is not the leader
    /// (`Unavailable`, "node is not the leader"): the leader's address
    /// (`ip:port`) when that manager knows it, so the agent calls it next.
    pub const DISPATCHER_LEADER: &str = "rswarm-dispatcher-leader";
}

#[cfg(test)]
mod tests {
    use prost::Message;

    #[test]
    fn messages_round_trip_on_the_wire() {
        let m = super::dispatcher::UpdateTaskStatusRequest {
            session_id: "s".into(),
            updates: vec![super::dispatcher::TaskStatusUpdate {
                task_id: "t".into(),
                status: b"{}".to_vec(),
            }],
        };
        let bytes = m.encode_to_vec();
        let back =
            super::dispatcher::UpdateTaskStatusRequest::decode(bytes.as_slice()).expect("decode");
        assert_eq!(back, m);
        let r = super::ca::IssueNodeCertificateRequest {
            csr: "c".into(),
            token: "t".into(),
            ..Default::default()
        };
        assert_eq!(
            super::ca::IssueNodeCertificateRequest::decode(r.encode_to_vec().as_slice())
                .expect("decode"),
            r
        );
    }

    #[test]
    fn assignments_and_log_messages_round_trip() {
        use super::dispatcher::{AssignmentChange, AssignmentsMessage, assignment_change};
        use super::logbroker::{LogMessage, LogStream, PublishLogsMessage, SubscriptionMessage};
        let m = AssignmentsMessage {
            r#type: super::dispatcher::assignments_message::Type::Incremental.into(),
            applies_to: "1".into(),
            results_in: "2".into(),
            changes: vec![AssignmentChange {
                action: assignment_change::Action::Remove.into(),
                task_id: "t".into(),
                task: Vec::new(),
            }],
        };
        assert_eq!(
            AssignmentsMessage::decode(m.encode_to_vec().as_slice()).expect("decode"),
            m
        );
        let s = SubscriptionMessage {
            id: "s".into(),
            task_ids: vec!["t".into()],
            tail: Some(0),
            since_unix_nano: None,
            ..Default::default()
        };
        let back = SubscriptionMessage::decode(s.encode_to_vec().as_slice()).expect("decode");
        assert_eq!(back.tail, Some(0), "an explicit 0 survives");
        assert_eq!(back, s);
        let p = PublishLogsMessage {
            subscription_id: "s".into(),
            messages: vec![LogMessage {
                task_id: "t".into(),
                stream: LogStream::Stderr.into(),
                timestamp_unix_nano: 1,
                line: "x".into(),
            }],
            close: true,
        };
        assert_eq!(
            PublishLogsMessage::decode(p.encode_to_vec().as_slice()).expect("decode"),
            p
        );
    }

    #[test]
    fn raft_envelopes_round_trip() {
        use super::raft::{JoinRequest, RaftMessage};
        let m = RaftMessage {
            payload: br#"{"vote":1}"#.to_vec(),
        };
        assert_eq!(
            RaftMessage::decode(m.encode_to_vec().as_slice()).expect("decode"),
            m
        );
        let j = JoinRequest {
            addr: "127.0.0.2:2377".into(),
        };
        assert_eq!(
            JoinRequest::decode(j.encode_to_vec().as_slice()).expect("decode"),
            j
        );
    }
}

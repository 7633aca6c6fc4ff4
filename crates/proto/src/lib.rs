//! rswarm's internal gRPC API between nodes: the CA (root certificate,
//! node certificate issuance) and the dispatcher (agent sessions). The
//! code is generated from `proto/*.proto` at build time by protox and
//! tonic-prost-build; nothing here is written by hand.
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

/// Dispatcher service.
pub mod dispatcher {
    tonic::include_proto!("rswarm.dispatcher");
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
}

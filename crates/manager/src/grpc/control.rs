//! The `Control` service: a manager that is not the leader sends the
//! leader each control write it is asked for ([`ControlOp`]); the leader
//! runs it on its control API and answers with the result, errors
//! included, so the client sees what the leader said.

use rswarm_proto::control::control_server::Control;
use rswarm_proto::control::{ForwardRequest, ForwardResponse};
use tonic::{Request, Response, Status};

use super::Shared;
use super::auth::{Rpc, authorize};
use crate::control::{ControlOp, ControlReply, WireError};

/// `Control` on the swarm port (manager certificates only).
#[derive(Debug)]
pub(super) struct ControlService {
    shared: Shared,
}

impl ControlService {
    pub(super) fn new(shared: Shared) -> Self {
        ControlService { shared }
    }
}

#[tonic::async_trait]
impl Control for ControlService {
    async fn forward(
        &self,
        request: Request<ForwardRequest>,
    ) -> Result<Response<ForwardResponse>, Status> {
        let manager = &self.shared.manager;
        authorize(&manager.store, Rpc::ControlForward, &request)?;
        let op: ControlOp = serde_json::from_slice(&request.get_ref().op_json)
            .map_err(|e| Status::invalid_argument(format!("control operation: {e}")))?;
        let result: Result<ControlReply, WireError> =
            manager.control.execute(op).await.map_err(WireError::from);
        let result_json = serde_json::to_vec(&result)
            .map_err(|e| Status::internal(format!("control result: {e}")))?;
        Ok(Response::new(ForwardResponse { result_json }))
    }
}

//! The `CA` service: the root certificate for joining nodes, the unlock
//! key for managers.

use rswarm_proto::ca::ca_server::Ca;
use rswarm_proto::ca::{
    GetRootCaCertificateRequest, GetRootCaCertificateResponse, GetUnlockKeyRequest,
    GetUnlockKeyResponse,
};
use tonic::{Request, Response, Status};

use super::Shared;
use super::auth::{Rpc, authorize};

/// `CA` on the swarm port.
#[derive(Debug)]
pub(super) struct CaService {
    shared: Shared,
}

impl CaService {
    pub(super) fn new(shared: Shared) -> Self {
        CaService { shared }
    }
}

#[tonic::async_trait]
impl Ca for CaService {
    /// The exact root PEM: its SHA-256 is the digest in join tokens.
    async fn get_root_ca_certificate(
        &self,
        request: Request<GetRootCaCertificateRequest>,
    ) -> Result<Response<GetRootCaCertificateResponse>, Status> {
        let store = &self.shared.manager.store;
        authorize(store, Rpc::GetRootCaCertificate, &request)?;
        let certificate = store
            .view(|t| t.cluster().map(|c| c.ca_cert_pem.clone()))
            .ok_or_else(|| Status::unavailable("This node is not part of a swarm"))?;
        Ok(Response::new(GetRootCaCertificateResponse { certificate }))
    }

    /// Empty: autolock is not supported yet.
    async fn get_unlock_key(
        &self,
        request: Request<GetUnlockKeyRequest>,
    ) -> Result<Response<GetUnlockKeyResponse>, Status> {
        authorize(&self.shared.manager.store, Rpc::GetUnlockKey, &request)?;
        Ok(Response::new(GetUnlockKeyResponse {
            unlock_key: String::new(),
        }))
    }
}

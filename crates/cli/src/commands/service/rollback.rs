//! `service rollback`: `POST .../update?rollback=previous` with the
//! current spec (the daemon swaps in the previous one).

use std::io::Write;

use clap::Args;
use rswarm_types::Service;

use super::update::post_update;
use crate::client::{Client, seg};
use crate::error::Result;
use crate::output::Output;
use crate::progress::wait_on_service;

/// `service rollback`
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Exit immediately instead of waiting for the service to converge
    #[arg(short, long)]
    pub detach: bool,
    /// Suppress progress output
    #[arg(short, long)]
    pub quiet: bool,
    /// SERVICE
    pub service: String,
}

/// Runs `service rollback`.
pub async fn run(client: &Client, a: RollbackArgs, io: &mut Output) -> Result<()> {
    let svc: Service = client
        .get(&format!(
            "/services/{}?insertDefaults=false",
            seg(&a.service)
        ))
        .await?;
    post_update(client, &svc, "rollback=previous&", io).await?;
    writeln!(io.out, "{}", a.service)?;
    if a.detach {
        return Ok(());
    }
    wait_on_service(client, &a.service, a.quiet, io).await
}

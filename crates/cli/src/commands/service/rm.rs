//! `service rm`: `DELETE /services/{arg}` per argument, no lookup.

use std::io::Write;

use clap::Args;

use crate::client::{Client, seg};
use crate::error::{CliError, Result};
use crate::output::Output;

/// `service rm`
#[derive(Debug, Args)]
pub struct RmArgs {
    /// SERVICE
    #[arg(required = true)]
    pub services: Vec<String>,
}

/// Runs `service rm`.
pub async fn run(client: &Client, a: RmArgs, io: &mut Output) -> Result<()> {
    let mut errs = Vec::new();
    for s in &a.services {
        match client.delete(&format!("/services/{}", seg(s))).await {
            Ok(()) => writeln!(io.out, "{s}")?,
            Err(e) => errs.push(e),
        }
    }
    CliError::join(errs)
}

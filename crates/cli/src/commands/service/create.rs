//! `service create`: build the spec, `POST /services/create`, print the
//! ID, then wait for convergence unless `-d`.

use std::io::Write;

use serde::Deserialize;

use super::CreateArgs;
use super::spec::{create_spec, resolve_networks};
use crate::client::Client;
use crate::error::{CliError, Result};
use crate::output::Output;
use crate::progress::wait_on_service;

/// `ServiceCreateResponse`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateResponse {
    /// The new service's ID.
    #[serde(rename = "ID", default)]
    pub id: String,
    /// Warnings to print on stderr.
    #[serde(default)]
    pub warnings: Option<Vec<String>>,
}

/// Runs `service create`.
pub async fn run(client: &Client, a: CreateArgs, io: &mut Output) -> Result<()> {
    let mut spec = create_spec(&a)?;
    resolve_networks(client, &mut spec.task_template.networks).await?;
    let mut body = serde_json::to_value(&spec).map_err(|e| CliError::msg(e.to_string()))?;
    if spec.name.is_empty()
        && let Some(m) = body.as_object_mut()
    {
        m.remove("Name");
    }
    let body = client.post("/services/create", &body).await?;
    let resp: CreateResponse =
        serde_json::from_slice(&body).map_err(|e| CliError::Decode(e.to_string()))?;
    for w in resp.warnings.unwrap_or_default() {
        writeln!(io.err, "{w}")?;
    }
    writeln!(io.out, "{}", resp.id)?;
    if a.flags.detach {
        return Ok(());
    }
    wait_on_service(client, &resp.id, a.flags.quiet, io).await
}

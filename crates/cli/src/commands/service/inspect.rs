//! `service inspect [--pretty] [--format] SERVICE...`.

use std::collections::HashMap;

use clap::Args;
use rswarm_types::Service;

use super::pretty::pretty;
use crate::client::{Client, seg};
use crate::commands::inspect::{inspect_all, parse_val};
use crate::error::{CliError, Result};
use crate::output::Output;
use crate::value::Val;

/// `service inspect`
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Print the information in a human friendly format
    #[arg(long)]
    pub pretty: bool,
    /// Format output using a custom template
    #[arg(short, long, default_value = "")]
    pub format: String,
    /// SERVICE
    #[arg(required = true)]
    pub services: Vec<String>,
}

async fn fetch(client: &Client, r: &str) -> Result<Vec<u8>> {
    match client
        .get_raw(&format!("/services/{}?insertDefaults=true", seg(r)))
        .await
    {
        Err(e) if e.is_not_found() => Err(CliError::msg(format!("Error: no such service: {r}"))),
        other => other,
    }
}

/// Runs `service inspect`.
pub async fn run(client: &Client, a: InspectArgs, io: &mut Output) -> Result<()> {
    if a.pretty && !a.format.is_empty() {
        return Err(CliError::msg(
            "--format is incompatible with human friendly format",
        ));
    }
    if a.format.starts_with("pretty") && a.format != "pretty" {
        return Err(CliError::msg(
            "Cannot supply extra formatting options to the pretty template",
        ));
    }
    if a.pretty || a.format == "pretty" {
        let now = chrono::Utc::now();
        let mut text = String::new();
        for r in &a.services {
            let raw = fetch(client, r).await?;
            let svc: Service =
                serde_json::from_slice(&raw).map_err(|e| CliError::Decode(e.to_string()))?;
            let mut names = HashMap::new();
            for n in &svc.spec.task_template.networks {
                if let Ok(v) = client
                    .get::<serde_json::Value>(&format!("/networks/{}?scope=swarm", seg(&n.target)))
                    .await
                {
                    let name = v
                        .get("Name")
                        .and_then(|x| x.as_str())
                        .unwrap_or_default()
                        .to_string();
                    let id = v
                        .get("Id")
                        .and_then(|x| x.as_str())
                        .unwrap_or(&n.target)
                        .to_string();
                    names.insert(id, name);
                }
            }
            text.push_str(&pretty(&svc, &names, now));
            text.push('\n');
        }
        io.out.write_all(text.as_bytes())?;
        return Ok(());
    }
    inspect_all(
        &a.services,
        &a.format,
        |r| async move {
            let raw = fetch(client, &r).await?;
            let v: Val = parse_val(&raw)?;
            Ok(v)
        },
        io,
    )
    .await
}

//! `service scale SVC=N...`.

use std::io::Write;

use clap::Args;
use rswarm_types::Service;

use super::update::post_update;
use crate::client::{Client, seg};
use crate::error::{CliError, Result};
use crate::output::Output;
use crate::progress::wait_on_service;

/// `service scale`
#[derive(Debug, Args)]
pub struct ScaleArgs {
    /// Exit immediately instead of waiting for the service to converge
    #[arg(short, long)]
    pub detach: bool,
    /// SERVICE=REPLICAS
    #[arg(required = true)]
    pub args: Vec<String>,
}

async fn scale_one(client: &Client, name: &str, n: u64, io: &mut Output) -> Result<()> {
    let mut svc: Service = client
        .get(&format!("/services/{}?insertDefaults=false", seg(name)))
        .await?;
    let mode = &mut svc.spec.mode;
    if let Some(r) = mode.replicated.as_mut() {
        r.replicas = Some(n);
    } else if let Some(j) = mode.replicated_job.as_mut() {
        j.total_completions = Some(n);
    } else {
        return Err(CliError::msg(
            "scale can only be used with replicated or replicated-job mode",
        ));
    }
    post_update(client, &svc, "", io).await
}

/// Runs `service scale`.
pub async fn run(client: &Client, a: ScaleArgs, io: &mut Output) -> Result<()> {
    if let Some(bad) = a.args.iter().find(|s| !s.contains('=')) {
        return Err(CliError::msg(format!(
            "Invalid scale specifier '{bad}'.\nSee 'rswarm service scale --help'.\n\nUsage:  rswarm service scale SERVICE=REPLICAS [SERVICE=REPLICAS...]\n\nScale one or multiple replicated services"
        )));
    }
    let mut errs = Vec::new();
    let mut scaled = Vec::new();
    for arg in &a.args {
        let (name, count) = arg.split_once('=').unwrap_or((arg, ""));
        let n: u64 = match count.parse() {
            Ok(n) => n,
            Err(_) => {
                errs.push(CliError::msg(format!(
                    "{name}: invalid replicas value {count}: strconv.ParseUint: parsing \"{count}\": invalid syntax"
                )));
                continue;
            }
        };
        match scale_one(client, name, n, io).await {
            Ok(()) => {
                writeln!(io.out, "{name} scaled to {n}")?;
                scaled.push(name.to_string());
            }
            Err(e) => errs.push(CliError::msg(format!("{name}: {e}"))),
        }
    }
    if !a.detach {
        for name in &scaled {
            if let Err(e) = wait_on_service(client, name, false, io).await {
                errs.push(CliError::msg(format!("{name}: {e}")));
            }
        }
    }
    CliError::join(errs)
}

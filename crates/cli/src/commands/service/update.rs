//! `service update`: read the service, apply the flags, post the whole
//! spec back with the read version, print the argument, wait unless `-d`.

use std::io::Write;

use rswarm_types::Service;
use serde::Deserialize;

use super::UpdateArgs;
use super::update_spec::{apply_update, other_than_rollback};
use crate::client::{Client, seg};
use crate::error::{CliError, Result};
use crate::output::Output;
use crate::progress::wait_on_service;

/// `ServiceUpdateResponse`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateResponse {
    /// Warnings to print on stderr.
    #[serde(default)]
    pub warnings: Option<Vec<String>>,
}

/// Posts `spec` as the new spec of `svc` and prints warnings.
pub async fn post_update(
    client: &Client,
    svc: &Service,
    query: &str,
    io: &mut Output,
) -> Result<()> {
    let path = format!(
        "/services/{}/update?{query}version={}",
        seg(&svc.id),
        svc.meta.version.index
    );
    let body = client.post(&path, &svc.spec).await?;
    let resp: UpdateResponse = if body.is_empty() {
        UpdateResponse::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| CliError::Decode(e.to_string()))?
    };
    for w in resp.warnings.unwrap_or_default() {
        writeln!(io.err, "{w}")?;
    }
    Ok(())
}

/// Runs `service update`.
pub async fn run(client: &Client, a: UpdateArgs, io: &mut Output) -> Result<()> {
    let mut svc: Service = client
        .get(&format!(
            "/services/{}?insertDefaults=false",
            seg(&a.service)
        ))
        .await?;
    if a.rollback && other_than_rollback(&a) {
        return Err(CliError::msg(
            "other flags may not be combined with --rollback",
        ));
    }
    let mut net_ids = Vec::new();
    for n in &a.network_add {
        #[derive(Deserialize)]
        struct Net {
            #[serde(rename = "Id", alias = "ID", default)]
            id: String,
        }
        let net: Net = client
            .get(&format!("/networks/{}?scope=swarm", seg(n)))
            .await?;
        net_ids.push(net.id);
    }
    let mut rm_ids = Vec::new();
    for n in &a.network_rm {
        #[derive(Deserialize)]
        struct Net {
            #[serde(rename = "Id", alias = "ID", default)]
            id: String,
        }
        match client
            .get::<Net>(&format!("/networks/{}?scope=swarm", seg(n)))
            .await
        {
            Ok(net) => rm_ids.push(net.id),
            Err(_) => rm_ids.push(n.clone()),
        }
    }
    let mut args = a.clone();
    args.network_rm = rm_ids;
    apply_update(&mut svc.spec, &args, &net_ids)?;
    let query = if a.rollback {
        "registryAuthFrom=spec&rollback=previous&"
    } else {
        "registryAuthFrom=spec&"
    };
    post_update(client, &svc, query, io).await?;
    writeln!(io.out, "{}", a.service)?;
    if a.flags.detach {
        return Ok(());
    }
    wait_on_service(client, &a.service, a.flags.quiet, io).await
}

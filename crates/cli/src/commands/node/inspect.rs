//! `node inspect [--pretty] [--format]`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rswarm_types::Node;

use super::InspectArgs;
use crate::client::{Client, seg};
use crate::commands::info::node_reference;
use crate::commands::inspect::{inspect_all, parse_val};
use crate::error::{CliError, Result};
use crate::human::{bytes_size, capitalize, pretty_time};
use crate::output::Output;

/// Runs `node inspect`.
pub async fn run(client: &Client, a: InspectArgs, io: &mut Output) -> Result<()> {
    if a.pretty {
        if !a.format.is_empty() {
            return Err(CliError::msg(
                "--format is incompatible with human friendly format",
            ));
        }
        let mut text = String::new();
        for r in &a.nodes {
            let id = node_reference(client, r).await?;
            let node: Node = client.get(&format!("/nodes/{}", seg(&id))).await?;
            text.push_str(&pretty(&node));
            text.push('\n');
        }
        io.out.write_all(text.as_bytes())?;
        return Ok(());
    }
    if a.format.starts_with("pretty") && a.format != "pretty" {
        return Err(CliError::msg(
            "cannot supply extra formatting options to the pretty template",
        ));
    }
    inspect_all(
        &a.nodes,
        &a.format,
        |r| async move {
            let id = node_reference(client, &r).await?;
            let raw = client.get_raw(&format!("/nodes/{}", seg(&id))).await?;
            parse_val(&raw)
        },
        io,
    )
    .await
}

fn labels(out: &mut String, title: &str, labels: &BTreeMap<String, String>) {
    if labels.is_empty() {
        return;
    }
    let _ = write!(out, "\n{title}:");
    for (k, v) in labels {
        let _ = write!(out, "\n - {k}");
        if !v.is_empty() {
            let _ = write!(out, "={v}");
        }
    }
}

/// docker's human-friendly node view (without the trailing newline).
pub fn pretty(n: &Node) -> String {
    let mut o = String::new();
    let _ = write!(o, "ID:\t\t\t{}", n.id);
    if !n.spec.name.is_empty() {
        let _ = write!(o, "\nName:\t\t\t{}", n.spec.name);
    }
    labels(&mut o, "Labels", &n.spec.labels);
    let _ = write!(o, "\nHostname:              \t{}", n.description.hostname);
    let _ = write!(
        o,
        "\nJoined at:             \t{}",
        pretty_time(n.meta.created_at)
    );
    let _ = write!(
        o,
        "\nStatus:\n State:\t\t\t{}",
        capitalize(n.status.state.as_str())
    );
    if !n.status.message.is_empty() {
        let _ = write!(
            o,
            "\n Message:              \t{}",
            capitalize(&n.status.message)
        );
    }
    let _ = write!(
        o,
        "\n Availability:         \t{}",
        capitalize(n.spec.availability.as_str())
    );
    if !n.status.addr.is_empty() {
        let _ = write!(o, "\n Address:\t\t{}", n.status.addr);
    }
    if let Some(m) = &n.manager_status {
        let _ = write!(
            o,
            "\nManager Status:\n Address:\t\t{}\n Raft Status:\t\t{}\n Leader:\t\t{}",
            m.addr,
            capitalize(&m.reachability),
            if m.leader { "Yes" } else { "No" }
        );
    }
    let d = &n.description;
    let _ = write!(
        o,
        "\nPlatform:\n Operating System:\t{}\n Architecture:\t\t{}",
        d.platform.os, d.platform.architecture
    );
    let mem = if d.resources.memory_bytes == 0 {
        String::new()
    } else {
        bytes_size(d.resources.memory_bytes as f64)
    };
    let _ = write!(
        o,
        "\nResources:\n CPUs:\t\t\t{}\n Memory:\t\t{mem}",
        d.resources.nano_cpus / 1_000_000_000
    );
    if !d.engine.plugins.is_empty() {
        let mut by_type: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for p in &d.engine.plugins {
            let field = |k: &str| {
                p.get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            by_type
                .entry(field("Type"))
                .or_default()
                .push(field("Name"));
        }
        o.push_str("\nPlugins:");
        for (k, v) in by_type {
            let names = v.join(", ");
            let _ = write!(o, "\n {k}:");
            if !names.is_empty() {
                let _ = write!(o, "\t\t{names}");
            }
        }
    }
    let _ = write!(o, "\nEngine Version:\t\t{}", d.engine.engine_version);
    labels(&mut o, "Engine Labels", &d.engine.labels);
    if let Some(tls) = d
        .tls_info
        .as_ref()
        .filter(|t| **t != rswarm_types::TlsInfo::default())
    {
        let _ = write!(
            o,
            "\nTLS Info:\n TrustRoot:\n{}\n Issuer Subject:\t{}\n Issuer Public Key:\t{}",
            tls.trust_root, tls.cert_issuer_subject, tls.cert_issuer_public_key
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_matches_docker_golden() {
        let node: Node = serde_json::from_str(
            r#"{"ID":"nodeID","CreatedAt":"2009-11-10T23:00:00Z","UpdatedAt":"2009-11-10T23:00:00Z",
            "Spec":{"Name":"defaultNodeName","Labels":{"lbl1":"value1"},"Role":"manager","Availability":"active"},
            "Description":{"Hostname":"defaultNodeHostname","Platform":{"Architecture":"x86_64","OS":"linux"},
              "Resources":{"MemoryBytes":20971520},
              "Engine":{"EngineVersion":"1.13.0","Labels":{"engine":"label"},
                "Plugins":[{"Type":"Volume","Name":"local"},{"Type":"Network","Name":"bridge"},{"Type":"Network","Name":"overlay"}]}},
            "Status":{"State":"ready","Addr":"127.0.0.1"}}"#,
        )
        .expect("node");
        let golden = "ID:\t\t\tnodeID\nName:\t\t\tdefaultNodeName\nLabels:\n - lbl1=value1\nHostname:              \tdefaultNodeHostname\nJoined at:             \t2009-11-10 23:00:00 +0000 utc\nStatus:\n State:\t\t\tReady\n Availability:         \tActive\n Address:\t\t127.0.0.1\nPlatform:\n Operating System:\tlinux\n Architecture:\t\tx86_64\nResources:\n CPUs:\t\t\t0\n Memory:\t\t20MiB\nPlugins:\n Network:\t\tbridge, overlay\n Volume:\t\tlocal\nEngine Version:\t\t1.13.0\nEngine Labels:\n - engine=label";
        assert_eq!(pretty(&node), golden);
    }
}

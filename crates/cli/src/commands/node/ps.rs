//! `node ps [NODE...]`: tasks of nodes (default `self`).

use rswarm_types::{Node, Task};

use super::PsArgs;
use crate::client::{Client, seg};
use crate::commands::info::node_reference;
use crate::commands::task;
use crate::error::{CliError, Result};
use crate::filters::Filters;
use crate::output::Output;

/// Runs `node ps`.
pub async fn run(client: &Client, a: PsArgs, io: &mut Output) -> Result<()> {
    let nodes = if a.nodes.is_empty() {
        vec!["self".to_string()]
    } else {
        a.nodes.clone()
    };
    let mut errs: Vec<String> = Vec::new();
    let mut tasks: Vec<Task> = Vec::new();
    for r in &nodes {
        let id = match node_reference(client, r).await {
            Ok(id) => id,
            Err(e) => {
                errs.push(e.to_string());
                continue;
            }
        };
        let node: Node = match client.get(&format!("/nodes/{}", seg(&id))).await {
            Ok(n) => n,
            Err(e) => {
                errs.push(e.to_string());
                continue;
            }
        };
        let mut f = Filters::parse(&a.filter)?;
        f.add("node", &node.id);
        match client
            .get::<Vec<Task>>(&format!("/tasks?{}", f.query()))
            .await
        {
            Ok(t) => tasks.extend(t),
            Err(e) => errs.push(e.to_string()),
        }
    }
    if errs.is_empty() || !tasks.is_empty() {
        let trunc = !a.no_trunc;
        if let Err(e) =
            task::print(client, tasks, a.no_resolve, trunc, a.quiet, &a.format, io).await
        {
            errs.push(e.to_string());
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(CliError::Msg(errs.join("\n")))
    }
}

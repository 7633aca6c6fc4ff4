//! `service ps`: find the services by ID, name or prefix (two list
//! calls), list their tasks, print docker's task table.

use clap::Args;
use rswarm_types::{Service, Task};

use crate::client::Client;
use crate::commands::info::node_reference;
use crate::commands::task;
use crate::error::{CliError, Result};
use crate::filters::Filters;
use crate::output::Output;

/// `service ps`
#[derive(Debug, Args)]
pub struct PsArgs {
    /// Only display task IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Do not map IDs to Names
    #[arg(long)]
    pub no_resolve: bool,
    /// Pretty-print tasks using a Go template
    #[arg(long, default_value = "")]
    pub format: String,
    /// Filter output based on conditions provided
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// SERVICE
    #[arg(required = true)]
    pub services: Vec<String>,
}

/// Picks services for the arguments: exact ID, exact name, unique ID
/// prefix. Returns the task filter and "no such service" messages.
pub fn match_services(
    args: &[String],
    by_id: &[Service],
    by_name: &[Service],
    filter: &mut Filters,
) -> Result<Vec<String>> {
    let mut notfound = Vec::new();
    let mut count = 0;
    'outer: for arg in args {
        if let Some(s) = by_id.iter().find(|s| &s.id == arg) {
            filter.add("service", &s.id);
            count += 1;
            continue;
        }
        if let Some(s) = by_name.iter().find(|s| &s.spec.name == arg) {
            filter.add("service", &s.id);
            count += 1;
            continue;
        }
        let mut found = false;
        for s in by_id.iter().filter(|s| s.id.starts_with(arg.as_str())) {
            if found {
                return Err(CliError::msg(format!(
                    "multiple services found with provided prefix: {arg}"
                )));
            }
            filter.add("service", &s.id);
            count += 1;
            found = true;
        }
        if found {
            continue 'outer;
        }
        notfound.push(format!("no such service: {arg}"));
    }
    if count == 0 {
        return Err(CliError::Msg(notfound.join("\n")));
    }
    Ok(notfound)
}

/// Runs `service ps`.
pub async fn run(client: &Client, a: PsArgs, io: &mut Output) -> Result<()> {
    let mut filter = Filters::parse(&a.filter)?;
    let mut id_f = Filters::new();
    let mut name_f = Filters::new();
    for s in &a.services {
        id_f.add("id", s);
        name_f.add("name", s);
    }
    let by_id: Vec<Service> = client.get(&format!("/services?{}", id_f.query())).await?;
    let by_name: Vec<Service> = client.get(&format!("/services?{}", name_f.query())).await?;
    let notfound = match_services(&a.services, &by_id, &by_name, &mut filter)?;
    let nodes = filter.get("node");
    if !nodes.is_empty() {
        filter.remove("node");
        for n in nodes {
            let r = node_reference(client, &n).await?;
            filter.add("node", &r);
        }
    }
    let tasks: Vec<Task> = client.get(&format!("/tasks?{}", filter.query())).await?;
    let trunc = !(a.no_trunc || a.quiet);
    task::print(client, tasks, a.no_resolve, trunc, a.quiet, &a.format, io).await?;
    if notfound.is_empty() {
        Ok(())
    } else {
        Err(CliError::Msg(notfound.join("\n")))
    }
}

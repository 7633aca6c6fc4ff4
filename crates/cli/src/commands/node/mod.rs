//! `node ls|inspect|update|promote|demote|rm|ps`.

mod inspect;
mod ls;
mod ps;
mod update;

use std::io::Write;

use clap::{Args, Subcommand};

use crate::client::{Client, seg};
use crate::error::{CliError, Result};
use crate::output::Output;

pub use inspect::pretty as pretty_node;
pub use ls::node_row;

/// `rswarm node ...`
#[derive(Debug, Subcommand)]
pub enum NodeCmd {
    /// List nodes in the swarm
    #[command(visible_alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on one or more nodes
    Inspect(InspectArgs),
    /// Update a node
    Update(UpdateArgs),
    /// Promote one or more nodes to manager in the swarm
    Promote(NodesArgs),
    /// Demote one or more nodes from manager in the swarm
    Demote(NodesArgs),
    /// Remove one or more nodes from the swarm
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
    /// List tasks running on one or more nodes, defaults to current node
    Ps(PsArgs),
}

/// `node ls`
#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only display IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Format output using a custom template
    #[arg(long, default_value = "")]
    pub format: String,
    /// Filter output based on conditions provided
    #[arg(short, long)]
    pub filter: Vec<String>,
}

/// `node inspect`
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Print the information in a human friendly format
    #[arg(long)]
    pub pretty: bool,
    /// Format output using a custom template
    #[arg(short, long, default_value = "")]
    pub format: String,
    /// self|NODE
    #[arg(required = true)]
    pub nodes: Vec<String>,
}

/// `node update`
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Availability of the node ("active", "pause", "drain")
    #[arg(long)]
    pub availability: Option<String>,
    /// Role of the node ("worker", "manager")
    #[arg(long)]
    pub role: Option<String>,
    /// Add or update a node label ("key=value")
    #[arg(long)]
    pub label_add: Vec<String>,
    /// Remove a node label if exists
    #[arg(long)]
    pub label_rm: Vec<String>,
    /// NODE
    pub node: String,
}

/// `node promote|demote`
#[derive(Debug, Args)]
pub struct NodesArgs {
    /// NODE
    #[arg(required = true)]
    pub nodes: Vec<String>,
}

/// `node rm`
#[derive(Debug, Args)]
pub struct RmArgs {
    /// Force remove a node from the swarm
    #[arg(short, long)]
    pub force: bool,
    /// NODE
    #[arg(required = true)]
    pub nodes: Vec<String>,
}

/// `node ps`
#[derive(Debug, Args)]
pub struct PsArgs {
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Do not map IDs to Names
    #[arg(long)]
    pub no_resolve: bool,
    /// Filter output based on conditions provided
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Pretty-print tasks using a Go template
    #[arg(long, default_value = "")]
    pub format: String,
    /// Only display task IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// NODE (default: self)
    pub nodes: Vec<String>,
}

/// Runs a node subcommand.
pub async fn run(client: &Client, cmd: NodeCmd, io: &mut Output) -> Result<()> {
    match cmd {
        NodeCmd::Ls(a) => ls::run(client, a, io).await,
        NodeCmd::Inspect(a) => inspect::run(client, a, io).await,
        NodeCmd::Update(a) => update::update(client, a, io).await,
        NodeCmd::Promote(a) => update::set_role(client, a.nodes, true, io).await,
        NodeCmd::Demote(a) => update::set_role(client, a.nodes, false, io).await,
        NodeCmd::Rm(a) => {
            let mut errs = Vec::new();
            for n in &a.nodes {
                let path = format!("/nodes/{}{}", seg(n), if a.force { "?force=1" } else { "" });
                match client.delete(&path).await {
                    Ok(()) => writeln!(io.out, "{n}")?,
                    Err(e) => errs.push(e),
                }
            }
            CliError::join(errs)
        }
        NodeCmd::Ps(a) => ps::run(client, a, io).await,
    }
}

//! The command tree and its dispatch.

pub mod info;
pub mod inspect;
pub mod node;
pub mod service;
pub mod swarm;
pub mod task;

use crate::client::Client;
use crate::error::Result;
use crate::output::Output;

/// The top-level commands of this crate.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum CliCommand {
    /// Manage Swarm
    #[command(subcommand)]
    Swarm(swarm::SwarmCmd),
    /// Manage Swarm nodes
    #[command(subcommand)]
    Node(node::NodeCmd),
    /// Manage Swarm services
    #[command(subcommand)]
    Service(service::ServiceCmd),
}

/// Runs a parsed command.
pub async fn dispatch(client: &Client, cmd: CliCommand, io: &mut Output) -> Result<()> {
    match cmd {
        CliCommand::Swarm(c) => swarm::run(client, c, io).await,
        CliCommand::Node(c) => node::run(client, c, io).await,
        CliCommand::Service(c) => service::run(client, c, io).await,
    }
}

//! The `rswarm` command line: Docker's `swarm`, `node` and `service`
//! commands, speaking the Docker Engine API to an rswarm (or Docker)
//! daemon exactly as the docker CLI does: the same requests in the same
//! order, the same tables (`--format`, `-q`, Go tabwriter alignment), the
//! same convergence progress display, the same messages and exit codes.
//! Checked byte for byte against docker 28 on a Docker 20.10 swarm.
//!
//! Entry points: [`CliCommand`] (clap subcommands) and [`run`]. Everything
//! prints through [`output::Output`], so tests capture it.
//!
//! Differences from docker, on purpose: hints name `rswarm` where docker
//! names `docker`; registries are never queried (`--no-resolve-image` is
//! always on, `--with-registry-auth` is accepted and ignored); on a
//! non-terminal the progress display prints a line only when it changes
//! (docker repeats lines every 200 ms and hides the per-task bars).
//! Not here: secrets, configs, mounts, DNS and healthcheck flags,
//! `swarm unlock`/`ca`, stacks, networks.

use std::io::Write as _;

pub mod client;
pub mod commands;
pub mod error;
pub mod filters;
pub mod human;
pub mod opts;
pub mod output;
pub mod ports;
pub mod progress;
pub mod stdcopy;
pub mod table;
pub mod template;
pub mod value;

pub use commands::CliCommand;
pub use commands::node::NodeCmd;
pub use commands::service::ServiceCmd;
pub use commands::swarm::SwarmCmd;
pub use error::CliError;

/// A UTC time.
pub(crate) type Timestamp = rswarm_types::Timestamp;

/// Where the CLI looks for the daemon unless `-H`/`RSWARM_HOST` say otherwise.
pub const DEFAULT_HOST: &str = "unix:///run/rswarm/rswarm.sock";

/// Runs one command against the daemon at `host` (`unix:///path` or
/// `tcp://host:port`), printing to stdout/stderr like docker; returns the
/// process exit code (0 ok, 1 error).
pub async fn run(host: &str, cmd: CliCommand) -> i32 {
    let mut io = output::Output::stdio();
    run_with(host, cmd, &mut io).await
}

/// [`run`] with explicit output streams.
pub async fn run_with(host: &str, cmd: CliCommand, io: &mut output::Output) -> i32 {
    let result = match client::Client::connect(host).await {
        Ok(client) => commands::dispatch(&client, cmd, io).await,
        Err(e) => Err(e),
    };
    let _ = std::io::Write::flush(&mut io.out);
    match result {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(io.err, "{e}");
            1
        }
    }
}

//! `rswarm daemon` flags.

use std::path::PathBuf;

/// Which executor runs tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Runtime {
    /// `docker` when an engine answers on `--docker-host`, else `process`.
    Auto,
    /// Tasks run as host processes.
    Process,
    /// Tasks run as containers on the node's Docker engine.
    Docker,
}

/// Flags of `rswarm daemon`.
#[derive(Clone, Debug, clap::Args)]
pub struct DaemonArgs {
    /// Socket(s) to serve the Engine API on: unix:///path or tcp://host:port (repeatable).
    #[arg(short = 'H', long = "host", value_name = "URL")]
    pub hosts: Vec<String>,
    /// Where the node keeps its state.
    #[arg(long, default_value = "/var/lib/rswarm")]
    pub data_root: PathBuf,
    /// The node's hostname (defaults to the machine's).
    #[arg(long)]
    pub hostname: Option<String>,
    /// Task runtime.
    #[arg(long, value_enum, default_value = "auto")]
    pub runtime: Runtime,
    /// The Docker engine of the docker runtime: unix:///path or tcp://host:port [default: unix:///var/run/docker.sock].
    #[arg(long, value_name = "URL")]
    pub docker_host: Option<String>,
}

/// The default socket when no `-H` is given.
pub const DEFAULT_SOCKET: &str = "unix:///run/rswarm/rswarm.sock";

//! The `rswarm` binary: the docker-style CLI (`rswarm swarm|node|service
//! ...`), the node daemon (`rswarm daemon`) and a local playground swarm
//! (`rswarm playground`).

mod playground;
mod restore;

use clap::{Parser, Subcommand};

/// Docker Swarm mode, rebuilt in Rust.
#[derive(Debug, Parser)]
#[command(name = "rswarm", version, about, propagate_version = true)]
struct Cli {
    /// Daemon socket to connect to (unix:///path or tcp://host:port).
    #[arg(short = 'H', long = "host", env = "RSWARM_HOST", value_name = "URL")]
    host: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[allow(clippy::large_enum_variant, reason = "parsed once per process")]
#[derive(Debug, Subcommand)]
enum Command {
    /// Run a node daemon (outside any swarm until `swarm init`).
    Daemon(rswarm_daemon::DaemonArgs),
    /// Start a local swarm with a demo service, until Ctrl-C.
    Playground(playground::PlaygroundArgs),
    #[command(flatten)]
    Cli(rswarm_cli::CliCommand),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Daemon(_)) {
        // Before any thread exists (unshare needs a single thread).
        rswarm_daemon::networking::own_mount_namespace();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rswarm: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async move {
        match cli.command {
            Command::Daemon(args) => {
                init_logging();
                match rswarm_daemon::run(args).await {
                    Ok(()) => 0,
                    Err(e) => {
                        eprintln!("rswarm daemon: {e:#}");
                        1
                    }
                }
            }
            Command::Playground(args) => match playground::run(args).await {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("rswarm playground: {e:#}");
                    1
                }
            },
            Command::Cli(rswarm_cli::CliCommand::Swarm(rswarm_cli::SwarmCmd::Restore(a))) => {
                restore::run(a)
            }
            Command::Cli(cmd) => {
                let host = cli
                    .host
                    .unwrap_or_else(|| rswarm_cli::DEFAULT_HOST.to_string());
                rswarm_cli::run(&host, cmd).await
            }
        }
    });
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,openraft=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

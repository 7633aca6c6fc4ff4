//! A stand-alone driver for trying the CLI against any daemon:
//! `cargo run -p rswarm-cli --example cli -- -H unix:///var/run/docker.sock service ls`.

use clap::Parser;

#[derive(Parser)]
struct Cli {
    /// Daemon socket to connect to
    #[arg(short = 'H', long, env = "RSWARM_HOST", default_value = rswarm_cli::DEFAULT_HOST)]
    host: String,
    #[command(subcommand)]
    cmd: rswarm_cli::CliCommand,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    std::process::exit(rswarm_cli::run(&cli.host, cli.cmd).await);
}

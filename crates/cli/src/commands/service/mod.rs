//! `service create|inspect|logs|ls|ps|rm|rollback|scale|update`.

pub mod create;
pub mod inspect;
pub mod logs;
pub mod ls;
pub mod pretty;
pub mod ps;
pub mod rm;
pub mod rollback;
pub mod scale;
pub mod spec;
pub mod update;
pub mod update_spec;

use clap::{Args, Subcommand};

use crate::client::Client;
use crate::error::Result;
use crate::opts::{
    parse_cpus, parse_go_duration, parse_positive_duration, parse_ram_bytes, parse_uint,
    validate_env, validate_ip_address, validate_label,
};
use crate::output::Output;

/// `rswarm service ...`
#[derive(Debug, Subcommand)]
pub enum ServiceCmd {
    /// Create a new service
    Create(Box<CreateArgs>),
    /// Display detailed information on one or more services
    Inspect(inspect::InspectArgs),
    /// Fetch the logs of a service or task
    Logs(logs::LogsArgs),
    /// List services
    #[command(visible_alias = "list")]
    Ls(ls::LsArgs),
    /// List the tasks of one or more services
    Ps(ps::PsArgs),
    /// Remove one or more services
    #[command(visible_alias = "remove")]
    Rm(rm::RmArgs),
    /// Revert changes to a service's configuration
    Rollback(rollback::RollbackArgs),
    /// Scale one or multiple replicated services
    Scale(scale::ScaleArgs),
    /// Update a service
    Update(Box<UpdateArgs>),
}

/// Runs a service subcommand.
pub async fn run(client: &Client, cmd: ServiceCmd, io: &mut Output) -> Result<()> {
    match cmd {
        ServiceCmd::Create(a) => create::run(client, *a, io).await,
        ServiceCmd::Inspect(a) => inspect::run(client, a, io).await,
        ServiceCmd::Logs(a) => logs::run(client, a, io).await,
        ServiceCmd::Ls(a) => ls::run(client, a, io).await,
        ServiceCmd::Ps(a) => ps::run(client, a, io).await,
        ServiceCmd::Rm(a) => rm::run(client, a, io).await,
        ServiceCmd::Rollback(a) => rollback::run(client, a, io).await,
        ServiceCmd::Scale(a) => scale::run(client, a, io).await,
        ServiceCmd::Update(a) => update::run(client, *a, io).await,
    }
}

/// Flags common to `create` and `update` (none has a default, so "given"
/// is "not None").
#[derive(Debug, Default, Clone, PartialEq, Args)]
pub struct ServiceFlags {
    /// Exit immediately instead of waiting for the service to converge
    #[arg(short, long)]
    pub detach: bool,
    /// Suppress progress output
    #[arg(short, long)]
    pub quiet: bool,
    /// Working directory inside the container
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Container hostname
    #[arg(long)]
    pub hostname: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Limit CPUs
    #[arg(long, value_parser = parse_cpus)]
    pub limit_cpu: Option<i64>,
    /// Limit Memory
    #[arg(long, value_parser = parse_ram_bytes)]
    pub limit_memory: Option<i64>,
    /// Limit maximum number of processes (default 0 = unlimited)
    #[arg(long)]
    pub limit_pids: Option<i64>,
    /// Reserve CPUs
    #[arg(long, value_parser = parse_cpus)]
    pub reserve_cpu: Option<i64>,
    /// Reserve Memory
    #[arg(long, value_parser = parse_ram_bytes)]
    pub reserve_memory: Option<i64>,
    /// Time to wait before force killing a container (ns|us|ms|s|m|h) (default 10s)
    #[arg(long, value_parser = parse_positive_duration)]
    pub stop_grace_period: Option<i64>,
    /// Signal to stop the container
    #[arg(long)]
    pub stop_signal: Option<String>,
    /// Number of tasks
    #[arg(long, value_parser = parse_uint)]
    pub replicas: Option<u64>,
    /// Number of job tasks to run concurrently (default equal to --replicas)
    #[arg(long, value_parser = parse_uint)]
    pub max_concurrent: Option<u64>,
    /// Maximum number of tasks per node (default 0 = unlimited)
    #[arg(long = "replicas-max-per-node")]
    pub max_replicas: Option<u64>,
    /// Restart when condition is met ("none", "on-failure", "any") (default "any")
    #[arg(long)]
    pub restart_condition: Option<String>,
    /// Delay between restart attempts (ns|us|ms|s|m|h) (default 5s)
    #[arg(long, value_parser = parse_positive_duration)]
    pub restart_delay: Option<i64>,
    /// Maximum number of restarts before giving up
    #[arg(long, value_parser = parse_uint)]
    pub restart_max_attempts: Option<u64>,
    /// Window used to evaluate the restart policy (ns|us|ms|s|m|h)
    #[arg(long, value_parser = parse_positive_duration)]
    pub restart_window: Option<i64>,
    /// Maximum number of tasks updated simultaneously (0 to update all at once)
    #[arg(long)]
    pub update_parallelism: Option<u64>,
    /// Delay between updates (ns|us|ms|s|m|h) (default 0s)
    #[arg(long, value_parser = parse_go_duration)]
    pub update_delay: Option<i64>,
    /// Duration after each task update to monitor for failure (ns|us|ms|s|m|h) (default 5s)
    #[arg(long, value_parser = parse_go_duration)]
    pub update_monitor: Option<i64>,
    /// Action on update failure ("pause", "continue", "rollback") (default "pause")
    #[arg(long)]
    pub update_failure_action: Option<String>,
    /// Failure rate to tolerate during an update (default 0)
    #[arg(long)]
    pub update_max_failure_ratio: Option<f64>,
    /// Update order ("start-first", "stop-first") (default "stop-first")
    #[arg(long)]
    pub update_order: Option<String>,
    /// Maximum number of tasks rolled back simultaneously (0 to roll back all at once)
    #[arg(long)]
    pub rollback_parallelism: Option<u64>,
    /// Delay between task rollbacks (ns|us|ms|s|m|h) (default 0s)
    #[arg(long, value_parser = parse_go_duration)]
    pub rollback_delay: Option<i64>,
    /// Duration after each task rollback to monitor for failure (ns|us|ms|s|m|h) (default 5s)
    #[arg(long, value_parser = parse_go_duration)]
    pub rollback_monitor: Option<i64>,
    /// Action on rollback failure ("pause", "continue") (default "pause")
    #[arg(long)]
    pub rollback_failure_action: Option<String>,
    /// Failure rate to tolerate during a rollback (default 0)
    #[arg(long)]
    pub rollback_max_failure_ratio: Option<f64>,
    /// Rollback order ("start-first", "stop-first") (default "stop-first")
    #[arg(long)]
    pub rollback_order: Option<String>,
    /// Endpoint mode (vip or dnsrr) (default "vip")
    #[arg(long)]
    pub endpoint_mode: Option<String>,
    /// Send registry authentication details to swarm agents (accepted, ignored)
    #[arg(long)]
    pub with_registry_auth: bool,
    /// Do not query the registry to resolve image digest (always the case here)
    #[arg(long)]
    pub no_resolve_image: bool,
    /// Logging driver for service
    #[arg(long)]
    pub log_driver: Option<String>,
    /// Logging driver options
    #[arg(long)]
    pub log_opt: Vec<String>,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub tty: Option<bool>,
    /// Mount the container's root filesystem as read only
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub read_only: Option<bool>,
    /// Use an init inside each service container to forward signals and reap processes
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub init: Option<bool>,
}

/// `service create [OPTIONS] IMAGE [COMMAND] [ARG...]`
#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// Service name
    #[arg(long, default_value = "")]
    pub name: String,
    /// Service mode ("replicated", "global", "replicated-job", "global-job")
    #[arg(long, default_value = "replicated")]
    pub mode: String,
    /// Service labels
    #[arg(short = 'l', long, value_parser = validate_label)]
    pub label: Vec<String>,
    /// Container labels
    #[arg(long, value_parser = validate_label)]
    pub container_label: Vec<String>,
    /// Set environment variables
    #[arg(short = 'e', long, value_parser = validate_env)]
    pub env: Vec<String>,
    /// Placement constraints
    #[arg(long)]
    pub constraint: Vec<String>,
    /// Add a placement preference
    #[arg(long)]
    pub placement_pref: Vec<String>,
    /// Publish a port as a node port
    #[arg(short = 'p', long)]
    pub publish: Vec<String>,
    /// Network attachments
    #[arg(long)]
    pub network: Vec<String>,
    /// Set custom DNS servers
    #[arg(long, value_parser = validate_ip_address)]
    pub dns: Vec<String>,
    /// Set custom DNS search domains
    #[arg(long)]
    pub dns_search: Vec<String>,
    /// Set DNS options
    #[arg(long)]
    pub dns_option: Vec<String>,
    #[command(flatten)]
    pub flags: ServiceFlags,
    /// IMAGE [COMMAND] [ARG...]
    #[arg(value_name = "IMAGE", required = true, num_args = 1.., trailing_var_arg = true, allow_hyphen_values = true)]
    pub cmd: Vec<String>,
}

/// `service update [OPTIONS] SERVICE`
#[derive(Debug, Default, Clone, PartialEq, Args)]
pub struct UpdateArgs {
    /// Service image tag
    #[arg(long)]
    pub image: Option<String>,
    /// Service command args
    #[arg(long, allow_hyphen_values = true)]
    pub args: Option<String>,
    /// Rollback to previous specification
    #[arg(long)]
    pub rollback: bool,
    /// Force update even if no changes require it
    #[arg(long)]
    pub force: bool,
    /// Add or update an environment variable
    #[arg(long, value_parser = validate_env)]
    pub env_add: Vec<String>,
    /// Remove an environment variable
    #[arg(long)]
    pub env_rm: Vec<String>,
    /// Add or update a service label
    #[arg(long, value_parser = validate_label)]
    pub label_add: Vec<String>,
    /// Remove a label by its key
    #[arg(long)]
    pub label_rm: Vec<String>,
    /// Add or update a container label
    #[arg(long, value_parser = validate_label)]
    pub container_label_add: Vec<String>,
    /// Remove a container label by its key
    #[arg(long)]
    pub container_label_rm: Vec<String>,
    /// Add or update a placement constraint
    #[arg(long)]
    pub constraint_add: Vec<String>,
    /// Remove a constraint
    #[arg(long)]
    pub constraint_rm: Vec<String>,
    /// Add a placement preference
    #[arg(long)]
    pub placement_pref_add: Vec<String>,
    /// Remove a placement preference
    #[arg(long)]
    pub placement_pref_rm: Vec<String>,
    /// Add or update a published port
    #[arg(long)]
    pub publish_add: Vec<String>,
    /// Remove a published port by its target port
    #[arg(long)]
    pub publish_rm: Vec<String>,
    /// Add a network
    #[arg(long)]
    pub network_add: Vec<String>,
    /// Remove a network
    #[arg(long)]
    pub network_rm: Vec<String>,
    /// Add or update a custom DNS server
    #[arg(long, value_parser = validate_ip_address)]
    pub dns_add: Vec<String>,
    /// Remove a custom DNS server
    #[arg(long)]
    pub dns_rm: Vec<String>,
    /// Add or update a custom DNS search domain
    #[arg(long)]
    pub dns_search_add: Vec<String>,
    /// Remove a DNS search domain
    #[arg(long)]
    pub dns_search_rm: Vec<String>,
    /// Add or update a DNS option
    #[arg(long)]
    pub dns_option_add: Vec<String>,
    /// Remove a DNS option
    #[arg(long)]
    pub dns_option_rm: Vec<String>,
    #[command(flatten)]
    pub flags: ServiceFlags,
    /// SERVICE
    pub service: String,
}

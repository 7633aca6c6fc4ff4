//! `rswarm daemon` flags, and the Raft timing they choose.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use rswarm_raft::{DEFAULT_ELECTION_TICK, DEFAULT_HEARTBEAT_TICK, RaftTiming};

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
    /// Length of a Raft tick on this manager (Swarm's is 1s): heartbeats and elections count in ticks.
    #[arg(long, value_name = "DURATION", default_value = "100ms", value_parser = parse_tick)]
    pub raft_tick: Duration,
    /// Ticks between the leader's heartbeats (dockerd's swarm-raft-heartbeat-tick; also how long a replication request may take).
    #[arg(long = "swarm-raft-heartbeat-tick", value_name = "TICKS", default_value_t = DEFAULT_HEARTBEAT_TICK)]
    pub raft_heartbeat_tick: u32,
    /// Ticks without a heartbeat before a follower starts an election (dockerd's swarm-raft-election-tick); the timeout is picked between this and 1.5 times this.
    #[arg(long = "swarm-raft-election-tick", value_name = "TICKS", default_value_t = DEFAULT_ELECTION_TICK)]
    pub raft_election_tick: u32,
    /// How often the leader rotates the key of encrypted overlay networks (Swarm: 12h).
    #[arg(long, value_name = "DURATION", default_value = "12h", value_parser = parse_period)]
    pub network_key_rotation: Duration,
}

impl DaemonArgs {
    /// The Raft timing of the tick flags (read when the manager's Raft
    /// node opens: a change needs a daemon restart, as in Swarm).
    pub fn raft_timing(&self) -> Result<RaftTiming, String> {
        RaftTiming::from_ticks(
            self.raft_tick,
            self.raft_heartbeat_tick,
            self.raft_election_tick,
        )
        .map_err(|e| e.to_string())
    }
}

/// `500ms`, `30s`, `10m`, `12h`: a period of at least 1 s.
fn parse_period(s: &str) -> Result<Duration, String> {
    let bad = || format!("invalid period {s:?}: use a number with ms, s, m or h, e.g. 30s or 12h");
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(bad)?;
    let (number, unit) = s.split_at(split);
    let secs = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(bad()),
    };
    let v: f64 = number.parse().map_err(|_| bad())?;
    let d = Duration::try_from_secs_f64(v * secs).map_err(|_| bad())?;
    if d < Duration::from_secs(1) {
        return Err(format!("invalid period {s:?}: must be at least 1s"));
    }
    Ok(d)
}

/// The key rotation period of encrypted networks this daemon's flags
/// chose (set once at start-up, read when a manager starts).
static NETWORK_KEY_ROTATION: OnceLock<Duration> = OnceLock::new();

/// Records the daemon's key rotation period (the first call wins).
pub fn set_network_key_rotation(period: Duration) {
    let _ = NETWORK_KEY_ROTATION.set(period);
}

/// What [`set_network_key_rotation`] recorded, else Swarm's 12 hours.
pub fn network_key_rotation() -> Duration {
    NETWORK_KEY_ROTATION
        .get()
        .copied()
        .unwrap_or(Duration::from_secs(12 * 3600))
}

/// `100ms`, `1s`, `1.5s`: a tick length (at least 1ms).
fn parse_tick(s: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration {s:?}: use a number with ms or s, e.g. 100ms or 1s");
    let (number, unit_ms) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return Err(bad());
    };
    let n: f64 = number.parse().map_err(|_| bad())?;
    if !n.is_finite() || n < 0.0 {
        return Err(bad());
    }
    let d = Duration::from_secs_f64(n * unit_ms / 1000.0);
    if d < Duration::from_millis(1) {
        return Err(format!(
            "invalid duration {s:?}: a raft tick is at least 1ms"
        ));
    }
    Ok(d)
}

/// The Raft timing this daemon's flags chose, set once at start-up by
/// [`crate::run`] and read when a manager's Raft node opens (the node
/// object is built elsewhere and does not carry daemon flags).
static RAFT_TIMING: OnceLock<RaftTiming> = OnceLock::new();

/// Records the daemon's Raft timing (the first call wins).
pub fn set_raft_timing(timing: RaftTiming) {
    let _ = RAFT_TIMING.set(timing);
}

/// The daemon's Raft timing: what [`set_raft_timing`] recorded, else the
/// defaults.
pub fn raft_timing() -> RaftTiming {
    RAFT_TIMING.get().cloned().unwrap_or_default()
}

/// The default socket when no `-H` is given.
pub const DEFAULT_SOCKET: &str = "unix:///run/rswarm/rswarm.sock";

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        daemon: DaemonArgs,
    }

    fn parse(args: &[&str]) -> Result<DaemonArgs, String> {
        Cli::try_parse_from(std::iter::once("rswarm").chain(args.iter().copied()))
            .map(|c| c.daemon)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn default_ticks_give_rswarms_fast_timing() {
        let a = parse(&[]).expect("parse");
        assert_eq!(a.raft_tick, rswarm_raft::DEFAULT_TICK);
        assert_eq!(a.raft_timing(), Ok(RaftTiming::default()));
    }

    #[test]
    fn tick_flags_translate_to_intervals() {
        let a = parse(&[
            "--raft-tick",
            "1s",
            "--swarm-raft-election-tick",
            "5",
            "--swarm-raft-heartbeat-tick",
            "2",
        ])
        .expect("parse");
        let t = a.raft_timing().expect("valid");
        assert_eq!(t.heartbeat_interval, Duration::from_secs(2));
        assert_eq!(t.election_timeout_min, Duration::from_secs(5));
        assert_eq!(t.election_timeout_max, Duration::from_millis(7500));
        let half = parse(&["--raft-tick", "0.25s"]).expect("parse");
        assert_eq!(half.raft_tick, Duration::from_millis(250));
        let ms = parse(&["--raft-tick", "50ms"]).expect("parse");
        assert_eq!(ms.raft_tick, Duration::from_millis(50));
    }

    #[test]
    fn bad_ticks_are_refused() {
        for bad in ["100", "fast", "-1s", "0ms", "0.1ms"] {
            let e = parse(&[&format!("--raft-tick={bad}")]).expect_err(bad);
            assert!(e.contains("invalid duration"), "{bad}: {e}");
        }
        let a = parse(&["--swarm-raft-election-tick", "1"]).expect("parse");
        assert_eq!(
            a.raft_timing(),
            Err(
                "invalid raft configuration: election tick must be greater than heartbeat tick"
                    .into()
            )
        );
    }
}

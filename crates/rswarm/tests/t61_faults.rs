//! Fault injection on three real managers (issue 8): no acknowledged
//! write is lost or applied twice.
//!
//! * A bounded fault loop: client threads create, update and remove
//!   services through every manager's Engine API while the loop kills
//!   (SIGKILL) and restarts managers, restarts one with SIGTERM, freezes
//!   one with SIGSTOP/SIGCONT (a manager cut off, its connections open),
//!   never more than one at a time, except a few rounds where two go at
//!   once and the quorum is lost for a moment. At the end every manager
//!   holds the same services (same IDs, versions and specs), with every
//!   acknowledged write and none applied twice (see `t61/check.rs`).
//! * A minority partition: with two of three managers frozen, the one
//!   left (leader or follower) refuses every write with 503 and Swarm's
//!   message, never reports one as done, and once the others are back
//!   none of the refused writes appears.
//! * A manager restarted while another leads runs the tasks the new
//!   leader gives its node (its agent, knowing only its own manager,
//!   learns the leader from that manager's refusal).
//!
//! `T61_TIMELINE=1` prints the clients' answers second by second.

#[path = "t61/check.rs"]
mod check;
#[path = "t61/cluster.rs"]
mod cluster;
mod common;
#[path = "t61/report.rs"]
mod report;
#[path = "t61/workload.rs"]
mod workload;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cluster::{Cluster, T};
use common::wait_until;
use workload::Clients;

const NO_LEADER: &str = "The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.";

/// Faults of the loop; one per round, undone before the next.
#[derive(Clone, Copy, Debug)]
enum Fault {
    KillLeader,
    KillFollower,
    FreezeLeader,
    FreezeFollower,
    /// SIGTERM and start again.
    RestartOne,
    /// The leader and a follower frozen: no quorum anywhere.
    FreezeLeaderAndFollower,
    /// Both followers frozen: the leader alone loses its quorum.
    FreezeFollowers,
    /// Both followers killed and started again.
    KillFollowers,
}

const ROUNDS: usize = 30;

fn fault_of(round: usize) -> Fault {
    match round {
        9 => Fault::FreezeLeaderAndFollower,
        19 => Fault::FreezeFollowers,
        29 => Fault::KillFollowers,
        r => [
            Fault::KillLeader,
            Fault::FreezeFollower,
            Fault::KillFollower,
            Fault::FreezeLeader,
            Fault::RestartOne,
        ][r % 5],
    }
}

fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// Runs one fault and undoes it; `jitter` (0..1000) varies how long.
fn inflict(c: &mut Cluster, fault: Fault, round: usize, jitter: u64) {
    let leader = c.leader().unwrap_or(round % 3);
    let follower = (leader + 1 + round % 2) % 3;
    let other = 3 - leader - follower;
    let down = millis(300 + jitter);
    match fault {
        Fault::KillLeader | Fault::KillFollower => {
            let i = if matches!(fault, Fault::KillLeader) {
                leader
            } else {
                follower
            };
            c.kill(i);
            std::thread::sleep(down);
            c.start(i);
        }
        Fault::FreezeLeader | Fault::FreezeFollower => {
            let i = if matches!(fault, Fault::FreezeLeader) {
                leader
            } else {
                follower
            };
            c.freeze(i);
            std::thread::sleep(down);
            c.thaw(i);
        }
        Fault::RestartOne => c.restart(round % 3),
        Fault::FreezeLeaderAndFollower | Fault::FreezeFollowers => {
            // Longer than an election timeout: the one left notices.
            let down = millis(2000 + jitter);
            let pair = if matches!(fault, Fault::FreezeFollowers) {
                [follower, other]
            } else {
                [leader, follower]
            };
            pair.iter().for_each(|i| c.freeze(*i));
            std::thread::sleep(down);
            pair.iter().for_each(|i| c.thaw(*i));
        }
        Fault::KillFollowers => {
            let down = millis(2000 + jitter);
            c.kill(follower);
            c.kill(other);
            std::thread::sleep(down);
            c.start(follower);
            c.start(other);
        }
    }
}

#[test]
fn acknowledged_writes_survive_kills_freezes_and_quorum_loss() {
    let mut c = Cluster::three("fl");
    // A snapshot every 40 entries, 5 kept: managers that were down catch
    // up from snapshots as well as from the log.
    c.compaction(40, 5);
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    eprintln!("fault loop seed {seed}");
    let clients = Clients::start(&c.sockets(), 2, seed);
    let t0 = std::time::Instant::now();
    let mut jitter = seed;
    for round in 0..ROUNDS {
        jitter = jitter
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let fault = fault_of(round);
        eprintln!("round {round}: {fault:?} at {:?}", t0.elapsed());
        inflict(&mut c, fault, round, (jitter >> 33) % 1000);
        std::thread::sleep(millis(200 + (jitter >> 20) % 400));
    }
    let ops = clients.stop();
    report::print(&ops, std::env::var_os("T61_TIMELINE").is_some());
    c.wait_healthy();
    let services = c.converged_services();
    let (bad, sum) = check::check(&ops, &services);
    eprintln!(
        "{sum:#?}\nsnapshots installed on managers that were behind: {}",
        c.snapshots_installed()
    );
    assert!(
        bad.is_empty(),
        "{} violations (seed {seed}):\n{}",
        bad.len(),
        bad.iter().take(30).cloned().collect::<Vec<_>>().join("\n")
    );
    assert!(
        sum.acked > 0 && sum.updates_applied > 0 && sum.services > 0,
        "the clients got writes through: {sum:?}"
    );
    // The leader's loops and every node's agent came through: a global
    // service created on a follower runs a task on each node.
    let follower = (c.leader().unwrap_or(0) + 1) % 3;
    let id = c.create(follower, "after", r#"{"Global":{}}"#, None);
    wait_until("a task of the global service on every node", T, || {
        common::service_pids(&id).len() == 3
    });
}

/// A write's answer on the manager left alone.
fn refused_create(c: &Cluster, i: usize, name: &str) -> (u16, String) {
    let body =
        format!(r#"{{"Name":"{name}","TaskTemplate":{{"ContainerSpec":{{"Image":"busybox"}}}}}}"#);
    match common::http(
        &c.ms[i].socket_path(),
        "POST",
        "/services/create",
        Some(&body),
    ) {
        Ok(r) => (r.status, r.message()),
        Err(e) => (0, e.to_string()),
    }
}

/// Freezes `frozen` (two managers); the one left refuses writes with 503
/// and Swarm's message; thaws them; returns the names it was asked to
/// create and whether each was refused with that message.
fn partition(c: &Cluster, frozen: [usize; 2], tag: &str) -> Vec<(String, bool)> {
    let alone = 3 - frozen[0] - frozen[1];
    frozen.iter().for_each(|i| c.freeze(*i));
    let mut attempts = Vec::new();
    let mut refusals = 0;
    wait_until("the manager left alone refuses writes", T, || {
        let name = format!("{tag}-{}", attempts.len());
        let t = std::time::Instant::now();
        let (status, message) = refused_create(c, alone, &name);
        eprintln!(
            "{name} on manager {alone}: {status} {message} ({:?})",
            t.elapsed()
        );
        assert!(
            !(200..300).contains(&status),
            "a minority acknowledged {name}: {status} {message}"
        );
        // A follower that forwarded to the frozen leader gives up once it
        // sees the leader gone: an answer, never a hang.
        assert_eq!(status, 503, "{name}: {message}");
        let refused = status == 503 && message == NO_LEADER;
        refusals += usize::from(refused);
        attempts.push((name, refused));
        refusals >= 5
    });
    // Updates and removes are refused too.
    let kept = &c.ms[alone];
    let r = kept.http(
        "POST",
        "/services/kept/update?version=1",
        Some(r#"{"Name":"kept","Labels":{"changed":"yes"},"TaskTemplate":{"ContainerSpec":{"Image":"busybox"}}}"#),
    );
    assert_eq!((r.status, r.message()), (503, NO_LEADER.to_string()));
    let r = kept.http("DELETE", "/services/kept", None);
    assert_eq!((r.status, r.message()), (503, NO_LEADER.to_string()));
    frozen.iter().for_each(|i| c.thaw(*i));
    attempts
}

#[test]
fn a_minority_refuses_writes_and_never_applies_them_later() {
    let c = Cluster::three("mn");
    let r = c.ms[0].http(
        "POST",
        "/services/create",
        Some(r#"{"Name":"kept","TaskTemplate":{"ContainerSpec":{"Image":"busybox"}}}"#),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let leader = c.leader().expect("a leader");
    let (f1, f2) = ((leader + 1) % 3, (leader + 2) % 3);
    // The leader alone, then a follower alone.
    let mut attempts = partition(&c, [f1, f2], "lead");
    c.wait_healthy();
    let leader = c.leader().expect("a leader");
    let follower = (leader + 1) % 3;
    attempts.extend(partition(&c, [leader, follower], "follow"));
    c.wait_healthy();

    let services = c.converged_services();
    let names: Vec<&str> = services
        .iter()
        .filter_map(|s| s["Spec"]["Name"].as_str())
        .collect();
    for (name, refused) in &attempts {
        let found = names.iter().filter(|n| *n == name).count();
        assert!(
            found == 0 || !refused,
            "{name} was refused with 503 but applied later: {names:?}"
        );
        assert!(found <= 1, "{name} applied {found} times");
    }
    let kept = services
        .iter()
        .find(|s| s["Spec"]["Name"] == "kept")
        .expect("kept survives");
    assert!(
        kept["Spec"]["Labels"]["changed"].is_null(),
        "the refused update stays refused: {kept}"
    );
}

#[test]
fn a_restarted_follower_runs_the_tasks_the_new_leader_gives_it() {
    let mut c = Cluster::three("rs");
    // The first manager leads and dies; once another leads it comes back
    // as a follower, its agent knowing no manager but its own: the
    // follower's refusal names the leader, the agent goes there.
    c.kill(0);
    let mut leader = 0;
    wait_until("another manager recorded as the leader", T, || {
        leader = c.leader().unwrap_or(0);
        leader != 0
    });
    c.start(0);
    let constraint = format!("node.hostname=={}", c.ms[0].hostname);
    let id = c.create(
        leader,
        "pinned",
        r#"{"Replicated":{"Replicas":1}}"#,
        Some(&constraint),
    );
    wait_until("the task on the restarted manager's node", T, || {
        common::service_pids(&id).len() == 1
    });
}

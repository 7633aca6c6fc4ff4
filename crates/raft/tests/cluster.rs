//! Real Raft clusters: openraft nodes with redb storage in temp dirs,
//! talking gRPC over mutual TLS on 127.0.0.x with certificates from a
//! real cluster CA. Each file is one area; `harness.rs` starts, stops and
//! restarts nodes and waits (bounded) for conditions.

#[path = "cluster/harness.rs"]
mod harness;
#[path = "cluster/t10_replicate.rs"]
mod t10_replicate;
#[path = "cluster/t20_failover.rs"]
mod t20_failover;
#[path = "cluster/t30_minority.rs"]
mod t30_minority;
#[path = "cluster/t40_snapshot.rs"]
mod t40_snapshot;
#[path = "cluster/t45_spec_compaction.rs"]
mod t45_spec_compaction;
#[path = "cluster/t50_auth.rs"]
mod t50_auth;
#[path = "cluster/t60_force_new_cluster.rs"]
mod t60_force_new_cluster;
#[path = "cluster/t70_backup.rs"]
mod t70_backup;

//! The swarm port for real: a manager serving `grpc::serve` over TLS on
//! 127.0.0.1, workers joining with `rswarm_agent::remote::join` and holding
//! sessions with `RemoteDispatcherClient`, and everything that must be
//! refused being refused with a clear error and no state change; the
//! assignments protocol, network maps and the log broker over the same
//! port.
//! The tests live in `grpc_security/`.

#[path = "grpc_security/assignments.rs"]
mod assignments;
#[path = "grpc_security/authorization.rs"]
mod authorization;
#[path = "grpc_security/control.rs"]
mod control;
#[path = "grpc_security/harness.rs"]
mod harness;
#[path = "grpc_security/join.rs"]
mod join;
#[path = "grpc_security/logs.rs"]
mod logs;
#[path = "grpc_security/network_maps.rs"]
mod network_maps;
#[path = "grpc_security/renew.rs"]
mod renew;
#[path = "grpc_security/session.rs"]
mod session;

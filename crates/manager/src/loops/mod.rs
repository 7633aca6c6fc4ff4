//! Leader-only loops: each watches the store, calls a pure decision
//! function on a snapshot, and applies the result in one transaction
//! (large results in transactions of at most 200 changes, see `batch`).

pub mod batch;
pub mod manager_status_loop;
pub mod network_key_loop;
pub mod orchestrator_loop;
pub mod role_loop;
pub mod scheduler_loop;
pub mod wait;

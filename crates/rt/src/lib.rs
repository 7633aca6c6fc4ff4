//! Runtime support shared by the async crates: the wall clock (the only
//! place that reads it), random object IDs, the shutdown signal,
//! jittered backoff and owner-only files for the data root.
//!
//! What it does not do: anything domain-specific.

pub mod backoff;
pub mod clock;
pub mod id;
pub mod private;
pub mod shutdown;

pub use backoff::Backoff;
pub use clock::{Clock, SystemClock};
pub use id::new_id;
pub use shutdown::Shutdown;

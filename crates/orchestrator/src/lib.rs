//! rswarm orchestrators: pure reconcile logic for replicated and global
//! services, restarts, updates and task history.

pub mod dirty;

pub use dirty::is_task_dirty;

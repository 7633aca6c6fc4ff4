//! rswarm orchestrators: pure reconcile logic for replicated and global services, restarts, updates, task history

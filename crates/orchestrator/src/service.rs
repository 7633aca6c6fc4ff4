//! One service through all phases, in an order that reaches a fixed point
//! in a single pass:
//!
//! 1. failure check of a running update (may pause or roll the spec back);
//! 2. mode: restarts, node moves, scaling (replicated) or per-node tasks
//!    (global);
//! 3. update start bookkeeping, rolling update progress;
//! 4. promotion of `ready` replacements;
//! 5. update completion bookkeeping.

use rswarm_types::{ModeKind, Service};

use crate::plan::Draft;
use crate::update::{UpdateCfg, progress, summary};
use crate::view::Nodes;
use crate::{global, jobs, promote, replicated, status};

/// Reconciles `orig` and its tasks `idxs`; returns the service when its
/// update status (or spec, on automatic rollback) changed. Jobs go to
/// [`jobs`]; services without a valid mode are left alone.
pub(crate) fn reconcile(
    d: &mut Draft,
    nodes: &Nodes,
    orig: &Service,
    idxs: &[usize],
) -> Option<Service> {
    let kind = orig.spec.mode.kind();
    match kind {
        Some(ModeKind::Replicated | ModeKind::Global) => {}
        Some(ModeKind::ReplicatedJob | ModeKind::GlobalJob) => {
            jobs::reconcile(d, orig, idxs, nodes);
            return None;
        }
        None => return None,
    }
    let mut svc = orig.clone();
    let total = match kind {
        Some(ModeKind::Global) => global::active_count(&svc, nodes),
        _ => usize::try_from(svc.spec.mode.replicas().unwrap_or(0)).unwrap_or(usize::MAX),
    };
    status::check_failures(d, &mut svc, idxs, total);

    // A rollback may have changed the mode's parameters (replicas).
    let (mut work, rest) = match svc.spec.mode.kind() {
        Some(ModeKind::Global) => global::reconcile(d, &svc, idxs, nodes),
        Some(ModeKind::Replicated) => replicated::reconcile(d, &svc, idxs, nodes),
        _ => return (svc != *orig).then_some(svc),
    };

    let before = summary(d, &svc, &work);
    status::begin(&mut svc, before.dirty_work, d.now());
    let cfg = UpdateCfg::of(&svc);
    progress(d, &svc, &cfg, &mut work, status::paused(&svc));

    for g in work.iter().chain(rest.iter()) {
        promote::promote(d, g, nodes);
    }

    let after = summary(d, &svc, &work);
    status::finish(d, &mut svc, &cfg, &after);

    (svc != *orig).then_some(svc)
}

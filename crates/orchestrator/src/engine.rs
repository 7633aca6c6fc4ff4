//! One reconcile pass over the whole snapshot.

use std::collections::BTreeMap;

use rswarm_types::{Service, TaskState, Timestamp};

use crate::plan::{Draft, Plan};
use crate::view::{Nodes, View};
use crate::{reaper, service};

/// Computes the plan and the earliest future time a pass would decide
/// something new.
pub(crate) fn run(
    view: &View,
    now: Timestamp,
    new_id: &mut dyn FnMut() -> String,
) -> (Plan, Option<Timestamp>) {
    let nodes = Nodes::new(view.nodes.iter().copied());
    let mut services: BTreeMap<&str, &Service> = BTreeMap::new();
    for s in &view.services {
        services.entry(s.id.as_str()).or_insert(s);
    }
    let mut d = Draft::new(view.tasks.iter().copied(), now, new_id);

    let mut by_service: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, t) in view.tasks.iter().enumerate() {
        if t.service_id.is_empty() {
            continue;
        }
        if services.contains_key(t.service_id.as_str()) {
            by_service.entry(t.service_id.as_str()).or_default().push(i);
        } else if t.desired_state < TaskState::Remove {
            // The service was deleted.
            d.set_desired(i, TaskState::Remove);
        }
    }

    let mut changed = Vec::new();
    for svc in services.values() {
        let idxs = by_service
            .get(svc.id.as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if let Some(mut s) = service::reconcile(&mut d, &nodes, svc, idxs) {
            s.meta.updated_at = now;
            changed.push(s);
        }
    }

    reaper::reap(&mut d, view.task_history_limit, &services);
    let (mut plan, wake) = d.finish();
    plan.update_services = changed;
    (plan, wake)
}

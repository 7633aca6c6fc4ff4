//! `UpdateStatus` bookkeeping: when an update starts, pauses, rolls back
//! and completes.
//!
//! ```text
//!  none|completed|rollback_completed ──dirty tasks──▶ updating ──done + monitor──▶ completed
//!                                                        │ failure (action pause)  ▶ paused
//!                                                        └ failure (action rollback)▶ rollback_started
//!  rollback_started (manual or automatic) ──done + monitor──▶ rollback_completed
//!                                         └─ failure ──────▶ rollback_paused
//! ```
//!
//! Paused states never resume by themselves: the next user update clears
//! `UpdateStatus` (the control API does that, as in Swarm).

use rswarm_types::{RestartCondition, Service, Task, TaskState, Timestamp, UpdateStatus};

use crate::dirty::is_task_dirty;
use crate::plan::{Draft, after};
use crate::update::{FailureAction, Summary, UpdateCfg};

fn state(svc: &Service) -> Option<&str> {
    svc.update_status.as_ref().map(|s| s.state.as_str())
}

/// The update is stopped and waits for the user.
pub(crate) fn paused(svc: &Service) -> bool {
    matches!(state(svc), Some("paused" | "rollback_paused"))
}

/// A new task stopped on its own: failed, rejected, orphaned, or exited
/// although its restart condition is `any`.
fn failed(t: &Task) -> bool {
    match t.status.state {
        TaskState::Failed | TaskState::Rejected | TaskState::Orphaned => true,
        TaskState::Complete => t
            .spec
            .restart_policy
            .as_ref()
            .is_none_or(|p| p.condition() == RestartCondition::Any),
        _ => false,
    }
}

/// Applies the failure action when too many tasks created by the running
/// update (or rollback) failed since it started. May roll the spec back.
///
/// `total` is the number of slots (or nodes) the update covers.
pub(crate) fn check_failures(d: &Draft, svc: &mut Service, members: &[usize], total: usize) {
    let Some(st) = svc.update_status.clone() else {
        return;
    };
    let rolling_back = match st.state.as_str() {
        "updating" => false,
        "rollback_started" => true,
        _ => return,
    };
    let Some(started) = st.started_at else { return };
    let cfg = UpdateCfg::of(svc);
    if cfg.failure_action == FailureAction::Continue {
        return;
    }
    let mut failures: Vec<&Task> = members
        .iter()
        .map(|&i| d.task(i))
        .filter(|t| {
            !is_task_dirty(svc, t)
                && t.meta.created_at >= started
                && t.status.timestamp >= started
                && failed(t)
        })
        .collect();
    if failures.is_empty()
        || (failures.len() as f64) / (total.max(1) as f64) <= cfg.max_failure_ratio
    {
        return;
    }
    failures.sort_by(|a, b| (a.status.timestamp, &a.id).cmp(&(b.status.timestamp, &b.id)));
    let id = failures[0].id.clone();
    let now = d.now();
    let status = |state: &str, message: String| UpdateStatus {
        state: state.into(),
        started_at: st.started_at,
        completed_at: None,
        message,
    };
    if rolling_back {
        svc.update_status = Some(status(
            "rollback_paused",
            format!("rollback paused due to failure or early termination of task {id}"),
        ));
    } else if cfg.failure_action == FailureAction::Rollback
        && let Some(prev) = svc.previous_spec.take()
    {
        svc.spec = prev;
        svc.spec_version = svc.previous_spec_version.take();
        svc.update_status = Some(UpdateStatus {
            state: "rollback_started".into(),
            started_at: Some(now),
            completed_at: None,
            message: format!("update rolled back due to failure or early termination of task {id}"),
        });
    } else {
        svc.update_status = Some(status(
            "paused",
            format!("update paused due to failure or early termination of task {id}"),
        ));
    }
}

/// Marks the update as started when there is work and nothing tracks it.
/// Only for services a user updated (`previous_spec` set): a new service
/// gets no `UpdateStatus`.
pub(crate) fn begin(svc: &mut Service, dirty_work: bool, now: Timestamp) {
    if !dirty_work || svc.previous_spec.is_none() {
        return;
    }
    if matches!(
        state(svc),
        Some("updating" | "rollback_started" | "paused" | "rollback_paused")
    ) {
        return;
    }
    svc.update_status = Some(UpdateStatus {
        state: "updating".into(),
        started_at: Some(now),
        completed_at: None,
        message: "update in progress".into(),
    });
}

/// Marks the update (or rollback) completed once nothing is left to
/// replace, every new task runs, and the last one has been watched for
/// the monitoring period.
pub(crate) fn finish(d: &mut Draft, svc: &mut Service, cfg: &UpdateCfg, s: &Summary) {
    let (done_state, message) = match state(svc) {
        Some("updating") => ("completed", "update completed"),
        Some("rollback_started") => ("rollback_completed", "rollback completed"),
        _ => return,
    };
    if s.dirty_work || !s.converged {
        return;
    }
    if let Some(last) = s.last_running {
        let at = after(last, cfg.monitoring_period());
        if at > d.now() {
            d.wake_at(at);
            return;
        }
    }
    let now = d.now();
    if let Some(st) = svc.update_status.as_mut() {
        st.state = done_state.into();
        st.completed_at = Some(now);
        st.message = message.into();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::{ServiceSpec, Version};

    fn at(s: i64) -> Timestamp {
        chrono::DateTime::from_timestamp(1_700_000_000 + s, 0).expect("time")
    }

    fn svc(state: Option<&str>) -> Service {
        Service {
            previous_spec: Some(ServiceSpec {
                name: "old".into(),
                ..Default::default()
            }),
            previous_spec_version: Some(Version { index: 1 }),
            spec_version: Some(Version { index: 2 }),
            update_status: state.map(|s| UpdateStatus {
                state: s.into(),
                started_at: Some(at(0)),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn begin_table() {
        let cases = [
            (None, true, Some("updating")),
            (None, false, None),
            (Some("completed"), true, Some("updating")),
            (Some("rollback_completed"), true, Some("updating")),
            (Some("rollback_started"), true, Some("rollback_started")),
            (Some("paused"), true, Some("paused")),
        ];
        for (before, dirty, after_state) in cases {
            let mut s = svc(before);
            begin(&mut s, dirty, at(5));
            assert_eq!(
                s.update_status.as_ref().map(|u| u.state.as_str()),
                after_state,
                "{before:?} {dirty}"
            );
        }
        let mut fresh = svc(None);
        fresh.previous_spec = None;
        begin(&mut fresh, true, at(5));
        assert_eq!(
            fresh.update_status, None,
            "no bookkeeping without a previous spec"
        );
    }

    fn failed_task(created: i64) -> Task {
        let mut t = Task {
            id: format!("t{created}"),
            spec_version: Some(Version { index: 2 }),
            ..Default::default()
        };
        t.meta.created_at = at(created);
        t.status.state = TaskState::Failed;
        t.status.timestamp = at(created + 1);
        t
    }

    #[test]
    fn failures_pause_or_roll_back() {
        let tasks = vec![failed_task(-5), failed_task(3)];
        let mut ids = || String::new();
        let d = Draft::new(&tasks, at(10), &mut ids);

        let mut s = svc(Some("updating"));
        check_failures(&d, &mut s, &[0], 2);
        assert_eq!(
            s.update_status.as_ref().map(|u| u.state.as_str()),
            Some("updating"),
            "old failure ignored"
        );
        check_failures(&d, &mut s, &[0, 1], 2);
        let st = s.update_status.clone().expect("status");
        assert_eq!(st.state, "paused");
        assert_eq!(
            st.message,
            "update paused due to failure or early termination of task t3"
        );

        let mut s = svc(Some("updating"));
        s.spec.update_config = Some(rswarm_types::UpdateConfig {
            max_failure_ratio: 0.5,
            ..Default::default()
        });
        check_failures(&d, &mut s, &[1], 2);
        assert_eq!(
            s.update_status.as_ref().map(|u| u.state.as_str()),
            Some("updating"),
            "1/2 <= 0.5"
        );

        let mut s = svc(Some("updating"));
        s.spec.update_config = Some(rswarm_types::UpdateConfig {
            failure_action: "rollback".into(),
            ..Default::default()
        });
        check_failures(&d, &mut s, &[1], 2);
        assert_eq!(s.spec.name, "old");
        assert_eq!(s.spec_version, Some(Version { index: 1 }));
        assert_eq!(s.previous_spec, None);
        let st = s.update_status.clone().expect("status");
        assert_eq!(
            (st.state.as_str(), st.started_at),
            ("rollback_started", Some(at(10)))
        );

        let mut s = svc(Some("rollback_started"));
        s.spec_version = Some(Version { index: 2 });
        check_failures(&d, &mut s, &[1], 2);
        assert_eq!(
            s.update_status.as_ref().map(|u| u.state.as_str()),
            Some("rollback_paused")
        );
    }

    #[test]
    fn finish_waits_for_monitor() {
        let tasks = vec![];
        let mut ids = || String::new();
        let mut d = Draft::new(&tasks, at(10), &mut ids);
        let cfg = UpdateCfg::of(&Service::default());
        let mut s = svc(Some("updating"));
        let sum = Summary {
            dirty_work: false,
            converged: true,
            last_running: Some(at(8)),
        };
        finish(&mut d, &mut s, &cfg, &sum);
        assert_eq!(
            s.update_status.as_ref().map(|u| u.state.as_str()),
            Some("updating")
        );
        assert_eq!(d.finish().1, Some(at(13)));
        let mut d2 = Draft::new(&tasks, at(13), &mut ids);
        finish(&mut d2, &mut s, &cfg, &sum);
        let st = s.update_status.clone().expect("status");
        assert_eq!(
            (st.state.as_str(), st.message.as_str()),
            ("completed", "update completed")
        );
        assert_eq!(st.completed_at, Some(at(13)));
    }
}

//! Rolling updates, level-triggered: out-of-date (dirty) slots are
//! replaced a few at a time, as Swarm's updater does, but all progress is
//! read back from the tasks instead of kept in goroutines.
//!
//! A group is *in flight* while an up-to-date task created during this
//! update is not yet running, or started running less than `Delay` ago.
//! New groups start only while fewer than `Parallelism` are in flight.
//!
//! ```text
//!  stop-first:  old ──desired shutdown──▶ stops ─┐
//!               new (desired ready) ─────────────┴▶ promoted ▶ running ─ delay ─▶ next
//!  start-first: new (desired running) ▶ running ▶ old desired shutdown ─ delay ─▶ next
//! ```

use rswarm_types::{Nanos, SECOND, Service, TaskState, Timestamp, UpdateConfig};

use crate::dirty::is_task_dirty;
use crate::group::Group;
use crate::plan::{Draft, after};

/// What to do when new tasks fail during an update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FailureAction {
    Pause,
    Continue,
    Rollback,
}

/// An `UpdateConfig` with Swarm's defaults applied.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct UpdateCfg {
    /// 0 = all groups at once.
    pub parallelism: u64,
    pub delay: Nanos,
    pub monitor: Nanos,
    pub failure_action: FailureAction,
    pub max_failure_ratio: f64,
    pub start_first: bool,
}

/// Default `Monitor` (5 s).
const DEFAULT_MONITOR: Nanos = 5 * SECOND;

impl UpdateCfg {
    /// The config in force: `RollbackConfig` while rolling back (where
    /// `rollback` is not a valid failure action), else `UpdateConfig`.
    pub(crate) fn of(svc: &Service) -> Self {
        let rolling_back = crate::group::rolling_back(svc);
        let cfg = if rolling_back {
            &svc.spec.rollback_config
        } else {
            &svc.spec.update_config
        };
        let Some(c) = cfg else {
            return UpdateCfg::from_config(&UpdateConfig {
                parallelism: 1,
                ..Default::default()
            });
        };
        let mut out = UpdateCfg::from_config(c);
        if rolling_back && out.failure_action == FailureAction::Rollback {
            out.failure_action = FailureAction::Pause;
        }
        out
    }

    fn from_config(c: &UpdateConfig) -> Self {
        UpdateCfg {
            parallelism: c.parallelism,
            delay: c.delay.unwrap_or(0).max(0),
            monitor: c.monitor.unwrap_or(DEFAULT_MONITOR).max(0),
            failure_action: match c.failure_action.as_str() {
                "continue" => FailureAction::Continue,
                "rollback" => FailureAction::Rollback,
                _ => FailureAction::Pause,
            },
            max_failure_ratio: c.max_failure_ratio,
            start_first: c.order == "start-first",
        }
    }

    /// How long the last replaced tasks are watched before the update is
    /// declared complete: `Monitor`, or `Delay + 1s` when the delay is
    /// longer.
    pub(crate) fn monitoring_period(&self) -> Nanos {
        if self.delay >= self.monitor {
            self.delay.saturating_add(SECOND)
        } else {
            self.monitor
        }
    }
}

/// When the running update or rollback started (`None` when untracked:
/// every up-to-date task then counts as part of it).
fn started_at(svc: &Service) -> Option<Timestamp> {
    let s = svc.update_status.as_ref()?;
    matches!(s.state.as_str(), "updating" | "rollback_started")
        .then_some(s.started_at)
        .flatten()
}

/// Up-to-date runnable tasks of the group created during this update.
fn fresh(d: &Draft, svc: &Service, g: &Group) -> Vec<usize> {
    let since = started_at(svc);
    g.runnable(d)
        .into_iter()
        .filter(|&i| {
            let t = d.task(i);
            !is_task_dirty(svc, t) && since.is_none_or(|s| t.meta.created_at >= s)
        })
        .collect()
}

/// Whether the group is in flight: `None` no; `Some(None)` until its new
/// task runs; `Some(Some(t))` until `t`, the end of the update delay.
fn in_flight_until(
    d: &Draft,
    svc: &Service,
    cfg: &UpdateCfg,
    g: &Group,
) -> Option<Option<Timestamp>> {
    let mut until = None;
    for i in fresh(d, svc, g) {
        let t = d.task(i);
        if t.status.state < TaskState::Running {
            return Some(None);
        }
        let end = after(t.status.timestamp, cfg.delay);
        if end > d.now() {
            until = Some(until.map_or(end, |u: Timestamp| u.max(end)));
        }
    }
    until.map(Some)
}

/// Advances the update over `groups` (the service's groups that take
/// updates): finishes started groups, starts new ones within parallelism.
/// `paused` stops new starts.
pub(crate) fn progress(
    d: &mut Draft,
    svc: &Service,
    cfg: &UpdateCfg,
    groups: &mut [Group],
    paused: bool,
) {
    let mut in_flight = 0u64;
    let mut delay_ends: Vec<Timestamp> = Vec::new();
    for g in groups.iter() {
        match in_flight_until(d, svc, cfg, g) {
            Some(None) => in_flight += 1,
            Some(Some(t)) => {
                in_flight += 1;
                delay_ends.push(t);
            }
            None => {}
        }
    }
    let mut blocked = false;
    for g in groups.iter_mut() {
        let runnable = g.runnable(d);
        let (dirty, clean): (Vec<usize>, Vec<usize>) = runnable
            .iter()
            .copied()
            .partition(|&i| is_task_dirty(svc, d.task(i)));
        if !clean.is_empty() {
            // Started: stop the old task once the new one runs (start-first)
            // or at once (stop-first).
            let up = clean
                .iter()
                .any(|&i| d.task(i).status.state == TaskState::Running);
            if up || !cfg.start_first {
                for i in dirty {
                    d.set_desired(i, TaskState::Shutdown);
                }
            }
            continue;
        }
        if paused || !g.needs_update(d, svc) {
            continue;
        }
        if cfg.parallelism != 0 && in_flight >= cfg.parallelism {
            blocked = true;
            continue;
        }
        if cfg.start_first && !dirty.is_empty() {
            let n = d.spawn(svc, &g.key, TaskState::Running);
            g.members.push(n);
        } else {
            for i in dirty {
                d.set_desired(i, TaskState::Shutdown);
            }
            let n = d.spawn(svc, &g.key, TaskState::Ready);
            g.members.push(n);
        }
        in_flight += 1;
    }
    if blocked && let Some(t) = delay_ends.into_iter().min() {
        d.wake_at(t);
    }
}

/// Where an update stands after this pass.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Summary {
    /// Some group still needs a new task.
    pub dirty_work: bool,
    /// Every new task created during the update runs.
    pub converged: bool,
    /// When the last of them started running.
    pub last_running: Option<Timestamp>,
}

/// Summarizes the update over `groups`.
pub(crate) fn summary(d: &Draft, svc: &Service, groups: &[Group]) -> Summary {
    let mut s = Summary {
        dirty_work: false,
        converged: true,
        last_running: None,
    };
    for g in groups {
        s.dirty_work |= g.needs_update(d, svc);
        for i in fresh(d, svc, g) {
            let t = d.task(i);
            if t.status.state == TaskState::Running {
                s.last_running = Some(
                    s.last_running
                        .map_or(t.status.timestamp, |l| l.max(t.status.timestamp)),
                );
            } else {
                s.converged = false;
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::{ServiceSpec, UpdateStatus};

    #[test]
    fn config_defaults_and_rollback_rules() {
        let mut svc = Service::default();
        let c = UpdateCfg::of(&svc);
        assert_eq!((c.parallelism, c.delay, c.monitor), (1, 0, 5 * SECOND));
        assert_eq!(c.failure_action, FailureAction::Pause);
        assert!(!c.start_first);
        assert_eq!(c.monitoring_period(), 5 * SECOND);

        svc.spec = ServiceSpec {
            update_config: Some(UpdateConfig {
                parallelism: 0,
                delay: Some(10 * SECOND),
                failure_action: "rollback".into(),
                order: "start-first".into(),
                ..Default::default()
            }),
            rollback_config: Some(UpdateConfig {
                parallelism: 3,
                failure_action: "rollback".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let c = UpdateCfg::of(&svc);
        assert_eq!(
            (c.parallelism, c.delay, c.start_first),
            (0, 10 * SECOND, true)
        );
        assert_eq!(c.failure_action, FailureAction::Rollback);
        assert_eq!(c.monitoring_period(), 11 * SECOND);

        svc.update_status = Some(UpdateStatus {
            state: "rollback_started".into(),
            ..Default::default()
        });
        let c = UpdateCfg::of(&svc);
        assert_eq!(c.parallelism, 3);
        assert_eq!(
            c.failure_action,
            FailureAction::Pause,
            "a rollback never rolls back"
        );
    }
}

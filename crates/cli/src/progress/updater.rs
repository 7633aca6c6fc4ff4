//! Per-mode progress computation, ported from docker's
//! `cli/command/service/progress`: given the service, its up-to-date
//! tasks and the live nodes, emit progress lines and say whether the
//! service has converged.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rswarm_types::{Service, Task, TaskState};

use super::display::Msg;
use crate::error::{CliError, Result};

/// Above this many replicas no per-slot bars are drawn.
const MAX_PROGRESS_BARS: u64 = 20;
/// Bar total for service tasks (the `running` state number).
const MAX_PROGRESS: i64 = 9;
/// Bar total for job tasks (the `complete` state number).
const MAX_JOB_PROGRESS: i64 = 10;
/// Width of the state column: the longest non-terminal state name.
const LONGEST_STATE: usize = 9;

/// docker's `numberedStates`; 0 for states the display ignores.
pub fn state_number(s: TaskState) -> i64 {
    match s {
        TaskState::New => 1,
        TaskState::Pending => 3,
        TaskState::Assigned => 4,
        TaskState::Accepted => 5,
        TaskState::Preparing => 6,
        TaskState::Ready => 7,
        TaskState::Starting => 8,
        TaskState::Running => 9,
        TaskState::Complete => 10,
        TaskState::Shutdown => 11,
        TaskState::Failed => 12,
        TaskState::Rejected => 13,
        TaskState::Remove | TaskState::Orphaned => 0,
    }
}

fn terminal(s: TaskState) -> bool {
    state_number(s) > state_number(TaskState::Running)
}

fn padded(s: TaskState) -> String {
    format!("{:<LONGEST_STATE$}", s.as_str())
}

/// docker's `truncError`: one line, at most 75 characters.
pub fn trunc_error(e: &str) -> String {
    let e = e.replace('\n', " ");
    if e.len() > 75 {
        let mut cut = 74;
        while !e.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}…", &e[..cut])
    } else {
        e
    }
}

fn overall(running: u64, total: u64, rollback: bool) -> Msg {
    if rollback {
        Msg::update(
            "overall progress",
            format!("rolling back update: {running} out of {total} tasks"),
        )
    } else {
        Msg::update(
            "overall progress",
            format!("{running} out of {total} tasks"),
        )
    }
}

/// Keeps, per key, the task with the lowest desired state (ties: lowest
/// observed state), skipping tasks in states the display ignores.
fn pick_lowest<K: Ord>(tasks: &[Task], key: impl Fn(&Task) -> K) -> BTreeMap<K, &Task> {
    let mut by: BTreeMap<K, &Task> = BTreeMap::new();
    for t in tasks {
        if state_number(t.desired_state) == 0 || state_number(t.status.state) == 0 {
            continue;
        }
        let k = key(t);
        if let Some(existing) = by.get(&k) {
            let (ed, td) = (
                state_number(existing.desired_state),
                state_number(t.desired_state),
            );
            if ed < td
                || (ed == td && state_number(existing.status.state) <= state_number(t.status.state))
            {
                continue;
            }
        }
        by.insert(k, t);
    }
    by
}

/// The progress computation of one service mode.
pub enum Updater {
    /// Replicated services.
    Replicated {
        slot_map: HashMap<u64, u64>,
        initialized: bool,
        done: bool,
    },
    /// Global services.
    Global { initialized: bool, done: bool },
    /// Replicated jobs.
    ReplicatedJob {
        iteration: u64,
        concurrent: i64,
        total: i64,
        initialized: bool,
    },
    /// Global jobs.
    GlobalJob {
        initialized: bool,
        total: i64,
        nodes: BTreeSet<String>,
    },
}

impl Updater {
    /// Picks the updater for the service's mode.
    pub fn for_service(s: &Service) -> Result<Updater> {
        let mode = &s.spec.mode;
        if mode.replicated.is_some() {
            return Ok(Updater::Replicated {
                slot_map: HashMap::new(),
                initialized: false,
                done: false,
            });
        }
        if mode.global.is_some() {
            return Ok(Updater::Global {
                initialized: false,
                done: false,
            });
        }
        if let Some(job) = &mode.replicated_job {
            let total = job.total_completions.unwrap_or(1) as i64;
            return Ok(Updater::ReplicatedJob {
                iteration: s.job_status.as_ref().map_or(0, |j| j.job_iteration.index),
                concurrent: job.max_concurrent.map_or(total, |c| c as i64),
                total,
                initialized: false,
            });
        }
        if mode.global_job.is_some() {
            return Ok(Updater::GlobalJob {
                initialized: false,
                total: 0,
                nodes: BTreeSet::new(),
            });
        }
        Err(CliError::msg("unrecognized service mode"))
    }

    /// One round: emits messages into `out` and returns convergence.
    pub fn update(
        &mut self,
        s: &Service,
        tasks: &[Task],
        active: &BTreeSet<String>,
        rollback: bool,
        out: &mut Vec<Msg>,
    ) -> Result<bool> {
        match self {
            Updater::Replicated {
                slot_map,
                initialized,
                done,
            } => {
                let replicas = s
                    .spec
                    .mode
                    .replicated
                    .as_ref()
                    .and_then(|r| r.replicas)
                    .ok_or_else(|| CliError::msg("no replica count"))?;
                if !*initialized {
                    out.push(overall(0, replicas, rollback));
                    if replicas <= MAX_PROGRESS_BARS {
                        for i in 1..=replicas {
                            out.push(Msg::update(format!("{i}/{replicas}"), " "));
                        }
                    }
                    *initialized = true;
                }
                let by_slot = pick_lowest(tasks, |t| t.slot);
                let by_slot: BTreeMap<u64, &Task> = by_slot
                    .into_iter()
                    .filter(|(_, t)| t.node_id.is_empty() || active.contains(&t.node_id))
                    .collect();
                if *done
                    && by_slot
                        .values()
                        .any(|t| t.status.state != TaskState::Running)
                {
                    *done = false;
                }
                let mut running = 0u64;
                for (slot, t) in &by_slot {
                    let next = slot_map.len() as u64 + 1;
                    let mapped = *slot_map.entry(*slot).or_insert(next);
                    if !terminal(t.desired_state) && t.status.state == TaskState::Running {
                        running += 1;
                    }
                    if *done || replicas > MAX_PROGRESS_BARS || mapped > replicas {
                        continue;
                    }
                    out.extend(task_msg(format!("{mapped}/{replicas}"), t));
                }
                if !*done {
                    out.push(overall(running, replicas, rollback));
                    if running == replicas {
                        *done = true;
                    }
                }
                Ok(running == replicas)
            }
            Updater::Global { initialized, done } => {
                let by_node = pick_lowest(tasks, |t| t.node_id.clone());
                let node_count = by_node.len() as u64;
                if !*initialized {
                    if node_count == 0 {
                        out.push(Msg::update("overall progress", "waiting for new tasks"));
                        return Ok(false);
                    }
                    out.push(overall(0, node_count, rollback));
                    *initialized = true;
                }
                if *done
                    && by_node
                        .values()
                        .any(|t| t.status.state != TaskState::Running)
                {
                    *done = false;
                }
                let mut running = 0u64;
                for t in by_node.values().filter(|t| active.contains(&t.node_id)) {
                    if !terminal(t.desired_state) && t.status.state == TaskState::Running {
                        running += 1;
                    }
                    if *done || node_count > MAX_PROGRESS_BARS {
                        continue;
                    }
                    out.extend(task_msg(t.node_id.chars().take(12).collect(), t));
                }
                if !*done {
                    out.push(overall(running, node_count, rollback));
                    if running == node_count {
                        *done = true;
                    }
                }
                Ok(running == node_count)
            }
            Updater::ReplicatedJob {
                iteration,
                concurrent,
                total,
                initialized,
            } => {
                let (total, concurrent) = (*total, *concurrent);
                if !*initialized {
                    out.extend(job_overall(0, 0, total, Some(concurrent)));
                    if total <= MAX_PROGRESS_BARS as i64 {
                        for i in 1..=total {
                            out.push(Msg::update(format!("{i}/{total}"), " "));
                        }
                    }
                    *initialized = true;
                }
                let mut by_slot: BTreeMap<u64, &Task> = BTreeMap::new();
                for t in tasks {
                    if t.job_iteration.map(|v| v.index) != Some(*iteration) {
                        continue;
                    }
                    if state_number(t.desired_state) == 0 || state_number(t.status.state) == 0 {
                        continue;
                    }
                    match by_slot.get(&t.slot) {
                        Some(e) if state_number(e.status.state) <= state_number(t.status.state) => {
                        }
                        _ => {
                            by_slot.insert(t.slot, t);
                        }
                    }
                }
                let (mut active_n, mut complete) = (0i64, 0i64);
                for i in 0..by_slot.len() as u64 {
                    let (state, err) = by_slot.get(&i).map_or((None, ""), |t| {
                        (Some(t.status.state), t.status.err.as_str())
                    });
                    let n = state.map_or(0, state_number);
                    if total <= MAX_PROGRESS_BARS as i64 {
                        let id = format!("{}/{total}", i + 1);
                        if !err.is_empty() {
                            out.push(Msg::update(id, trunc_error(err)));
                        } else {
                            let action =
                                format!("{:<LONGEST_STATE$}", state.map_or("", TaskState::as_str));
                            out.push(Msg::bar(id, action, n, MAX_JOB_PROGRESS));
                        }
                    }
                    if n < state_number(TaskState::Complete) {
                        active_n += 1;
                    }
                    if state == Some(TaskState::Complete) {
                        complete += 1;
                    }
                }
                out.extend(job_overall(active_n, complete, total, Some(concurrent)));
                Ok(complete == total)
            }
            Updater::GlobalJob {
                initialized,
                total,
                nodes,
            } => {
                let iteration = s.job_status.as_ref().map_or(0, |j| j.job_iteration.index);
                if !*initialized {
                    if tasks.is_empty() && !active.is_empty() {
                        out.push(Msg::update("job progress", "waiting for tasks"));
                        return Ok(false);
                    }
                    for t in tasks
                        .iter()
                        .filter(|t| t.job_iteration.map(|v| v.index) == Some(iteration))
                    {
                        nodes.insert(t.node_id.clone());
                    }
                    *total = nodes.len() as i64;
                    out.extend(job_overall(0, 0, *total, None));
                    *initialized = true;
                }
                let mut by_node: BTreeMap<&str, &Task> = BTreeMap::new();
                for t in tasks {
                    if t.job_iteration.map(|v| v.index) != Some(iteration)
                        || !nodes.contains(&t.node_id)
                    {
                        continue;
                    }
                    match by_node.get(t.node_id.as_str()) {
                        Some(e) if state_number(e.status.state) <= state_number(t.status.state) => {
                        }
                        _ => {
                            by_node.insert(&t.node_id, t);
                        }
                    }
                }
                let mut complete = 0i64;
                for t in by_node.values() {
                    if *total <= MAX_PROGRESS_BARS as i64 {
                        if !t.status.err.is_empty() {
                            out.push(Msg::update(t.node_id.clone(), trunc_error(&t.status.err)));
                        } else {
                            out.push(Msg::bar(
                                t.node_id.clone(),
                                padded(t.status.state),
                                state_number(t.status.state),
                                MAX_JOB_PROGRESS,
                            ));
                        }
                    }
                    if t.status.state == TaskState::Complete {
                        complete += 1;
                    }
                }
                out.extend(job_overall(0, complete, *total, None));
                Ok(complete == *total)
            }
        }
    }
}

/// `job progress` (and, for replicated jobs, `active tasks`) lines.
fn job_overall(active: i64, completed: i64, total: i64, concurrent: Option<i64>) -> Vec<Msg> {
    let digits = total.to_string().len();
    let mut v = vec![Msg::bar(
        "job progress",
        format!("{completed:>digits$} out of {total} complete"),
        completed,
        total,
    )];
    if let Some(concurrent) = concurrent {
        let want = (total - completed).min(concurrent);
        let ad = concurrent.to_string().len();
        v.push(Msg::update(
            "active tasks",
            format!("{active:>ad$} out of {want:>ad$} tasks"),
        ));
    }
    v
}

/// One task's progress line: its error, or its state bar while it is
/// wanted and not finished.
fn task_msg(id: String, t: &Task) -> Option<Msg> {
    if !t.status.err.is_empty() {
        Some(Msg::update(id, trunc_error(&t.status.err)))
    } else if !terminal(t.desired_state) && !terminal(t.status.state) {
        Some(Msg::bar(
            id,
            padded(t.status.state),
            state_number(t.status.state),
            MAX_PROGRESS,
        ))
    } else {
        None
    }
}

#[cfg(test)]
#[path = "updater_tests.rs"]
mod tests;

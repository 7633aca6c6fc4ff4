//! `/tasks`: list (with filters, including the CLI's internal
//! `_up-to-date`) and inspect.
//!
//! `service=` and `node=` values are resolved by ID, name or prefix first
//! (20.10's progress loop sends the service *name*); `label=` matches the
//! labels of the task's service, as swarmkit does.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use rswarm_orchestrator::is_task_dirty;
use rswarm_types::{Service, Task, TaskState};

use super::Shared;
use super::services::runtime_of;
use crate::convert::task_out;
use crate::error::{ApiError, ApiResult};
use crate::filters::Filters;
use crate::guard;
use crate::query::Params;
use crate::resolve::{resolve, task_name};

const ACCEPTED: &[&str] = &[
    "id",
    "name",
    "label",
    "service",
    "node",
    "desired-state",
    "_up-to-date",
    "runtime",
];

/// Parses `desired-state` values (any task state name; `allocated`, which
/// swarmkit knows but rswarm never uses, matches nothing).
pub fn desired_states(f: &Filters) -> Result<Option<Vec<TaskState>>, ApiError> {
    if !f.contains("desired-state") {
        return Ok(None);
    }
    let mut states = Vec::new();
    for s in f.get("desired-state") {
        match TaskState::parse(&s.to_ascii_lowercase()) {
            Some(st) => states.push(st),
            None if s.is_empty() || s.eq_ignore_ascii_case("allocated") => {}
            None => {
                return Err(ApiError::bad_request(format!(
                    "Invalid desired-state filter: '{s}'"
                )));
            }
        }
    }
    Ok(Some(states))
}

/// True when `task` passes `f`; `services` maps IDs to services (for
/// `label` and `_up-to-date`).
pub fn task_matches(
    f: &Filters,
    desired: Option<&[TaskState]>,
    services: &HashMap<&str, &Service>,
    task: &Task,
) -> bool {
    let service = services.get(task.service_id.as_str()).copied();
    let up_to_date = !f.contains("_up-to-date") || service.is_some_and(|s| !is_task_dirty(s, task));
    f.prefix("id", &task.id)
        && f.prefix("name", &task_name(task))
        && f.labels("label", &task.service_annotations.labels)
        && f.exact("service", &task.service_id)
        && f.exact("node", &task.node_id)
        && f.exact("runtime", &runtime_of(&task.spec))
        && desired.is_none_or(|d| d.contains(&task.desired_state))
        && up_to_date
}

/// `GET /tasks[?filters=...]`.
pub(super) async fn list(State(backend): State<Shared>, params: Params) -> ApiResult {
    let mut f = Filters::parse(params.get("filters"))?;
    f.validate(ACCEPTED)?;
    let desired = desired_states(&f)?;
    guard::manager(backend.as_ref()).await?;
    let services = backend.list_services().await?;
    if f.contains("service") {
        let mut ids = Vec::new();
        for v in f.get("service") {
            ids.push(resolve(services.clone(), v)?.id);
        }
        f.set("service", ids);
    }
    if f.contains("node") {
        let nodes = backend.list_nodes().await?;
        let mut ids = Vec::new();
        for v in f.get("node") {
            ids.push(resolve(nodes.clone(), v)?.id);
        }
        f.set("node", ids);
    }
    let by_id: HashMap<&str, &Service> = services.iter().map(|s| (s.id.as_str(), s)).collect();
    let tasks: Vec<serde_json::Value> = backend
        .list_tasks()
        .await?
        .into_iter()
        .filter(|t| task_matches(&f, desired.as_deref(), &by_id, t))
        .map(task_out)
        .collect();
    Ok(Json(tasks).into_response())
}

/// `GET /tasks/{id}` (ID, task name or prefix).
pub(super) async fn inspect(State(backend): State<Shared>, Path(id): Path<String>) -> ApiResult {
    guard::manager(backend.as_ref()).await?;
    let task = resolve(backend.list_tasks().await?, &id)?;
    Ok(Json(task_out(task)).into_response())
}

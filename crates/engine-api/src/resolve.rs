//! ID, name and prefix resolution for `{id}` path segments and the task
//! `service=`/`node=` filters, in moby's order (`daemon/cluster/helpers.go`):
//! exact ID, then exact name, then unique ID prefix. No match is a 404
//! `<kind> <x> not found`; several matches are a 400 `... is ambiguous`.

use rswarm_types::{ControlError, Node, Service, Task};

/// An object that can be looked up by ID or name.
pub trait Named {
    /// The kind, as it appears in error messages (`service`, `node`...).
    const KIND: &'static str;
    /// The full ID.
    fn id(&self) -> &str;
    /// The name users type (service name, node hostname, task name).
    fn name(&self) -> String;
}

impl Named for Service {
    const KIND: &'static str = "service";
    fn id(&self) -> &str {
        &self.id
    }
    fn name(&self) -> String {
        self.spec.name.clone()
    }
}

impl Named for Node {
    const KIND: &'static str = "node";
    fn id(&self) -> &str {
        &self.id
    }
    fn name(&self) -> String {
        self.description.hostname.clone()
    }
}

impl Named for Task {
    const KIND: &'static str = "task";
    fn id(&self) -> &str {
        &self.id
    }
    fn name(&self) -> String {
        task_name(self)
    }
}

/// Swarm's task name: the annotation name when set, else
/// `<service>.<slot>.<id>` (or `<service>.<node>.<id>` for slot 0).
pub fn task_name(task: &Task) -> String {
    if task.name.is_empty() {
        task.full_name()
    } else {
        task.name.clone()
    }
}

/// The service `input` designates: a lookup by full ID first (what the
/// docker CLI sends once it knows the service), else [`resolve`] over all
/// services (names and prefixes).
pub async fn resolve_service(
    backend: &dyn crate::backend::Backend,
    input: &str,
) -> Result<Service, ControlError> {
    match backend.service(input).await? {
        Some(s) if !input.is_empty() => Ok(s),
        _ => resolve(backend.list_services().await?, input),
    }
}

/// Finds the one object `input` designates.
pub fn resolve<T: Named>(items: Vec<T>, input: &str) -> Result<T, ControlError> {
    if input.is_empty() {
        return Err(ControlError::not_found(T::KIND, input));
    }
    let mut items = items;
    if let Some(i) = items.iter().position(|o| o.id() == input) {
        return Ok(items.swap_remove(i));
    }
    let by_name: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].name() == input)
        .collect();
    let matches = if by_name.is_empty() {
        (0..items.len())
            .filter(|&i| items[i].id().starts_with(input))
            .collect()
    } else {
        by_name
    };
    match matches.as_slice() {
        [] => Err(ControlError::not_found(T::KIND, input)),
        [one] => Ok(items.swap_remove(*one)),
        many => Err(ControlError::Ambiguous {
            kind: T::KIND,
            id: input.to_string(),
            matches: many.len(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(id: &str, name: &str) -> Service {
        let mut s = Service {
            id: id.into(),
            ..Default::default()
        };
        s.spec.name = name.into();
        s
    }

    #[test]
    fn order_is_id_name_prefix() {
        let all = vec![
            svc("abc123", "web"),
            svc("abd456", "abc123x"),
            svc("web999", "db"),
        ];
        assert_eq!(
            resolve(all.clone(), "abc123").map(|s| s.spec.name),
            Ok("web".into())
        );
        assert_eq!(
            resolve(all.clone(), "web").map(|s| s.id),
            Ok("abc123".into()),
            "name beats prefix"
        );
        assert_eq!(
            resolve(all.clone(), "web9").map(|s| s.id),
            Ok("web999".into())
        );
        assert_eq!(
            resolve(all.clone(), "ab").map(|s| s.id),
            Err(ControlError::Ambiguous {
                kind: "service",
                id: "ab".into(),
                matches: 2
            })
        );
        assert_eq!(
            resolve(all, "zzz").map(|s| s.id),
            Err(ControlError::not_found("service", "zzz"))
        );
    }

    #[test]
    fn nodes_by_hostname_tasks_by_full_name() {
        let mut n = Node {
            id: "n1xyz".into(),
            ..Default::default()
        };
        n.description.hostname = "host-a".into();
        assert_eq!(resolve(vec![n], "host-a").map(|n| n.id), Ok("n1xyz".into()));
        let mut t = Task {
            id: "t1".into(),
            slot: 2,
            ..Default::default()
        };
        t.service_annotations.name = "web".into();
        assert_eq!(resolve(vec![t], "web.2.t1").map(|t| t.id), Ok("t1".into()));
    }
}

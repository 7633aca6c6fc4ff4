//! Task tables shared by `service ps` and `node ps` (docker's `task.Print`):
//! names built as `<service>.<slot>` or `<service>.<node>`, history rows
//! indented ` \_ `, states capitalised, "Running 5 minutes ago".

use std::collections::HashMap;

use rswarm_types::{Node, Service, Task};

use crate::Timestamp;
use crate::client::{Client, seg};
use crate::error::Result;
use crate::human::{capitalize, since};
use crate::opts::image_for_display;
use crate::output::Output;
use crate::ports::task_ports;
use crate::table::{self, QUIET_FORMAT, natural_cmp};
use crate::value::{Obj, Val};

const DEFAULT_FORMAT: &str = "table {{.ID}}\t{{.Name}}\t{{.Image}}\t{{.Node}}\t{{.DesiredState}}\t{{.CurrentState}}\t{{.Error}}\t{{.Ports}}";
const RAW_FORMAT: &str = "id: {{.ID}}\\nname: {{.Name}}\\nimage: {{.Image}}\\nnode: {{.Node}}\\ndesired_state: {{.DesiredState}}\\ncurrent_state: {{.CurrentState}}\\nerror: {{.Error}}\\nports: {{.Ports}}\\n";
/// Errors are cut to this many characters unless `--no-trunc`.
const MAX_ERR_LENGTH: usize = 30;

/// docker's ID resolver: service and node IDs to names, cached,
/// best-effort (the ID itself when the lookup fails).
pub struct Resolver<'a> {
    client: &'a Client,
    no_resolve: bool,
    cache: HashMap<(bool, String), String>,
}

impl<'a> Resolver<'a> {
    /// A resolver; with `no_resolve` it returns IDs unchanged.
    pub fn new(client: &'a Client, no_resolve: bool) -> Resolver<'a> {
        Resolver {
            client,
            no_resolve,
            cache: HashMap::new(),
        }
    }

    /// A node's name (`Spec.Name`, else hostname, else the ID).
    pub async fn node(&mut self, id: &str) -> String {
        if self.no_resolve || id.is_empty() {
            return id.to_string();
        }
        if let Some(n) = self.cache.get(&(true, id.to_string())) {
            return n.clone();
        }
        let name = match self
            .client
            .get::<Node>(&format!("/nodes/{}", seg(id)))
            .await
        {
            Ok(n) if !n.spec.name.is_empty() => n.spec.name,
            Ok(n) if !n.description.hostname.is_empty() => n.description.hostname,
            _ => id.to_string(),
        };
        self.cache.insert((true, id.to_string()), name.clone());
        name
    }

    /// A service's name (the ID when the lookup fails).
    pub async fn service(&mut self, id: &str) -> String {
        if self.no_resolve {
            return id.to_string();
        }
        if let Some(n) = self.cache.get(&(false, id.to_string())) {
            return n.clone();
        }
        let name = match self
            .client
            .get::<Service>(&format!("/services/{}?insertDefaults=false", seg(id)))
            .await
        {
            Ok(s) => s.spec.name,
            Err(_) => id.to_string(),
        };
        self.cache.insert((false, id.to_string()), name.clone());
        name
    }
}

/// docker's `formatter.Ellipsis` for plain text.
pub fn ellipsis(s: &str, max: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = chars[..max - 1].iter().collect();
    out.push('…');
    out
}

/// One table row.
fn row(t: &Task, name: &str, node: &str, trunc: bool, now: Timestamp) -> Val {
    let image = t
        .spec
        .container_spec
        .as_ref()
        .map(|c| c.image.clone())
        .unwrap_or_default();
    let image = if trunc {
        image_for_display(&image)
    } else {
        image
    };
    let mut err = t.status.err.clone();
    if trunc {
        err = ellipsis(&err, MAX_ERR_LENGTH);
    }
    if !err.is_empty() {
        err = format!("\"{err}\"");
    }
    let id = if trunc {
        t.id.chars().take(12).collect()
    } else {
        t.id.clone()
    };
    let current = format!(
        "{} {} ago",
        capitalize(t.status.state.as_str()),
        since(t.status.timestamp, now).to_lowercase()
    );
    Val::Map(
        Obj::context()
            .with("CurrentState", current)
            .with("DesiredState", capitalize(t.desired_state.as_str()))
            .with("Error", err)
            .with("ID", id)
            .with("Image", image)
            .with("Name", name)
            .with("Node", node)
            .with("Ports", task_ports(&t.status.port_status.ports)),
    )
}

fn header() -> Obj {
    table::header(&[
        ("ID", "ID"),
        ("Name", "NAME"),
        ("Image", "IMAGE"),
        ("Node", "NODE"),
        ("DesiredState", "DESIRED STATE"),
        ("CurrentState", "CURRENT STATE"),
        ("Error", "ERROR"),
        ("Ports", "PORTS"),
    ])
}

/// A task with the names resolved for display.
pub struct Named {
    /// The task.
    pub task: Task,
    /// `<service>.<slot>` or `<service>.<node ID>`.
    pub name: String,
    /// The node's name.
    pub node: String,
}

/// Sorts and renders resolved tasks (pure; `now` for "N ago").
pub fn write(
    out: &mut dyn std::io::Write,
    mut tasks: Vec<Named>,
    format: &str,
    trunc: bool,
    quiet: bool,
    now: Timestamp,
) -> Result<()> {
    let format = match format {
        "" | "table" if quiet => QUIET_FORMAT,
        "" | "table" => DEFAULT_FORMAT,
        "raw" if quiet => "id: {{.ID}}",
        "raw" => RAW_FORMAT,
        f => f,
    };
    tasks.sort_by(|a, b| {
        natural_cmp(&a.name, &b.name)
            .then_with(|| b.task.meta.created_at.cmp(&a.task.meta.created_at))
    });
    let indent = if table::is_table(format) { " \\_ " } else { "" };
    let mut prev = String::new();
    let mut rows = Vec::with_capacity(tasks.len());
    for n in &tasks {
        let shown = if n.name == prev {
            format!("{indent}{}", n.name)
        } else {
            n.name.clone()
        };
        prev = n.name.clone();
        rows.push(row(&n.task, &shown, &n.node, trunc, now));
    }
    table::write(out, format, &header(), &rows)
}

/// Resolves names and prints tasks like `docker service ps`.
pub async fn print(
    client: &Client,
    tasks: Vec<Task>,
    no_resolve: bool,
    trunc: bool,
    quiet: bool,
    format: &str,
    io: &mut Output,
) -> Result<()> {
    let mut r = Resolver::new(client, no_resolve);
    let mut named = Vec::with_capacity(tasks.len());
    for t in tasks {
        let svc = r.service(&t.service_id).await;
        let name = if t.slot != 0 {
            format!("{svc}.{}", t.slot)
        } else {
            format!("{svc}.{}", t.node_id)
        };
        let node = r.node(&t.node_id).await;
        named.push(Named {
            task: t,
            name,
            node,
        });
    }
    write(&mut io.out, named, format, trunc, quiet, chrono::Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str, created: &str, state: &str, err: &str) -> Task {
        serde_json::from_value(serde_json::json!({
            "ID": id, "CreatedAt": created, "UpdatedAt": created,
            "Spec": {"ContainerSpec": {"Image": "myimage:mytag"}},
            "ServiceID": "svc", "Slot": 1, "NodeID": "n1",
            "Status": {"Timestamp": "2020-01-01T10:00:00Z", "State": state, "Err": err,
                       "PortStatus": {"Ports": [{"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 80, "PublishMode": "host"}]}},
            "DesiredState": "ready"
        }))
        .expect("task")
    }

    #[test]
    fn table_matches_docker_golden() {
        let now = chrono::DateTime::parse_from_rfc3339("2020-01-01T12:00:00Z")
            .expect("t")
            .with_timezone(&chrono::Utc);
        let mut t1 = task("taskID", "2020-01-01T10:00:00Z", "ready", "");
        t1.status.timestamp = now - chrono::Duration::hours(2);
        let tasks = vec![Named {
            task: t1,
            name: "rl02d5gwz6chzu7il5fhtb8be.1".into(),
            node: "defaultNodeName".into(),
        }];
        let mut out = Vec::new();
        write(&mut out, tasks, "", true, false, now).expect("write");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "ID        NAME                          IMAGE           NODE              DESIRED STATE   CURRENT STATE       ERROR     PORTS\n\
             taskID    rl02d5gwz6chzu7il5fhtb8be.1   myimage:mytag   defaultNodeName   Ready           Ready 2 hours ago             *:80->80/tcp\n"
        );
    }

    #[test]
    fn history_is_indented_and_errors_quoted() {
        let now = chrono::DateTime::parse_from_rfc3339("2020-01-01T12:00:00Z")
            .expect("t")
            .with_timezone(&chrono::Utc);
        let mk = |id: &str, created: &str, hours: i64| {
            let mut t = task(id, created, "ready", "a task error");
            t.status.timestamp = now - chrono::Duration::hours(hours);
            t.status.port_status.ports.clear();
            Named {
                task: t,
                name: "failure.1".into(),
                node: "defaultNodeName".into(),
            }
        };
        let tasks = vec![
            mk("taskID2", "2020-01-01T09:00:00Z", 3),
            mk("taskID1", "2020-01-01T10:00:00Z", 2),
            mk("taskID3", "2020-01-01T08:00:00Z", 4),
        ];
        let mut out = Vec::new();
        write(&mut out, tasks, "table", true, false, now).expect("write");
        let golden = "ID        NAME            IMAGE           NODE              DESIRED STATE   CURRENT STATE       ERROR            PORTS\n\
taskID1   failure.1       myimage:mytag   defaultNodeName   Ready           Ready 2 hours ago   \"a task error\"   \n\
taskID2    \\_ failure.1   myimage:mytag   defaultNodeName   Ready           Ready 3 hours ago   \"a task error\"   \n\
taskID3    \\_ failure.1   myimage:mytag   defaultNodeName   Ready           Ready 4 hours ago   \"a task error\"   \n";
        assert_eq!(String::from_utf8(out).expect("utf8"), golden);
    }

    #[test]
    fn errors_are_truncated() {
        assert_eq!(ellipsis("short", 30), "short");
        let long = "x".repeat(40);
        assert_eq!(ellipsis(&long, 30), format!("{}…", "x".repeat(29)));
    }
}

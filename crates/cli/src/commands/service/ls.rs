//! `service ls`: `GET /services?status=true`, with docker's fallback to
//! counting tasks when the daemon sends no `ServiceStatus`.

use std::collections::{BTreeSet, HashMap};

use clap::Args;
use rswarm_types::{Node, NodeState, Service, ServiceStatus, Task, TaskState};

use crate::client::Client;
use crate::error::Result;
use crate::filters::{Filters, query};
use crate::opts::image_for_display;
use crate::output::Output;
use crate::ports::service_ports;
use crate::table::{self, QUIET_FORMAT, natural_cmp};
use crate::value::{Obj, Val};

const DEFAULT_FORMAT: &str =
    "table {{.ID}}\t{{.Name}}\t{{.Mode}}\t{{.Replicas}}\t{{.Image}}\t{{.Ports}}";
const RAW_FORMAT: &str = "id: {{.ID}}\\nname: {{.Name}}\\nmode: {{.Mode}}\\nreplicas: {{.Replicas}}\\nimage: {{.Image}}\\nports: {{.Ports}}\\n";

/// `service ls`
#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only display IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Format output using a custom template
    #[arg(long, default_value = "")]
    pub format: String,
    /// Filter output based on conditions provided
    #[arg(short, long)]
    pub filter: Vec<String>,
}

/// The MODE column.
pub fn mode_name(s: &Service) -> &'static str {
    let m = &s.spec.mode;
    if m.global.is_some() {
        "global"
    } else if m.replicated.is_some() {
        "replicated"
    } else if m.replicated_job.is_some() {
        "replicated job"
    } else if m.global_job.is_some() {
        "global job"
    } else {
        ""
    }
}

/// The REPLICAS column.
pub fn replicas(s: &Service) -> String {
    let st = s.service_status.clone().unwrap_or_default();
    let (r, d, c) = (st.running_tasks, st.desired_tasks, st.completed_tasks);
    if let Some(j) = &s.spec.mode.replicated_job {
        return format!(
            "{r}/{d} ({c}/{} completed)",
            j.total_completions.unwrap_or(0)
        );
    }
    if s.spec.mode.global_job.is_some() {
        return format!("{r}/{d} ({c}/{} completed)", d + c);
    }
    let max = if mode_name(s) == "replicated" {
        s.spec
            .task_template
            .placement
            .as_ref()
            .map_or(0, |p| p.max_replicas)
    } else {
        0
    };
    if max > 0 {
        format!("{r}/{d} (max {max} per node)")
    } else {
        format!("{r}/{d}")
    }
}

/// The formatter context of one service (fields in `{{json .}}` order).
pub fn service_row(s: &Service) -> Val {
    let image = s
        .spec
        .task_template
        .container_spec
        .as_ref()
        .map(|c| c.image.as_str())
        .unwrap_or_default();
    Val::Map(
        Obj::context()
            .with("ID", s.id.chars().take(12).collect::<String>())
            .with("Image", image_for_display(image))
            .with("Mode", mode_name(s))
            .with("Name", s.spec.name.clone())
            .with("Ports", service_ports(&s.endpoint.ports))
            .with("Replicas", replicas(s)),
    )
}

/// Renders services (sorted by name) with a user format.
pub fn write(
    out: &mut dyn std::io::Write,
    format: &str,
    quiet: bool,
    services: &mut [Service],
) -> Result<()> {
    let format = match format {
        "" | "table" if quiet => QUIET_FORMAT,
        "" | "table" => DEFAULT_FORMAT,
        "raw" if quiet => "id: {{.ID}}",
        "raw" => RAW_FORMAT,
        f => f,
    };
    services.sort_by(|a, b| natural_cmp(&a.spec.name, &b.spec.name));
    let rows: Vec<Val> = services.iter().map(service_row).collect();
    let header = table::header(&[
        ("ID", "ID"),
        ("Name", "NAME"),
        ("Mode", "MODE"),
        ("Replicas", "REPLICAS"),
        ("Image", "IMAGE"),
        ("Ports", "PORTS"),
    ]);
    table::write(out, format, &header, &rows)
}

/// docker's `AppendServiceStatus`: fills missing `ServiceStatus` from a
/// task list (`GET /tasks` + `GET /nodes`).
pub async fn append_status(client: &Client, services: &mut [Service]) -> Result<()> {
    let mut counts: HashMap<String, ServiceStatus> = HashMap::new();
    let mut filter = Filters::new();
    for s in services.iter_mut() {
        if s.service_status.is_some() {
            continue;
        }
        if let Some(r) = &s.spec.mode.replicated {
            s.service_status = Some(ServiceStatus {
                desired_tasks: r.replicas.unwrap_or(1),
                ..Default::default()
            });
        } else if s.spec.mode.global.is_some() {
            s.service_status = Some(ServiceStatus::default());
        } else {
            continue;
        }
        counts.insert(s.id.clone(), ServiceStatus::default());
        filter.add("service", &s.id);
    }
    if counts.is_empty() {
        return Ok(());
    }
    let tasks: Vec<Task> = client.get(&format!("/tasks?{}", filter.query())).await?;
    if tasks.is_empty() {
        return Ok(());
    }
    let nodes: Vec<Node> = client.get("/nodes").await?;
    let active: BTreeSet<String> = nodes
        .into_iter()
        .filter(|n| n.status.state != NodeState::Down)
        .map(|n| n.id)
        .collect();
    for t in &tasks {
        let Some(c) = counts.get_mut(&t.service_id) else {
            continue;
        };
        if t.desired_state != TaskState::Shutdown {
            c.desired_tasks += 1;
        }
        if active.contains(&t.node_id) && t.status.state == TaskState::Running {
            c.running_tasks += 1;
        }
    }
    for s in services.iter_mut() {
        if let Some(c) = counts.remove(&s.id) {
            s.service_status = Some(c);
        }
    }
    Ok(())
}

/// Runs `service ls`.
pub async fn run(client: &Client, a: LsArgs, io: &mut Output) -> Result<()> {
    let filters = Filters::parse(&a.filter)?;
    let status = if a.quiet {
        String::new()
    } else {
        "status=true".to_string()
    };
    let mut services: Vec<Service> = client
        .get(&format!("/services{}", query(&[filters.query(), status])))
        .await?;
    if !a.quiet {
        append_status(client, &mut services).await?;
    }
    write(&mut io.out, &a.format, a.quiet, &mut services)
}

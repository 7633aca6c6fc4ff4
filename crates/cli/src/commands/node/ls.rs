//! `node ls`: `GET /nodes` (+ `GET /info` to mark self), sorted by
//! hostname, docker's node table.

use rswarm_types::Node;

use super::LsArgs;
use crate::client::Client;
use crate::commands::info::{self, Info};
use crate::error::Result;
use crate::filters::{Filters, query};
use crate::human::capitalize;
use crate::output::Output;
use crate::table::{self, QUIET_FORMAT, natural_cmp};
use crate::value::{Obj, Val};

const DEFAULT_FORMAT: &str = "table {{.ID}} {{if .Self}}*{{else}} {{ end }}\t{{.Hostname}}\t{{.Status}}\t{{.Availability}}\t{{.ManagerStatus}}\t{{.EngineVersion}}";
const RAW_FORMAT: &str = "node_id: {{.ID}}\\nhostname: {{.Hostname}}\\nstatus: {{.Status}}\\navailability: {{.Availability}}\\nmanager_status: {{.ManagerStatus}}\\n";

/// The header titles of node tables.
fn header() -> Obj {
    table::header(&[
        ("ID", "ID"),
        ("Self", ""),
        ("Hostname", "HOSTNAME"),
        ("Status", "STATUS"),
        ("Availability", "AVAILABILITY"),
        ("ManagerStatus", "MANAGER STATUS"),
        ("EngineVersion", "ENGINE VERSION"),
        ("TLSStatus", "TLS STATUS"),
    ])
}

/// The formatter context of one node (fields in `{{json .}}` order).
pub fn node_row(n: &Node, info: &Info) -> Val {
    let manager = match &n.manager_status {
        Some(m) if m.leader => "Leader".to_string(),
        Some(m) => m.reachability.clone(),
        None => String::new(),
    };
    let cluster_tls = info
        .swarm
        .cluster
        .as_ref()
        .and_then(|c| c.tls_info.clone())
        .unwrap_or_default();
    let node_tls = n.description.tls_info.clone().unwrap_or_default();
    let empty = rswarm_types::TlsInfo::default();
    let tls = if info.swarm.cluster.is_none() || cluster_tls == empty || node_tls == empty {
        "Unknown"
    } else if cluster_tls == node_tls {
        "Ready"
    } else {
        "Needs Rotation"
    };
    Val::Map(
        Obj::context()
            .with("Availability", capitalize(n.spec.availability.as_str()))
            .with("EngineVersion", n.description.engine.engine_version.clone())
            .with("Hostname", n.description.hostname.clone())
            .with("ID", n.id.clone())
            .with("ManagerStatus", capitalize(&manager))
            .with("Self", n.id == info.swarm.node_id)
            .with("Status", capitalize(n.status.state.as_str()))
            .with("TLSStatus", tls),
    )
}

/// Renders nodes with a user format (`""` means the default table).
pub fn write(
    out: &mut dyn std::io::Write,
    format: &str,
    quiet: bool,
    nodes: &mut [Node],
    info: &Info,
) -> Result<()> {
    let format = match format {
        "" | "table" if quiet => QUIET_FORMAT,
        "" | "table" => DEFAULT_FORMAT,
        "raw" if quiet => "node_id: {{.ID}}",
        "raw" => RAW_FORMAT,
        f => f,
    };
    nodes.sort_by(|a, b| natural_cmp(&a.description.hostname, &b.description.hostname));
    let rows: Vec<Val> = nodes.iter().map(|n| node_row(n, info)).collect();
    table::write(out, format, &header(), &rows)
}

/// Runs `node ls`.
pub async fn run(client: &Client, a: LsArgs, io: &mut Output) -> Result<()> {
    let filters = Filters::parse(&a.filter)?;
    let mut nodes: Vec<Node> = client
        .get(&format!("/nodes{}", query(&[filters.query()])))
        .await?;
    let info = if !nodes.is_empty() && !a.quiet {
        info::get(client).await?
    } else {
        Info::default()
    };
    write(&mut io.out, &a.format, a.quiet, &mut nodes, &info)
}

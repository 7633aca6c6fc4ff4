//! `rswarm swarm restore FILE --data-root DIR`: runs in this process, on
//! the data root, without a daemon (see `rswarm_daemon::restore`).

use rswarm_cli::commands::swarm::RestoreArgs;
use rswarm_daemon::restore::{RestoreOptions, restore};

/// Restores and prints what to do next; returns the exit code.
pub fn run(a: RestoreArgs) -> i32 {
    let opts = RestoreOptions {
        file: a.file.into(),
        data_root: a.data_root.clone().into(),
        listen_addr: a.listen_addr,
        advertise_addr: a.advertise_addr,
    };
    match restore(&opts) {
        Ok(r) => {
            println!(
                "Swarm {} restored into {}: node {} is its only manager ({}), with {} services, {} nodes and {} tasks.",
                r.cluster_id,
                a.data_root,
                r.node_id,
                r.advertise_addr,
                r.services,
                r.nodes,
                r.tasks
            );
            println!(
                "Start it with:\n\n    rswarm daemon --data-root {}\n",
                a.data_root
            );
            println!(
                "The other managers of the backed-up swarm are not members of the restored one: they show as Down and can be removed with 'rswarm node rm'."
            );
            0
        }
        Err(e) => {
            eprintln!("Error: {e}");
            1
        }
    }
}

//! Waiting for a service to converge after create, update, rollback or
//! scale (docker's `ServiceProgress`): poll the service, its up-to-date
//! tasks and the nodes every 200 ms, draw progress, and verify stability
//! for the update monitor period (5 s by default).

pub mod display;
pub mod updater;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use rswarm_types::{Node, NodeState, Service, Task};

use crate::client::{Client, seg};
use crate::error::{CliError, Result};
use crate::filters::Filters;
use crate::output::Output;
use display::{Display, Msg};
use updater::Updater;

/// The poll interval.
const POLL: Duration = Duration::from_millis(200);
/// The default monitor period.
const DEFAULT_MONITOR: Duration = Duration::from_secs(5);

/// Waits for `service` (the user's argument or an ID) to converge,
/// printing progress unless `quiet`.
pub async fn wait_on_service(
    client: &Client,
    service: &str,
    quiet: bool,
    io: &mut Output,
) -> Result<()> {
    let mut display = Display::new(io.tty, io.width);
    let mut show = |msgs: &[Msg], io: &mut Output| -> Result<()> {
        if !quiet {
            for m in msgs {
                display.show(m, &mut io.out)?;
            }
        }
        Ok(())
    };
    let mut updater: Option<Updater> = None;
    let mut converged = false;
    let mut converged_at: Option<Instant> = None;
    let mut monitor = DEFAULT_MONITOR;
    let mut rollback = false;
    let mut final_message: Option<Msg> = None;
    loop {
        let svc: Service = client
            .get(&format!("/services/{}?insertDefaults=false", seg(service)))
            .await?;
        if let Some(m) = svc
            .spec
            .update_config
            .as_ref()
            .and_then(|u| u.monitor)
            .filter(|m| *m != 0)
        {
            monitor = Duration::from_nanos(m.unsigned_abs());
        }
        if updater.is_none() {
            updater = Some(Updater::for_service(&svc)?);
        }
        if let Some(us) = &svc.update_status {
            match us.state.as_str() {
                "updating" => rollback = false,
                "completed" if !converged => return Ok(()),
                "paused" => {
                    return Err(CliError::msg(format!(
                        "service update paused: {}",
                        us.message
                    )));
                }
                "rollback_started" => {
                    if !rollback && !us.message.is_empty() {
                        show(&[Msg::update("rollback", us.message.clone())], io)?;
                    }
                    rollback = true;
                }
                "rollback_paused" => {
                    return Err(CliError::msg(format!(
                        "service rollback paused: {}",
                        us.message
                    )));
                }
                "rollback_completed" => {
                    if !converged {
                        final_message = Some(Msg {
                            id: "rollback".into(),
                            action: us.message.clone(),
                            bar: None,
                            plain: true,
                        });
                    }
                    rollback = true;
                }
                _ => {}
            }
        }
        if converged && converged_at.is_some_and(|t| t.elapsed() >= monitor) {
            let mut msgs = vec![Msg::update(
                "verify",
                format!("Service {service} converged"),
            )];
            msgs.extend(final_message.take());
            show(&msgs, io)?;
            return Ok(());
        }
        let filter = Filters::new()
            .with("service", &svc.id)
            .with("_up-to-date", "true");
        let tasks: Vec<Task> = client.get(&format!("/tasks?{}", filter.query())).await?;
        let nodes: Vec<Node> = client.get("/nodes").await?;
        let active: BTreeSet<String> = nodes
            .into_iter()
            .filter(|n| n.status.state != NodeState::Down)
            .map(|n| n.id)
            .collect();
        let mut msgs = Vec::new();
        let up = updater
            .as_mut()
            .ok_or_else(|| CliError::msg("unrecognized service mode"))?;
        converged = up.update(&svc, &tasks, &active, rollback, &mut msgs)?;
        if converged {
            if svc.job_status.is_some() {
                msgs.push(Msg::plain("job complete"));
                show(&msgs, io)?;
                return Ok(());
            }
            let at = *converged_at.get_or_insert_with(Instant::now);
            let elapsed = at.elapsed();
            if elapsed <= monitor {
                let wait = monitor - elapsed;
                msgs.push(Msg::update(
                    "verify",
                    format!(
                        "Waiting {} seconds to verify that tasks are stable...",
                        wait.as_secs() + 1
                    ),
                ));
            }
        } else {
            if converged_at.is_some() {
                msgs.push(Msg::update("verify", "Detected task failure"));
            }
            converged_at = None;
        }
        show(&msgs, io)?;
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = tokio::signal::ctrl_c() => {
                if !converged {
                    show(&[
                        Msg::plain("Operation continuing in background."),
                        Msg::plain(format!("Use `rswarm service ps {service}` to check progress.")),
                    ], io)?;
                }
                return Ok(());
            }
        }
    }
}

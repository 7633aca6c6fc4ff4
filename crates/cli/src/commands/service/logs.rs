//! `service logs SERVICE|TASK`: stream `/services/{id}/logs` (or
//! `/tasks/{id}/logs`), demultiplex, and prefix every line with
//! `<service>.<slot>.<task>@<node>    | ` unless `--raw`.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use clap::Args;
use http_body_util::BodyExt;
use rswarm_types::{Service, Task};

use crate::client::{Client, seg};
use crate::commands::task::Resolver;
use crate::error::{CliError, Result};
use crate::opts::parse_go_duration;
use crate::output::Output;
use crate::stdcopy::{Demux, Frame};

/// `service logs`
#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// Do not map IDs to Names in output
    #[arg(long)]
    pub no_resolve: bool,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Do not neatly format logs
    #[arg(long)]
    pub raw: bool,
    /// Do not include task IDs in output
    #[arg(long)]
    pub no_task_ids: bool,
    /// Follow log output
    #[arg(short, long)]
    pub follow: bool,
    /// Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)
    #[arg(long, default_value = "")]
    pub since: String,
    /// Show timestamps
    #[arg(short, long)]
    pub timestamps: bool,
    /// Show extra details provided to logs
    #[arg(long)]
    pub details: bool,
    /// Number of lines to show from the end of the logs
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    /// SERVICE|TASK
    pub target: String,
}

/// docker's `GetTimestamp`: relative durations become Unix seconds,
/// RFC 3339 times `<secs>.<nanos>`, Unix timestamps pass through.
pub fn since_param(value: &str, now: crate::Timestamp) -> Result<String> {
    if value != "0"
        && let Ok(d) = parse_go_duration(value)
    {
        return Ok((now - chrono::Duration::nanoseconds(d))
            .timestamp()
            .to_string());
    }
    let parsed = chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&chrono::Utc))
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f")
                .map(|n| n.and_utc())
        });
    match parsed {
        Ok(t) => Ok(format!(
            "{}.{:09}",
            t.timestamp(),
            t.timestamp_subsec_nanos()
        )),
        Err(e) if value.contains('-') => {
            Err(CliError::msg(format!("invalid value for \"since\": {e}")))
        }
        Err(_) => {
            let ok = value
                .split_once('.')
                .map_or(value.parse::<i64>().is_ok(), |(a, b)| {
                    a.parse::<i64>().is_ok() && b.chars().all(|c| c.is_ascii_digit())
                });
            if ok {
                Ok(value.to_string())
            } else {
                Err(CliError::msg(format!(
                    "invalid value for \"since\": failed to parse value as time or duration: \"{value}\""
                )))
            }
        }
    }
}

/// The query string docker sends (keys sorted as Go's `url.Values`).
pub fn logs_query(a: &LogsArgs, now: crate::Timestamp) -> Result<String> {
    let mut q: BTreeMap<&str, String> = BTreeMap::new();
    q.insert("stdout", "1".into());
    q.insert("stderr", "1".into());
    if !a.since.is_empty() {
        q.insert("since", since_param(&a.since, now)?);
    }
    if a.timestamps {
        q.insert("timestamps", "1".into());
    }
    if a.details || !a.raw {
        q.insert("details", "1".into());
    }
    if a.follow {
        q.insert("follow", "1".into());
    }
    q.insert("tail", a.tail.clone());
    Ok(q.iter()
        .map(|(k, v)| format!("{k}={}", urlencoding::encode(v)))
        .collect::<Vec<_>>()
        .join("&"))
}

/// Parses the `details` token (`k=v,k2=v2`, URL-query-escaped).
pub fn parse_details(s: &str) -> Result<BTreeMap<String, String>> {
    let mut m = BTreeMap::new();
    for pair in s.split(',') {
        let (k, v) = pair
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| CliError::msg("invalid details format"))?;
        let un = |x: &str| {
            urlencoding::decode(&x.replace('+', " "))
                .map(|c| c.into_owned())
                .map_err(|e| CliError::msg(e.to_string()))
        };
        m.insert(un(k)?, un(v)?);
    }
    Ok(m)
}

/// Builds and caches the `<svc>.<slot>.<task>@<node>` prefixes.
struct Prefixer<'a> {
    client: &'a Client,
    resolver: Resolver<'a>,
    opts: LogsArgs,
    padding: usize,
    cache: HashMap<(String, String, String), String>,
}

impl Prefixer<'_> {
    async fn prefix(&mut self, node: &str, service: &str, task: &str) -> Result<String> {
        let key = (node.to_string(), service.to_string(), task.to_string());
        if let Some(p) = self.cache.get(&key) {
            return Ok(p.clone());
        }
        let node_name = self.resolver.node(node).await;
        let svc_name = self.resolver.service(service).await;
        let t: Task = self.client.get(&format!("/tasks/{}", seg(task))).await?;
        let mut name = format!("{svc_name}.{}", t.slot);
        if !self.opts.no_task_ids {
            let id: String = if self.opts.no_trunc {
                t.id.clone()
            } else {
                t.id.chars().take(12).collect()
            };
            name = format!("{name}.{id}");
        }
        let pad = self.padding.saturating_sub(t.slot.to_string().len());
        let p = format!("{name}@{node_name}{}", " ".repeat(pad));
        self.cache.insert(key, p.clone());
        Ok(p)
    }

    /// Formats one log line (one frame).
    async fn line(&mut self, buf: &[u8]) -> Result<Vec<u8>> {
        let parts_n = if self.opts.timestamps { 3 } else { 2 };
        let parts: Vec<&[u8]> = buf.splitn(parts_n, |b| *b == b' ').collect();
        if parts.len() != parts_n {
            return Err(CliError::msg(format!(
                "invalid context in log message: {}",
                String::from_utf8_lossy(buf)
            )));
        }
        let di = parts_n - 2;
        let mut details = parse_details(&String::from_utf8_lossy(parts[di]))?;
        let mut take = |k: &str, what: &str| {
            details
                .remove(k)
                .ok_or_else(|| CliError::msg(format!("missing {what} id in details")))
        };
        let node = take("com.docker.swarm.node.id", "node")?;
        let service = take("com.docker.swarm.service.id", "service")?;
        let task = take("com.docker.swarm.task.id", "task")?;
        let mut out = Vec::new();
        if self.opts.timestamps {
            out.extend_from_slice(parts[0]);
            out.push(b' ');
        }
        out.extend_from_slice(self.prefix(&node, &service, &task).await?.as_bytes());
        out.extend_from_slice(b"    | ");
        if self.opts.details {
            let d: Vec<String> = details.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out.extend_from_slice(d.join(",").as_bytes());
            out.push(b' ');
        }
        out.extend_from_slice(parts[di + 1]);
        Ok(out)
    }
}

/// Runs `service logs`.
pub async fn run(client: &Client, a: LogsArgs, io: &mut Output) -> Result<()> {
    let (kind, tty, padding) = match client
        .get::<Service>(&format!(
            "/services/{}?insertDefaults=false",
            seg(&a.target)
        ))
        .await
    {
        Ok(s) => {
            let tty = s
                .spec
                .task_template
                .container_spec
                .as_ref()
                .is_some_and(|c| c.tty);
            let pad = s
                .spec
                .mode
                .replicated
                .as_ref()
                .and_then(|r| r.replicas)
                .map_or(1, |n| n.to_string().len());
            ("services", tty, pad)
        }
        Err(e) if e.is_not_found() => match client
            .get::<Task>(&format!("/tasks/{}", seg(&a.target)))
            .await
        {
            Ok(t) => (
                "tasks",
                t.spec.container_spec.as_ref().is_some_and(|c| c.tty),
                t.slot.to_string().len(),
            ),
            Err(e) if e.is_not_found() => {
                return Err(CliError::msg(format!(
                    "no such task or service: {}",
                    a.target
                )));
            }
            Err(e) => return Err(e),
        },
        Err(e) => return Err(e),
    };
    if tty && !a.raw {
        return Err(CliError::msg("tty service logs only supported with --raw"));
    }
    let query = logs_query(&a, chrono::Utc::now())?;
    let mut stream = client
        .stream(&format!("/{kind}/{}/logs?{query}", seg(&a.target)))
        .await?;
    let mut demux = Demux::new();
    let mut prefixer = Prefixer {
        client,
        resolver: Resolver::new(client, a.no_resolve),
        opts: a.clone(),
        padding,
        cache: HashMap::new(),
    };
    while let Some(frame) = stream.body.frame().await {
        let frame = frame.map_err(|e| CliError::msg(format!("error reading logs: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if tty {
            io.out.write_all(&data)?;
            io.out.flush()?;
            continue;
        }
        for f in demux.push(&data)? {
            let (is_err, payload) = match f {
                Frame::Stdout(p) => (false, p),
                Frame::Stderr(p) => (true, p),
            };
            let line = if a.raw {
                payload
            } else {
                prefixer.line(&payload).await?
            };
            let w: &mut dyn Write = if is_err { &mut io.err } else { &mut io.out };
            w.write_all(&line)?;
            w.flush()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> LogsArgs {
        LogsArgs {
            no_resolve: false,
            no_trunc: false,
            raw: false,
            no_task_ids: false,
            follow: false,
            since: String::new(),
            timestamps: false,
            details: false,
            tail: "all".into(),
            target: "web".into(),
        }
    }

    #[test]
    fn query_matches_docker() {
        let now = chrono::DateTime::parse_from_rfc3339("2020-01-01T00:10:00Z")
            .expect("t")
            .with_timezone(&chrono::Utc);
        assert_eq!(
            logs_query(&args(), now).expect("q"),
            "details=1&stderr=1&stdout=1&tail=all"
        );
        let mut a = args();
        a.raw = true;
        a.follow = true;
        a.timestamps = true;
        a.since = "10m".into();
        assert_eq!(
            logs_query(&a, now).expect("q"),
            "follow=1&since=1577836800&stderr=1&stdout=1&tail=all&timestamps=1"
        );
        assert_eq!(
            since_param("2020-01-01T00:00:00.5Z", now).expect("s"),
            "1577836800.500000000"
        );
        assert_eq!(since_param("1577836800", now).expect("s"), "1577836800");
        assert!(since_param("yesterday", now).is_err());
    }

    #[test]
    fn details_are_unescaped() {
        let d = parse_details("com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=t1,x=a%20b")
            .expect("details");
        assert_eq!(d.get("x").map(String::as_str), Some("a b"));
        assert!(parse_details("").is_err());
    }
}

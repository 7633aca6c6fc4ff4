//! `-p/--publish` values (`8080:80`, `80`, `8080-8081:80-81/udp`,
//! `published=8080,target=80,mode=host`) and the PORTS columns.

use rswarm_types::PortConfig;

/// Parses one `--publish` value into port configs.
pub fn parse_publish(value: &str) -> Result<Vec<PortConfig>, String> {
    if is_long_syntax(value) {
        return parse_long(value).map(|p| vec![p]);
    }
    parse_short(value)
}

/// docker matches `\w+=\w+(,\w+=\w+)*` anywhere in the value.
fn is_long_syntax(value: &str) -> bool {
    let b = value.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    (1..b.len().saturating_sub(1)).any(|i| b[i] == b'=' && word(b[i - 1]) && word(b[i + 1]))
}

fn parse_long(value: &str) -> Result<PortConfig, String> {
    let mut p = PortConfig::default();
    for field in value.split(',') {
        let lower = field.to_lowercase();
        let (key, val) = lower
            .split_once('=')
            .ok_or_else(|| format!("invalid field: {field}"))?;
        if key.is_empty() {
            return Err(format!("invalid field: {field}"));
        }
        match key {
            "protocol" => {
                if !["tcp", "udp", "sctp"].contains(&val) {
                    return Err(format!("invalid protocol value '{val}'"));
                }
                p.protocol = val.to_string();
            }
            "mode" => {
                if val != "ingress" && val != "host" {
                    return Err(format!(
                        "invalid publish mode value ({val}): must be either 'ingress' or 'host'"
                    ));
                }
                p.publish_mode = val.to_string();
            }
            "target" => {
                p.target_port = val
                    .parse::<u16>()
                    .map_err(|_| {
                        format!(
                            "invalid target port ({val}): value must be an integer: invalid syntax"
                        )
                    })?
                    .into();
            }
            "published" => {
                p.published_port = val
                    .parse::<u16>()
                    .map_err(|_| format!("invalid published port ({val}): value must be an integer: invalid syntax"))?
                    .into();
            }
            other => return Err(format!("invalid field key: {other}")),
        }
    }
    if p.target_port == 0 {
        return Err("missing mandatory field 'target'".into());
    }
    if p.publish_mode.is_empty() {
        p.publish_mode = "ingress".into();
    }
    if p.protocol.is_empty() {
        p.protocol = "tcp".into();
    }
    Ok(p)
}

fn port_range(s: &str, what: &str, full: &str) -> Result<(u32, u32), String> {
    let bad = || format!("invalid {what} port: {full}");
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let a: u16 = a.parse().map_err(|_| bad())?;
    let b: u16 = b.parse().map_err(|_| bad())?;
    if b < a {
        return Err(bad());
    }
    Ok((a.into(), b.into()))
}

fn parse_short(value: &str) -> Result<Vec<PortConfig>, String> {
    let (spec, proto) = match value.rsplit_once('/') {
        Some((s, p)) => (s, p.to_lowercase()),
        None => (value, "tcp".to_string()),
    };
    if !["tcp", "udp", "sctp"].contains(&proto.as_str()) {
        return Err(format!("invalid proto: {proto}"));
    }
    let parts: Vec<&str> = spec.split(':').collect();
    let (host, container) = match parts.as_slice() {
        [c] => ("", *c),
        [h, c] => (*h, *c),
        [ip, _, _] if !ip.is_empty() => return Err("hostip is not supported".into()),
        [_, h, c] => (*h, *c),
        _ => return Err(format!("invalid port format: {value}")),
    };
    if container.is_empty() {
        return Err(format!("no port specified: {value}<empty>"));
    }
    let (cs, ce) = port_range(container, "containerPort", container)?;
    let host_range = if host.is_empty() {
        None
    } else {
        Some(port_range(host, "hostPort", host)?)
    };
    let mk = |target: u32, published: u32| PortConfig {
        name: String::new(),
        protocol: proto.clone(),
        target_port: target,
        published_port: published,
        publish_mode: "ingress".into(),
    };
    let mut out = Vec::new();
    match host_range {
        None => (cs..=ce).for_each(|t| out.push(mk(t, 0))),
        Some((hs, he)) if ce > cs => {
            if he - hs != ce - cs {
                return Err(format!(
                    "invalid ranges specified for container and host Ports: {container} and {host}"
                ));
            }
            (cs..=ce).for_each(|t| out.push(mk(t, hs + (t - cs))));
        }
        Some((hs, he)) => (hs..=he).for_each(|h| out.push(mk(cs, h))),
    }
    Ok(out)
}

/// The PORTS column of `service ls`: ingress ports of `Endpoint.Ports`,
/// consecutive ranges compacted (`*:80-81->80-81/tcp`).
pub fn service_ports(ports: &[PortConfig]) -> String {
    let mut sorted: Vec<&PortConfig> = ports.iter().collect();
    sorted.sort_by(|a, b| {
        if a.protocol == b.protocol {
            a.published_port.cmp(&b.published_port)
        } else {
            a.protocol.cmp(&b.protocol)
        }
    });
    #[derive(Default)]
    struct Range {
        p_start: u32,
        p_end: u32,
        t_start: u32,
        t_end: u32,
        proto: String,
    }
    let show = |r: &Range| {
        let side = |s: u32, e: u32| {
            if e > s {
                format!("{s}-{e}")
            } else {
                s.to_string()
            }
        };
        format!(
            "*:{}->{}/{}",
            side(r.p_start, r.p_end),
            side(r.t_start, r.t_end),
            r.proto
        )
    };
    let mut out = Vec::new();
    let mut r = Range::default();
    for p in sorted.into_iter().filter(|p| p.publish_mode == "ingress") {
        let is_range = r.t_end != r.t_start;
        let overlaps = p.target_port <= r.t_end;
        if p.protocol != r.proto
            || p.published_port.wrapping_sub(r.p_end) > 1
            || p.target_port.wrapping_sub(r.t_end) > 1
            || (is_range && overlaps)
        {
            if r.p_start > 0 {
                out.push(show(&r));
            }
            r = Range {
                p_start: p.published_port,
                p_end: p.published_port,
                t_start: p.target_port,
                t_end: p.target_port,
                proto: p.protocol.clone(),
            };
            continue;
        }
        r.p_end = p.published_port;
        r.t_end = p.target_port;
    }
    if r.p_start > 0 {
        out.push(show(&r));
    }
    out.join(", ")
}

/// The PORTS column of task tables: `*:P->T/proto`, comma-separated.
pub fn task_ports(ports: &[PortConfig]) -> String {
    ports
        .iter()
        .map(|p| format!("*:{}->{}/{}", p.published_port, p.target_port, p.protocol))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pc(published: u32, target: u32, proto: &str) -> PortConfig {
        PortConfig {
            name: String::new(),
            protocol: proto.into(),
            target_port: target,
            published_port: published,
            publish_mode: "ingress".into(),
        }
    }

    #[test]
    fn short_and_long_syntax() {
        assert_eq!(parse_publish("8080:80"), Ok(vec![pc(8080, 80, "tcp")]));
        assert_eq!(parse_publish("80"), Ok(vec![pc(0, 80, "tcp")]));
        assert_eq!(parse_publish("53:53/udp"), Ok(vec![pc(53, 53, "udp")]));
        assert_eq!(
            parse_publish("8080-8081:80-81"),
            Ok(vec![pc(8080, 80, "tcp"), pc(8081, 81, "tcp")])
        );
        let mut host = pc(8080, 80, "tcp");
        host.publish_mode = "host".into();
        assert_eq!(
            parse_publish("published=8080,target=80,mode=host"),
            Ok(vec![host])
        );
        assert_eq!(
            parse_publish("published=8080"),
            Err("missing mandatory field 'target'".into())
        );
        assert!(parse_publish("1.2.3.4:80:80").is_err());
    }

    #[test]
    fn ports_column_compacts_ranges() {
        assert_eq!(service_ports(&[pc(80, 8080, "tcp")]), "*:80->8080/tcp");
        assert_eq!(
            service_ports(&[pc(81, 81, "tcp"), pc(80, 80, "tcp")]),
            "*:80-81->80-81/tcp"
        );
        assert_eq!(
            service_ports(&[pc(80, 80, "tcp"), pc(81, 81, "tcp"), pc(82, 80, "tcp")]),
            "*:80-81->80-81/tcp, *:82->80/tcp"
        );
        assert_eq!(
            service_ports(&[pc(53, 53, "udp"), pc(80, 80, "tcp")]),
            "*:80->80/tcp, *:53->53/udp"
        );
        assert_eq!(
            task_ports(&[pc(80, 80, "tcp"), pc(81, 81, "udp")]),
            "*:80->80/tcp,*:81->81/udp"
        );
    }
}

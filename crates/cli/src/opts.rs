//! Flag value parsers with docker's syntax and error messages: Go
//! durations, CPUs, memory sizes, `key=value` lists, addresses.

use std::collections::BTreeMap;

/// Parses a Go duration (`300ms`, `1m30s`, `1.5h`, `0`) into nanoseconds.
pub fn parse_go_duration(s: &str) -> Result<i64, String> {
    let err = || format!("time: invalid duration \"{s}\"");
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(err());
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(err());
        }
        let num: f64 = rest[..num_len].parse().map_err(|_| err())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult: f64 = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "" => return Err(format!("time: missing unit in duration \"{s}\"")),
            u => return Err(format!("time: unknown unit \"{u}\" in duration \"{s}\"")),
        };
        rest = &rest[unit_len..];
        total += num * mult;
    }
    if total > i64::MAX as f64 {
        return Err(format!("time: invalid duration \"{s}\""));
    }
    let n = total.round() as i64;
    Ok(if neg { -n } else { n })
}

/// A non-negative Go duration (`opts.DurationOpt`).
pub fn parse_positive_duration(s: &str) -> Result<i64, String> {
    let d = parse_go_duration(s)?;
    if d < 0 {
        return Err("duration cannot be negative".into());
    }
    Ok(d)
}

/// `opts.ParseCPUs`: a decimal or fraction of CPUs into nano CPUs.
pub fn parse_cpus(s: &str) -> Result<i64, String> {
    let bad = || format!("failed to parse {s} as a rational number");
    let (num, den): (i128, i128) = if let Some((a, b)) = s.split_once('/') {
        (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        )
    } else {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty() && frac.is_empty() || !frac.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let digits = format!("{int}{frac}");
        let n: i128 = if digits == "-" || digits == "+" || digits.is_empty() {
            return Err(bad());
        } else {
            digits.parse().map_err(|_| bad())?
        };
        (n, 10i128.checked_pow(frac.len() as u32).ok_or_else(bad)?)
    };
    if den == 0 {
        return Err(bad());
    }
    let scaled = num * 1_000_000_000;
    if scaled % den != 0 {
        return Err("value is too precise".into());
    }
    i64::try_from(scaled / den).map_err(|_| bad())
}

/// go-units `RAMInBytes`: `512m`, `1g`, `1.5GiB`, `100` (binary units).
pub fn parse_ram_bytes(s: &str) -> Result<i64, String> {
    let sep = s
        .rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ')
        .ok_or_else(|| format!("invalid size: '{s}'"))?;
    let (num, sfx) = if s.as_bytes()[sep] == b' ' {
        (&s[..sep], &s[sep + 1..])
    } else {
        (&s[..=sep], &s[sep + 1..])
    };
    let size: f64 = num
        .parse()
        .map_err(|_| format!("strconv.ParseFloat: parsing \"{num}\": invalid syntax"))?;
    if size < 0.0 {
        return Err(format!("invalid size: '{s}'"));
    }
    if sfx.is_empty() {
        return Ok(size as i64);
    }
    let bad = || format!("invalid suffix: '{sfx}'");
    let lower = sfx.to_lowercase();
    if lower.len() > 3 {
        return Err(bad());
    }
    if lower.starts_with('b') {
        return if lower.len() > 1 {
            Err(bad())
        } else {
            Ok(size as i64)
        };
    }
    let mult: f64 = match lower.as_bytes()[0] {
        b'k' => 1024.0,
        b'm' => 1024.0 * 1024.0,
        b'g' => 1024.0 * 1024.0 * 1024.0,
        b't' => 1024.0f64.powi(4),
        b'p' => 1024.0f64.powi(5),
        _ => return Err(bad()),
    };
    match lower.len() {
        2 if &lower[1..] != "b" => return Err(bad()),
        3 if &lower[1..] != "ib" => return Err(bad()),
        _ => {}
    }
    Ok((size * mult) as i64)
}

/// Go's `strconv.ParseUint(s, 0, 64)` (accepts `0x`, `0o`, `0b` prefixes).
pub fn parse_uint(s: &str) -> Result<u64, String> {
    let bad = || format!("strconv.ParseUint: parsing \"{s}\": invalid syntax");
    let clean = s.replace('_', "");
    let (digits, radix) = if let Some(h) = clean
        .strip_prefix("0x")
        .or_else(|| clean.strip_prefix("0X"))
    {
        (h.to_string(), 16)
    } else if let Some(o) = clean
        .strip_prefix("0o")
        .or_else(|| clean.strip_prefix("0O"))
    {
        (o.to_string(), 8)
    } else if let Some(b) = clean
        .strip_prefix("0b")
        .or_else(|| clean.strip_prefix("0B"))
    {
        (b.to_string(), 2)
    } else if clean.len() > 1 && clean.starts_with('0') {
        (clean[1..].to_string(), 8)
    } else {
        (clean.clone(), 10)
    };
    u64::from_str_radix(&digits, radix).map_err(|_| bad())
}

/// `opts.ConvertKVStringsToMap`: `k=v` (or `k`, meaning empty) into a map.
pub fn kv_map(values: &[String]) -> BTreeMap<String, String> {
    values
        .iter()
        .map(|v| match v.split_once('=') {
            Some((k, val)) => (k.to_string(), val.to_string()),
            None => (v.clone(), String::new()),
        })
        .collect()
}

/// `opts.ValidateLabel`.
pub fn validate_label(value: &str) -> Result<String, String> {
    let key = value.split_once('=').map_or(value, |(k, _)| k).trim_start();
    if key.is_empty() {
        return Err(format!("invalid label '{value}': empty name"));
    }
    if key.contains(char::is_whitespace) {
        return Err(format!("label '{key}' contains whitespaces"));
    }
    Ok(value.to_string())
}

/// `opts.ValidateIPAddress` (`--dns`): the address in its canonical form.
pub fn validate_ip_address(value: &str) -> Result<String, String> {
    value
        .trim()
        .parse::<std::net::IpAddr>()
        .map(|ip| ip.to_string())
        .map_err(|_| format!("IP address is not correctly formatted: {value}"))
}

/// `opts.ValidateEnv`: `K=V` as is; a bare `K` takes the value from the
/// CLI's own environment when set.
pub fn validate_env(value: &str) -> Result<String, String> {
    let (k, has_value) = match value.split_once('=') {
        Some((k, _)) => (k, true),
        None => (value, false),
    };
    if k.is_empty() {
        return Err(format!("invalid environment variable: {value}"));
    }
    if has_value {
        return Ok(value.to_string());
    }
    Ok(std::env::var(k)
        .map(|v| format!("{k}={v}"))
        .unwrap_or_else(|_| value.to_string()))
}

/// `-f key=value` into a (lower-cased key, trimmed value) pair.
pub fn parse_filter(value: &str) -> Result<(String, String), String> {
    let (k, v) = value
        .split_once('=')
        .ok_or("bad format of filter (expected name=value)")?;
    Ok((k.trim().to_lowercase(), v.trim().to_string()))
}

/// `opts.ParseTCPAddr` with default `0.0.0.0:2377`, minus the `tcp://`
/// prefix: `--listen-addr 10.0.0.1` → `10.0.0.1:2377`, `:4000` →
/// `0.0.0.0:4000`.
pub fn parse_node_addr(value: &str, default: &str) -> Result<String, String> {
    if value.is_empty() || value == "tcp://" {
        return Ok(default.to_string());
    }
    let addr = value.strip_prefix("tcp://").unwrap_or(value);
    if addr.contains("://") || addr.is_empty() {
        return Err(format!("invalid proto, expected tcp: {value}"));
    }
    let (dhost, dport) = default.rsplit_once(':').unwrap_or((default, "2377"));
    let (host, port) = if let Some(rest) = addr.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("invalid bind address format: {value}"))?;
        (format!("[{h}]"), after.strip_prefix(':').unwrap_or(""))
    } else if addr.matches(':').count() > 1 {
        (format!("[{addr}]"), "")
    } else {
        match addr.split_once(':') {
            Some((h, p)) => (h.to_string(), p),
            None => (addr.to_string(), ""),
        }
    };
    let host = if host.is_empty() {
        dhost.to_string()
    } else {
        host
    };
    let port = if port.is_empty() { dport } else { port };
    if port.parse::<u16>().is_err() {
        return Err(format!("invalid bind address format: {value}"));
    }
    Ok(format!("{host}:{port}"))
}

/// Adds the default `:latest` tag the way the docker client does before
/// `POST /services/create` (`nginx` → `nginx:latest`); digests and
/// explicit tags are kept, and invalid references are left alone.
pub fn image_with_tag(image: &str) -> String {
    let valid = !image.is_empty()
        && image.chars().all(|c| {
            c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || "._-/:@".contains(c)
                || c.is_ascii_uppercase()
        })
        && !image.starts_with(['/', ':', '@', '.', '-']);
    if !valid || image.contains('@') {
        return image.to_string();
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    let path_has_upper = image
        .split(':')
        .next()
        .is_some_and(|p| p.chars().any(|c| c.is_ascii_uppercase()));
    if path_has_upper {
        return image.to_string();
    }
    if last.contains(':') {
        image.to_string()
    } else {
        format!("{image}:latest")
    }
}

/// For display: the image without its digest (`nginx:1@sha256:..` →
/// `nginx:1`); untagged or invalid references are shown as given.
pub fn image_for_display(image: &str) -> String {
    match image.split_once('@') {
        Some((named, _)) => {
            let last = named.rsplit('/').next().unwrap_or(named);
            if last.contains(':') {
                named.to_string()
            } else {
                image.to_string()
            }
        }
        None => image.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("0"), Ok(0));
        assert_eq!(parse_go_duration("10s"), Ok(10_000_000_000));
        assert_eq!(parse_go_duration("1m30s"), Ok(90_000_000_000));
        assert_eq!(parse_go_duration("1.5h"), Ok(5_400_000_000_000));
        assert_eq!(parse_go_duration("300ms"), Ok(300_000_000));
        assert_eq!(parse_go_duration("-2s"), Ok(-2_000_000_000));
        assert!(parse_go_duration("10").is_err());
        assert!(parse_go_duration("abc").is_err());
        assert_eq!(
            parse_positive_duration("-1s"),
            Err("duration cannot be negative".into())
        );
    }

    #[test]
    fn cpus_and_memory() {
        assert_eq!(parse_cpus("0.5"), Ok(500_000_000));
        assert_eq!(parse_cpus("2"), Ok(2_000_000_000));
        assert_eq!(parse_cpus("1/4"), Ok(250_000_000));
        assert_eq!(
            parse_cpus("0.0000000001"),
            Err("value is too precise".into())
        );
        assert!(parse_cpus("x").is_err());
        assert_eq!(parse_ram_bytes("512m"), Ok(512 * 1024 * 1024));
        assert_eq!(parse_ram_bytes("1GiB"), Ok(1024 * 1024 * 1024));
        assert_eq!(parse_ram_bytes("100"), Ok(100));
        assert_eq!(parse_ram_bytes("1.5k"), Ok(1536));
        assert!(parse_ram_bytes("1x").is_err());
    }

    #[test]
    fn addresses_and_images() {
        let d = "0.0.0.0:2377";
        assert_eq!(parse_node_addr("127.0.0.2", d), Ok("127.0.0.2:2377".into()));
        assert_eq!(parse_node_addr(":4000", d), Ok("0.0.0.0:4000".into()));
        assert_eq!(
            parse_node_addr("tcp://10.0.0.1:2400", d),
            Ok("10.0.0.1:2400".into())
        );
        assert_eq!(parse_node_addr("eth0", d), Ok("eth0:2377".into()));
        assert!(parse_node_addr("udp://x", d).is_err());
        assert_eq!(image_with_tag("nginx"), "nginx:latest");
        assert_eq!(image_with_tag("busybox:1.36"), "busybox:1.36");
        assert_eq!(image_with_tag("ghcr.io/org/img"), "ghcr.io/org/img:latest");
        assert_eq!(
            image_with_tag("localhost:5000/img"),
            "localhost:5000/img:latest"
        );
        assert_eq!(image_with_tag("nginx@sha256:abc"), "nginx@sha256:abc");
        assert_eq!(image_for_display("nginx:1.2@sha256:abc"), "nginx:1.2");
        assert_eq!(image_for_display("nginx"), "nginx");
    }

    #[test]
    fn misc() {
        assert_eq!(parse_uint("3"), Ok(3));
        assert_eq!(parse_uint("0x10"), Ok(16));
        assert!(parse_uint("-1").is_err());
        assert_eq!(
            parse_filter(" Name = web "),
            Ok(("name".into(), "web".into()))
        );
        assert!(parse_filter("web").is_err());
        assert!(validate_label("=x").is_err());
        assert_eq!(
            kv_map(&["a=b".into(), "c".into()])
                .get("c")
                .map(String::as_str),
            Some("")
        );
    }
}

//! Human-readable numbers as docker prints them: go-units' `HumanDuration`
//! and `BytesSize`, Go's `time.Duration.String` and `time.Time.String`.

use crate::Timestamp;

/// go-units `HumanDuration`: "Less than a second", "5 seconds",
/// "About a minute", "3 hours", "2 weeks"... (`nanos` may be negative).
pub fn human_duration(nanos: i64) -> String {
    let secs_f = nanos as f64 / 1e9;
    let seconds = secs_f as i64;
    if seconds < 1 {
        return "Less than a second".into();
    }
    if seconds == 1 {
        return "1 second".into();
    }
    if seconds < 60 {
        return format!("{seconds} seconds");
    }
    let minutes = (secs_f / 60.0) as i64;
    if minutes == 1 {
        return "About a minute".into();
    }
    if minutes < 60 {
        return format!("{minutes} minutes");
    }
    let hours = (secs_f / 3600.0 + 0.5) as i64;
    if hours == 1 {
        return "About an hour".into();
    }
    if hours < 48 {
        return format!("{hours} hours");
    }
    if hours < 24 * 7 * 2 {
        return format!("{} days", hours / 24);
    }
    if hours < 24 * 30 * 2 {
        return format!("{} weeks", hours / 24 / 7);
    }
    if hours < 24 * 365 * 2 {
        return format!("{} months", hours / 24 / 30);
    }
    format!("{} years", (secs_f / 3600.0) as i64 / 24 / 365)
}

/// `HumanDuration(now - t)`.
pub fn since(t: Timestamp, now: Timestamp) -> String {
    let d = now.signed_duration_since(t);
    human_duration(d.num_nanoseconds().unwrap_or(i64::MAX))
}

/// Go's `time.Duration.String`: `1h2m3s`, `1.5s`, `300ms`, `0s`.
pub fn go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let neg = nanos < 0;
    let u = nanos.unsigned_abs();
    let sign = if neg { "-" } else { "" };
    if u < 1_000_000_000 {
        let (unit, div) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{sign}{}{unit}", fraction(u, div));
    }
    let h = u / 3_600_000_000_000;
    let m = (u / 60_000_000_000) % 60;
    let s_nanos = u % 60_000_000_000;
    let secs = format!("{}s", fraction(s_nanos, 1_000_000_000));
    if h > 0 {
        format!("{sign}{h}h{m}m{secs}")
    } else if m > 0 {
        format!("{sign}{m}m{secs}")
    } else {
        format!("{sign}{secs}")
    }
}

/// `v / div` with the fraction's trailing zeros removed.
fn fraction(v: u64, div: u64) -> String {
    let whole = v / div;
    let rem = v % div;
    if rem == 0 {
        return whole.to_string();
    }
    let digits = div.to_string().len() - 1;
    let frac = format!("{rem:0digits$}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// Go's `fmt` `%.Ng` (shortest of `%e`/`%f` with `prec` significant digits).
pub fn go_g(x: f64, prec: usize) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let prec = prec.max(1);
    let sci = format!("{:.*e}", prec - 1, x);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let mant = trim_zeros(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    let decimals = (prec as i32 - 1 - exp).max(0) as usize;
    trim_zeros(&format!("{x:.decimals$}"))
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// go-units `BytesSize`: binary units, `%.4g`: `20MiB`, `1.5GiB`.
pub fn bytes_size(size: f64) -> String {
    const UNITS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
    let mut size = size;
    let mut i = 0;
    while size >= 1024.0 && i < UNITS.len() - 1 {
        size /= 1024.0;
        i += 1;
    }
    format!("{}{}", go_g(size, 4), UNITS[i])
}

/// Go's `time.Time.String()` for a UTC time, as printed by
/// `formatter.PrettyPrint` (which lower-cases all but the first letter):
/// `2009-11-10 23:00:00.5 +0000 utc`.
pub fn pretty_time(t: Timestamp) -> String {
    let base = t.format("%Y-%m-%d %H:%M:%S").to_string();
    let nanos = t.timestamp_subsec_nanos();
    let frac = if nanos == 0 {
        String::new()
    } else {
        format!(".{}", format!("{nanos:09}").trim_end_matches('0'))
    };
    format!("{base}{frac} +0000 utc")
}

/// docker's `formatter.PrettyPrint` on a string: first letter upper, the
/// rest lower (`ready` → `Ready`).
pub fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        None => String::new(),
        Some(c) if s.len() == 1 => c.to_lowercase().collect(),
        Some(c) => c
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    #[test]
    fn human_durations_match_go_units() {
        assert_eq!(human_duration(0), "Less than a second");
        assert_eq!(human_duration(-5 * S), "Less than a second");
        assert_eq!(human_duration(S), "1 second");
        assert_eq!(human_duration(5 * S), "5 seconds");
        assert_eq!(human_duration(59 * S), "59 seconds");
        assert_eq!(human_duration(60 * S), "About a minute");
        assert_eq!(human_duration(119 * S), "About a minute");
        assert_eq!(human_duration(120 * S), "2 minutes");
        assert_eq!(human_duration(59 * 60 * S), "59 minutes");
        assert_eq!(human_duration(3600 * S), "About an hour");
        assert_eq!(human_duration(5399 * S), "About an hour");
        assert_eq!(human_duration(5400 * S), "2 hours");
        assert_eq!(human_duration(47 * 3600 * S), "47 hours");
        assert_eq!(human_duration(48 * 3600 * S), "2 days");
        assert_eq!(human_duration(14 * 24 * 3600 * S), "2 weeks");
        assert_eq!(human_duration(60 * 24 * 3600 * S), "2 months");
        assert_eq!(human_duration(2 * 365 * 24 * 3600 * S), "2 years");
    }

    #[test]
    fn go_duration_strings() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(5 * S), "5s");
        assert_eq!(go_duration(90 * S), "1m30s");
        assert_eq!(go_duration(3600 * S), "1h0m0s");
        assert_eq!(go_duration(1_500_000_000), "1.5s");
        assert_eq!(go_duration(300_000_000), "300ms");
        assert_eq!(go_duration(4), "4ns");
        assert_eq!(go_duration(1_500), "1.5µs");
    }

    #[test]
    fn sizes() {
        assert_eq!(bytes_size(20.0 * 1024.0 * 1024.0), "20MiB");
        assert_eq!(bytes_size(10.0 * 1024.0 * 1024.0), "10MiB");
        assert_eq!(bytes_size(1.5 * 1024.0 * 1024.0 * 1024.0), "1.5GiB");
        assert_eq!(bytes_size(512.0), "512B");
        assert_eq!(bytes_size(25_000_000_000.0), "23.28GiB");
        assert_eq!(go_g(0.000012345, 4), "1.234e-05");
        assert_eq!(go_g(123456.0, 4), "1.235e+05");
    }

    #[test]
    fn pretty_times_and_capitals() {
        let t = chrono::DateTime::parse_from_rfc3339("2009-11-10T23:00:00Z")
            .expect("t")
            .with_timezone(&chrono::Utc);
        assert_eq!(pretty_time(t), "2009-11-10 23:00:00 +0000 utc");
        let t = chrono::DateTime::parse_from_rfc3339("2009-11-10T23:00:00.120Z")
            .expect("t")
            .with_timezone(&chrono::Utc);
        assert_eq!(pretty_time(t), "2009-11-10 23:00:00.12 +0000 utc");
        assert_eq!(capitalize("ready"), "Ready");
        assert_eq!(capitalize("REACHABLE"), "Reachable");
        assert_eq!(capitalize(""), "");
    }
}

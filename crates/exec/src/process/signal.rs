//! Parsing a service's stop signal (`--stop-signal`).

use std::str::FromStr;

use nix::sys::signal::Signal;

/// Parses a stop signal the way Docker accepts it: a name with or without
/// the `SIG` prefix in any case (`SIGTERM`, `TERM`, `sigint`) or a number
/// (`15`). Empty means `SIGTERM`.
pub fn parse_signal(s: &str) -> Result<Signal, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(Signal::SIGTERM);
    }
    let invalid =
        || format!("invalid stop signal {s:?}: give a name such as SIGTERM or a number such as 15");
    if s.bytes().all(|b| b.is_ascii_digit()) {
        let n: i32 = s.parse().map_err(|_| invalid())?;
        return Signal::try_from(n).map_err(|_| invalid());
    }
    let upper = s.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    Signal::from_str(&name).map_err(|_| invalid())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn accepts_docker_forms() {
        assert_eq!(parse_signal(""), Ok(Signal::SIGTERM));
        assert_eq!(parse_signal("SIGTERM"), Ok(Signal::SIGTERM));
        assert_eq!(parse_signal("TERM"), Ok(Signal::SIGTERM));
        assert_eq!(parse_signal("15"), Ok(Signal::SIGTERM));
        assert_eq!(parse_signal("SIGINT"), Ok(Signal::SIGINT));
        assert_eq!(parse_signal("sigquit"), Ok(Signal::SIGQUIT));
        assert_eq!(parse_signal("usr1"), Ok(Signal::SIGUSR1));
        assert_eq!(parse_signal("9"), Ok(Signal::SIGKILL));
    }

    #[test]
    fn rejects_nonsense() {
        assert!(parse_signal("SIGFOO").is_err());
        assert!(parse_signal("0").is_err());
        assert!(parse_signal("999").is_err());
        assert!(parse_signal("-1").is_err());
        assert!(parse_signal("99999999999999").is_err());
    }
}

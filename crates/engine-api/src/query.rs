//! Query-string parameters, parsed the way moby's handlers read them:
//! first value wins, lenient booleans (`httputils.BoolValue`), strict
//! booleans (`strconv.ParseBool`) and `version=<uint>` for updates.

use std::collections::BTreeMap;

use axum::extract::{FromRequestParts, RawQuery};
use axum::http::request::Parts;

use crate::error::ApiError;

/// Decoded query parameters (first occurrence of each key).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    /// Parses a raw query string (`a=1&b=x%20y`, `+` means space).
    pub fn parse(raw: &str) -> Params {
        let mut map = BTreeMap::new();
        for pair in raw.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            map.entry(unescape(k)).or_insert_with(|| unescape(v));
        }
        Params(map)
    }

    /// The value of `key` ("" when absent).
    pub fn get(&self, key: &str) -> &str {
        self.0.get(key).map(String::as_str).unwrap_or("")
    }

    /// moby's `BoolValue`: false for "", 0, no, false, none; true otherwise.
    pub fn flag(&self, key: &str) -> bool {
        let v = self.get(key).trim().to_ascii_lowercase();
        !matches!(v.as_str(), "" | "0" | "no" | "false" | "none")
    }

    /// Go's `strconv.ParseBool` on a present value; `None` when absent or
    /// empty; `Err(raw)` when present but not a boolean.
    pub fn strict_flag(&self, key: &str) -> Result<Option<bool>, String> {
        let raw = self.get(key);
        if raw.is_empty() {
            return Ok(None);
        }
        parse_go_bool(raw).map(Some).ok_or_else(|| raw.to_string())
    }

    /// The mandatory `version` of an update, as moby parses it: a decimal
    /// u64, else 400 `invalid <kind> version '<raw>': ...`.
    pub fn object_version(&self, kind: &str) -> Result<u64, ApiError> {
        let raw = self.get("version");
        let reason = if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
            "invalid syntax"
        } else {
            match raw.parse::<u64>() {
                Ok(v) => return Ok(v),
                Err(_) => "value out of range",
            }
        };
        Err(ApiError::bad_request(format!(
            "invalid {kind} version '{raw}': strconv.ParseUint: parsing \"{raw}\": {reason}"
        )))
    }
}

/// `strconv.ParseBool`.
pub fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn unescape(s: &str) -> String {
    let spaced = s.replace('+', " ");
    urlencoding::decode(&spaced)
        .map(|c| c.into_owned())
        .unwrap_or(spaced)
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let RawQuery(raw) = RawQuery::from_request_parts(parts, state)
            .await
            .unwrap_or(RawQuery(None));
        Ok(Params::parse(raw.as_deref().unwrap_or("")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_and_booleans() {
        let p = Params::parse("force=1&a=x%20y+z&a=second&stdout=no&status=true&empty=&rot=maybe");
        assert_eq!(p.get("a"), "x y z");
        assert!(p.flag("force"));
        assert!(!p.flag("stdout"));
        assert!(!p.flag("missing"));
        assert!(!p.flag("empty"));
        assert_eq!(p.strict_flag("status"), Ok(Some(true)));
        assert_eq!(p.strict_flag("missing"), Ok(None));
        assert_eq!(p.strict_flag("rot"), Err("maybe".to_string()));
    }

    #[test]
    fn versions() {
        assert_eq!(
            Params::parse("version=42").object_version("service"),
            Ok(42)
        );
        let e = Params::parse("")
            .object_version("swarm")
            .expect_err("missing");
        assert_eq!(
            e.message,
            "invalid swarm version '': strconv.ParseUint: parsing \"\": invalid syntax"
        );
        let e = Params::parse("version=-1")
            .object_version("node")
            .expect_err("negative");
        assert!(
            e.message.starts_with("invalid node version '-1'"),
            "{}",
            e.message
        );
        let e = Params::parse("version=99999999999999999999999")
            .object_version("node")
            .expect_err("big");
        assert!(e.message.ends_with("value out of range"), "{}", e.message);
    }
}

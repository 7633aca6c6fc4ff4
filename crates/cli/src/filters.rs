//! The `filters` query parameter: `{"key":{"value":true}}`, URL-encoded.

use std::collections::BTreeMap;

use crate::error::{CliError, Result};
use crate::opts;

/// A set of filters; values under a key are ORed, keys are ANDed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filters(BTreeMap<String, BTreeMap<String, bool>>);

impl Filters {
    /// No filters.
    pub fn new() -> Filters {
        Filters::default()
    }

    /// Parses repeated `-f key=value` flags.
    pub fn parse(flags: &[String]) -> Result<Filters> {
        let mut f = Filters::new();
        for v in flags.iter().filter(|v| !v.is_empty()) {
            let (k, val) = opts::parse_filter(v).map_err(CliError::Msg)?;
            f.add(&k, &val);
        }
        Ok(f)
    }

    /// Adds a value under a key.
    pub fn add(&mut self, key: &str, value: &str) -> &mut Filters {
        self.0
            .entry(key.to_string())
            .or_default()
            .insert(value.to_string(), true);
        self
    }

    /// Builder form of [`Filters::add`].
    pub fn with(mut self, key: &str, value: &str) -> Filters {
        self.add(key, value);
        self
    }

    /// The values under `key`.
    pub fn get(&self, key: &str) -> Vec<String> {
        self.0
            .get(key)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Removes a key.
    pub fn remove(&mut self, key: &str) {
        self.0.remove(key);
    }

    /// True when there are no filters.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The JSON form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".into())
    }

    /// `filters=...` ready to append to a query, or `""` when empty.
    pub fn query(&self) -> String {
        if self.is_empty() {
            String::new()
        } else {
            format!("filters={}", urlencoding::encode(&self.to_json()))
        }
    }
}

/// Joins query parts into `?a&b` (empty parts skipped).
pub fn query(parts: &[String]) -> String {
    let parts: Vec<&str> = parts
        .iter()
        .map(String::as_str)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_docker() {
        let f = Filters::new()
            .with("service", "abc")
            .with("_up-to-date", "true");
        assert_eq!(
            f.to_json(),
            r#"{"_up-to-date":{"true":true},"service":{"abc":true}}"#
        );
        assert!(f.query().starts_with("filters=%7B%22_up-to-date%22"));
        assert_eq!(Filters::new().query(), "");
        let p = Filters::parse(&["name=web".into(), "name=db".into()]).expect("parse");
        assert_eq!(p.get("name"), vec!["db".to_string(), "web".to_string()]);
        assert_eq!(
            query(&["status=true".into(), String::new()]),
            "?status=true"
        );
    }
}

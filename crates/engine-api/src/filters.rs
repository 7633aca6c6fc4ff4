//! The `filters` query parameter (moby `api/types/filters`): a JSON object
//! mapping each key to a set of values, in the current form
//! `{"k":{"v":true}}` or the legacy form `{"k":["v"]}`. Values under one
//! key are ORed, keys are ANDed; unknown keys are rejected.

use std::collections::{BTreeMap, BTreeSet};

use rswarm_types::Labels;

use crate::error::ApiError;

/// Parsed filters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters(BTreeMap<String, BTreeSet<String>>);

impl Filters {
    /// Parses the raw parameter value ("" means no filters).
    pub fn parse(raw: &str) -> Result<Filters, ApiError> {
        if raw.trim().is_empty() {
            return Ok(Filters::default());
        }
        let value: serde_json::Value = serde_json::from_str(raw)
            .map_err(|e| ApiError::bad_request(format!("invalid filter JSON: {e}")))?;
        let obj = value
            .as_object()
            .ok_or_else(|| ApiError::bad_request("invalid filter JSON: expected an object"))?;
        let mut map = BTreeMap::new();
        for (key, values) in obj {
            let set: BTreeSet<String> = match values {
                serde_json::Value::Object(m) => m.keys().cloned().collect(),
                serde_json::Value::Array(a) => a
                    .iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect::<Option<_>>()
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "invalid filter JSON: values of '{key}' must be strings"
                        ))
                    })?,
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "invalid filter JSON: bad value for '{key}'"
                    )));
                }
            };
            map.insert(key.clone(), set);
        }
        Ok(Filters(map))
    }

    /// Rejects keys outside `accepted` with moby's `Invalid filter '<key>'`.
    pub fn validate(&self, accepted: &[&str]) -> Result<(), ApiError> {
        match self.0.keys().find(|k| !accepted.contains(&k.as_str())) {
            Some(k) => Err(crate::error::invalid_filter(k)),
            None => Ok(()),
        }
    }

    /// The values of `key` (empty when absent).
    pub fn get(&self, key: &str) -> Vec<&str> {
        self.0
            .get(key)
            .map(|s| s.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// True when `key` was given.
    pub fn contains(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// Replaces the values of `key`.
    pub fn set(&mut self, key: &str, values: impl IntoIterator<Item = String>) {
        self.0.insert(key.to_string(), values.into_iter().collect());
    }

    /// `key` absent, or `value` equals one of its values.
    pub fn exact(&self, key: &str, value: &str) -> bool {
        self.0
            .get(key)
            .is_none_or(|s| s.is_empty() || s.contains(value))
    }

    /// `key` absent, or `value` starts with one of its values.
    pub fn prefix(&self, key: &str, value: &str) -> bool {
        self.0
            .get(key)
            .is_none_or(|s| s.is_empty() || s.iter().any(|p| value.starts_with(p.as_str())))
    }

    /// Label semantics: every `k` or `k=v` under `key` must match `labels`
    /// (`k` alone, or `k=` with an empty value, means "has the label").
    pub fn labels(&self, key: &str, labels: &Labels) -> bool {
        self.0.get(key).is_none_or(|s| {
            s.iter().all(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv.as_str(), ""));
                labels.get(k).is_some_and(|have| v.is_empty() || have == v)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_parse() {
        let a = Filters::parse(r#"{"name":{"web":true},"label":{"a=b":true}}"#).expect("new form");
        let b = Filters::parse(r#"{"name":["web"],"label":["a=b"]}"#).expect("legacy form");
        assert_eq!(a, b);
        assert_eq!(a.get("name"), vec!["web"]);
        assert!(Filters::parse("").expect("empty").get("name").is_empty());
        assert!(Filters::parse("{bad").is_err());
        assert!(Filters::parse(r#"{"name":"web"}"#).is_err());
    }

    #[test]
    fn validation_and_matching() {
        let f = Filters::parse(r#"{"nope":{"x":true}}"#).expect("parse");
        assert_eq!(
            f.validate(&["name"]).expect_err("bad").message,
            "Invalid filter 'nope'"
        );
        let f =
            Filters::parse(r#"{"name":{"we":true,"db":true},"id":{"abc":true}}"#).expect("parse");
        assert!(f.prefix("name", "web"));
        assert!(f.prefix("name", "db1"));
        assert!(!f.prefix("name", "cache"));
        assert!(f.exact("missing", "x"));
        assert!(!f.exact("id", "abcd"));
        let mut labels = Labels::new();
        labels.insert("com.docker.stack.namespace".into(), "web".into());
        labels.insert("tier".into(), "front".into());
        let f = Filters::parse(r#"{"label":{"com.docker.stack.namespace=web":true,"tier":true}}"#)
            .expect("parse");
        assert!(f.labels("label", &labels));
        let f = Filters::parse(r#"{"label":{"com.docker.stack.namespace=db":true,"tier":true}}"#)
            .expect("parse");
        assert!(!f.labels("label", &labels));
        let f = Filters::parse(r#"{"label":{"missing":true}}"#).expect("parse");
        assert!(!f.labels("label", &labels));
    }
}

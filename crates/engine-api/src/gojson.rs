//! Request bodies decoded with Go `encoding/json` semantics, as moby
//! decodes them, so every Docker client (the CLI, the SDKs, Portainer,
//! Ansible, Terraform...) is understood the same way:
//!
//! - an object key matches a struct field exactly first, then
//!   case-insensitively (`"replicated"` is `Replicated`); when several
//!   keys land on one field the last one wins;
//! - `null` leaves a field unset: a struct field that is `null` is treated
//!   as absent (its default), and a `null` where a value of a plain type is
//!   expected (an element of a list, a map value) is that type's zero value
//!   (`""`, `0`, `false`, empty list or map);
//! - unknown keys are ignored;
//! - numbers decode as Go would: integers into integer fields, any number
//!   into float fields.
//!
//! It works for every `Deserialize` type, today's and future ones, because
//! it sits under serde: the derive tells it a struct's field names
//! (`deserialize_struct`), and this layer renames the keys before serde
//! matches them. Types decoded through it must not use `#[serde(flatten)]`
//! (serde hides a flattened struct's field names), which is why the domain
//! types spell out every Engine API field.
//!
//! What it does not do: apply Docker's defaults (see [`crate::convert`]) or
//! change how responses are encoded (the types' serde attributes do that).

use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::{Map, Value};

/// Decodes `value` into `T` with Go's rules; errors name the field path.
pub fn from_value<T: DeserializeOwned>(
    value: Value,
) -> Result<T, serde_path_to_error::Error<serde_json::Error>> {
    serde_path_to_error::deserialize(GoValue(value))
}

/// A JSON value seen through Go's decoding rules.
#[derive(Clone, Debug)]
pub struct GoValue(pub Value);

type Error = serde_json::Error;

impl<'de> IntoDeserializer<'de, Error> for GoValue {
    type Deserializer = GoValue;
    fn into_deserializer(self) -> GoValue {
        self
    }
}

fn visit_object<'de, V: Visitor<'de>>(
    entries: impl Iterator<Item = (String, Value)>,
    visitor: V,
) -> Result<V::Value, Error> {
    let mut map = MapDeserializer::new(entries.map(|(k, v)| (k, GoValue(v))));
    let out = visitor.visit_map(&mut map)?;
    map.end()?;
    Ok(out)
}

fn visit_array<'de, V: Visitor<'de>>(items: Vec<Value>, visitor: V) -> Result<V::Value, Error> {
    let mut seq = SeqDeserializer::new(items.into_iter().map(GoValue));
    let out = visitor.visit_seq(&mut seq)?;
    seq.end()?;
    Ok(out)
}

/// The struct field a JSON key names: the exact field, else the first one
/// equal to it ignoring case (Go's `EqualFold`), else the key unchanged.
fn field_for(key: String, fields: &'static [&'static str]) -> String {
    if fields.contains(&key.as_str()) {
        return key;
    }
    let folded = key.to_lowercase();
    match fields.iter().find(|f| f.to_lowercase() == folded) {
        Some(f) => (*f).to_string(),
        None => key,
    }
}

/// Object entries renamed to the struct's fields, `null`s dropped, and a
/// key repeated (after renaming) kept once, with its last value.
fn struct_entries(
    object: Map<String, Value>,
    fields: &'static [&'static str],
) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = Vec::with_capacity(object.len());
    for (key, value) in object {
        if value.is_null() {
            continue;
        }
        let name = field_for(key, fields);
        out.retain(|(k, _)| *k != name);
        out.push((name, value));
    }
    out
}

macro_rules! zero_on_null {
    ($($method:ident => $zero:expr),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                match self.0 {
                    Value::Null => $zero(visitor),
                    other => de::Deserializer::$method(other, visitor),
                }
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for GoValue {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Array(items) => visit_array(items, visitor),
            Value::Object(object) => visit_object(object.into_iter(), visitor),
            other => de::Deserializer::deserialize_any(other, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(object) => {
                visit_object(struct_entries(object, fields).into_iter(), visitor)
            }
            Value::Null => visit_object(std::iter::empty(), visitor),
            other => de::Deserializer::deserialize_struct(other, name, fields, visitor),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(object) => visit_object(object.into_iter(), visitor),
            Value::Null => visit_object(std::iter::empty(), visitor),
            other => de::Deserializer::deserialize_map(other, visitor),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Array(items) => visit_array(items, visitor),
            Value::Null => visit_array(Vec::new(), visitor),
            other => de::Deserializer::deserialize_seq(other, visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_enum(self.0, name, variants, visitor)
    }

    zero_on_null! {
        deserialize_bool => |v: V| v.visit_bool(false),
        deserialize_i8 => |v: V| v.visit_i64(0),
        deserialize_i16 => |v: V| v.visit_i64(0),
        deserialize_i32 => |v: V| v.visit_i64(0),
        deserialize_i64 => |v: V| v.visit_i64(0),
        deserialize_u8 => |v: V| v.visit_u64(0),
        deserialize_u16 => |v: V| v.visit_u64(0),
        deserialize_u32 => |v: V| v.visit_u64(0),
        deserialize_u64 => |v: V| v.visit_u64(0),
        deserialize_f32 => |v: V| v.visit_f64(0.0),
        deserialize_f64 => |v: V| v.visit_f64(0.0),
        deserialize_str => |v: V| v.visit_str(""),
        deserialize_string => |v: V| v.visit_str(""),
        deserialize_char => |v: V| v.visit_str(""),
        deserialize_bytes => |v: V| v.visit_bytes(&[]),
        deserialize_byte_buf => |v: V| v.visit_bytes(&[]),
    }

    forward_to_deserialize_any! {
        i128 u128 unit unit_struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::{ModeKind, ServiceSpec, SwarmSpec};
    use serde_json::json;

    fn decode<T: DeserializeOwned>(v: Value) -> T {
        from_value(v).expect("decodes")
    }

    #[test]
    fn keys_match_case_insensitively_exact_first() {
        let spec: ServiceSpec = decode(json!({
            "name": "web",
            "mode": {"replicated": {"replicas": 5}},
            "RollbackConfig": {"order": "start-first"},
            "taskTemplate": {"containerSpec": {"image": "busybox", "tty": true}}
        }));
        assert_eq!(spec.name, "web");
        assert_eq!(spec.mode.kind(), Some(ModeKind::Replicated));
        assert_eq!(spec.mode.replicas(), Some(5));
        assert_eq!(spec.rollback_config.expect("rollback").order, "start-first");
        let c = spec.task_template.container_spec.expect("container");
        assert_eq!((c.image.as_str(), c.tty), ("busybox", true));
        let last: ServiceSpec = decode(json!({"Name": "a", "name": "b"}));
        assert_eq!(last.name, "b");
    }

    #[test]
    fn null_means_unset_or_zero() {
        let spec: SwarmSpec = decode(json!({
            "Raft": {"HeartbeatTick": null, "LogEntriesForSlowFollowers": null, "ElectionTick": 7},
            "Labels": {"a": null},
            "CAConfig": null
        }));
        assert_eq!(spec.raft.heartbeat_tick, 0);
        assert_eq!(spec.raft.election_tick, 7);
        assert_eq!(spec.labels.get("a").map(String::as_str), Some(""));
        let spec: ServiceSpec = decode(json!({
            "Name": null,
            "TaskTemplate": {"ContainerSpec": {"Args": ["a", null], "Env": null, "StopGracePeriod": null}},
            "UpdateConfig": null
        }));
        let c = spec.task_template.container_spec.expect("container");
        assert_eq!(c.args, vec!["a", ""]);
        assert!(c.stop_grace_period.is_none() && spec.update_config.is_none());
    }

    #[test]
    fn unknown_keys_are_ignored_and_types_checked() {
        let spec: ServiceSpec = decode(json!({"Name": "x", "Bogus": {"deep": [1]}}));
        assert_eq!(spec.name, "x");
        let err = from_value::<ServiceSpec>(json!({"Mode": {"Replicated": {"Replicas": "3"}}}))
            .expect_err("string is not a number");
        assert_eq!(err.path().to_string(), "Mode.Replicated.Replicas");
        let err = from_value::<ServiceSpec>(json!({"Mode": {"Replicated": {"Replicas": 1.5}}}))
            .expect_err("fraction is not an integer");
        assert!(err.to_string().contains("expected u64"), "{err}");
        let ratio: rswarm_types::UpdateConfig = decode(json!({"MaxFailureRatio": 1}));
        assert_eq!(ratio.max_failure_ratio, 1.0);
    }
}

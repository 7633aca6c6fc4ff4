//! A JSON value that keeps object key order, for `--format` templates and
//! `inspect` output.
//!
//! `serde_json::Value` sorts object keys; docker prints objects in the
//! order of its Go structs, which is the order our daemon sends them in.
//! [`Val`] keeps that order and writes JSON the way Go's `encoding/json`
//! does (HTML escaping, `MarshalIndent` layout).

use std::fmt::Write as _;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A JSON (or template context) value.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    /// `null`, or a missing map entry (prints `<no value>`).
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, kept as its JSON text.
    Num(String),
    /// A string.
    Str(String),
    /// An array.
    List(Vec<Val>),
    /// An object.
    Map(Obj),
}

/// An object with ordered keys.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Obj {
    /// Entries in their original order.
    pub entries: Vec<(String, Val)>,
    /// A formatter context (a Go struct): a missing field is an error, and
    /// `{{json .}}` escapes HTML like Go's `json.Marshal`.
    pub context: bool,
}

impl Obj {
    /// An empty object.
    pub fn new() -> Obj {
        Obj::default()
    }

    /// An empty formatter context.
    pub fn context() -> Obj {
        Obj {
            entries: Vec::new(),
            context: true,
        }
    }

    /// Appends an entry (builder style).
    pub fn with(mut self, key: &str, v: impl Into<Val>) -> Obj {
        self.entries.push((key.to_string(), v.into()));
        self
    }

    /// Looks a key up.
    pub fn get(&self, key: &str) -> Option<&Val> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

impl From<&str> for Val {
    fn from(s: &str) -> Val {
        Val::Str(s.to_string())
    }
}

impl From<String> for Val {
    fn from(s: String) -> Val {
        Val::Str(s)
    }
}

impl From<bool> for Val {
    fn from(b: bool) -> Val {
        Val::Bool(b)
    }
}

impl From<Obj> for Val {
    fn from(o: Obj) -> Val {
        Val::Map(o)
    }
}

impl From<i64> for Val {
    fn from(n: i64) -> Val {
        Val::Num(n.to_string())
    }
}

impl From<u64> for Val {
    fn from(n: u64) -> Val {
        Val::Num(n.to_string())
    }
}

impl From<f64> for Val {
    fn from(n: f64) -> Val {
        Val::Num(n.to_string())
    }
}

impl Val {
    /// Parses JSON text, keeping key order.
    pub fn parse(bytes: &[u8]) -> Result<Val, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// Converts a `serde_json::Value` (keys come out sorted).
    pub fn from_json(v: &serde_json::Value) -> Val {
        match v {
            serde_json::Value::Null => Val::Null,
            serde_json::Value::Bool(b) => Val::Bool(*b),
            serde_json::Value::Number(n) => Val::Num(n.to_string()),
            serde_json::Value::String(s) => Val::Str(s.clone()),
            serde_json::Value::Array(a) => Val::List(a.iter().map(Val::from_json).collect()),
            serde_json::Value::Object(m) => Val::Map(Obj {
                entries: m
                    .iter()
                    .map(|(k, v)| (k.clone(), Val::from_json(v)))
                    .collect(),
                context: false,
            }),
        }
    }

    /// Go template truthiness: false, 0, nil and empty values are false.
    pub fn truthy(&self) -> bool {
        match self {
            Val::Null => false,
            Val::Bool(b) => *b,
            Val::Num(n) => n.parse::<f64>().map(|f| f != 0.0).unwrap_or(true),
            Val::Str(s) => !s.is_empty(),
            Val::List(l) => !l.is_empty(),
            Val::Map(m) => !m.entries.is_empty(),
        }
    }

    /// How Go's `fmt` prints the value inside a template (`%v`).
    pub fn display(&self) -> String {
        let mut out = String::new();
        self.display_into(&mut out, true);
        out
    }

    fn display_into(&self, out: &mut String, top: bool) {
        match self {
            Val::Null if top => out.push_str("<no value>"),
            Val::Null => out.push_str("<nil>"),
            Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Val::Num(n) => out.push_str(n),
            Val::Str(s) => out.push_str(s),
            Val::List(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    v.display_into(out, false);
                }
                out.push(']');
            }
            Val::Map(m) => {
                let mut entries: Vec<&(String, Val)> = m.entries.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                out.push_str("map[");
                for (i, (k, v)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(k);
                    out.push(':');
                    v.display_into(out, false);
                }
                out.push(']');
            }
        }
    }

    /// Compact JSON as Go writes it.
    pub fn to_json(&self, escape_html: bool) -> String {
        let mut out = String::new();
        self.write_json(&mut out, None, 0, escape_html);
        out
    }

    /// Indented JSON as Go's `json.MarshalIndent(v, "", indent)`.
    pub fn to_json_indent(&self, indent: &str, escape_html: bool) -> String {
        let mut out = String::new();
        self.write_json(&mut out, Some(indent), 0, escape_html);
        out
    }

    fn write_json(&self, out: &mut String, indent: Option<&str>, depth: usize, html: bool) {
        let newline = |out: &mut String, depth: usize| {
            if let Some(ind) = indent {
                out.push('\n');
                for _ in 0..depth {
                    out.push_str(ind);
                }
            }
        };
        match self {
            Val::Null => out.push_str("null"),
            Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Val::Num(n) => out.push_str(n),
            Val::Str(s) => write_json_string(out, s, html),
            Val::List(items) => {
                if items.is_empty() {
                    out.push_str("[]");
                    return;
                }
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, depth + 1);
                    v.write_json(out, indent, depth + 1, html);
                }
                newline(out, depth);
                out.push(']');
            }
            Val::Map(m) => {
                if m.entries.is_empty() {
                    out.push_str("{}");
                    return;
                }
                out.push('{');
                for (i, (k, v)) in m.entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, depth + 1);
                    write_json_string(out, k, html);
                    out.push(':');
                    if indent.is_some() {
                        out.push(' ');
                    }
                    v.write_json(out, indent, depth + 1, html);
                }
                newline(out, depth);
                out.push('}');
            }
        }
    }
}

/// Writes a JSON string literal with Go's escaping rules.
fn write_json_string(out: &mut String, s: &str, html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' if html => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

struct ValVisitor;

impl<'de> Visitor<'de> for ValVisitor {
    type Value = Val;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Val, E> {
        Ok(Val::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Val, E> {
        Ok(Val::Num(v.to_string()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Val, E> {
        Ok(Val::Num(v.to_string()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Val, E> {
        Ok(Val::Num(v.to_string()))
    }

    fn visit_str<E>(self, v: &str) -> Result<Val, E> {
        Ok(Val::Str(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Val, E> {
        Ok(Val::Str(v))
    }

    fn visit_unit<E>(self) -> Result<Val, E> {
        Ok(Val::Null)
    }

    fn visit_none<E>(self) -> Result<Val, E> {
        Ok(Val::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Val, D::Error> {
        Val::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Val, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element::<Val>()? {
            items.push(v);
        }
        Ok(Val::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Val, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Val>()? {
            entries.push((k, v));
        }
        Ok(Val::Map(Obj {
            entries,
            context: false,
        }))
    }
}

impl<'de> Deserialize<'de> for Val {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Val, D::Error> {
        d.deserialize_any(ValVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_key_order_and_indents_like_go() {
        let v = Val::parse(br#"{"ID":"x","Spec":{"Name":"web","Labels":{}},"Ports":[],"N":[1,2]}"#)
            .expect("parse");
        let s = v.to_json_indent("    ", true);
        assert_eq!(
            s,
            "{\n    \"ID\": \"x\",\n    \"Spec\": {\n        \"Name\": \"web\",\n        \"Labels\": {}\n    },\n    \"Ports\": [],\n    \"N\": [\n        1,\n        2\n    ]\n}"
        );
    }

    #[test]
    fn escapes_html_only_when_asked() {
        let v = Val::Str("*:80->80/tcp & <x>".into());
        assert_eq!(
            v.to_json(true),
            r#""*:80-\u003e80/tcp \u0026 \u003cx\u003e""#
        );
        assert_eq!(v.to_json(false), r#""*:80->80/tcp & <x>""#);
    }

    #[test]
    fn displays_like_go_fmt() {
        let v = Val::parse(br#"{"b":"2","a":["x","y"],"c":null}"#).expect("parse");
        assert_eq!(v.display(), "map[a:[x y] b:2 c:<nil>]");
        assert_eq!(Val::Null.display(), "<no value>");
        assert!(!Val::Str(String::new()).truthy());
        assert!(Val::Num("3".into()).truthy());
        assert!(!Val::Num("0".into()).truthy());
    }
}

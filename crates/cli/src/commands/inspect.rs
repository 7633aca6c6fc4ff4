//! docker's generic `inspect` output: an indented JSON array by default,
//! `--format json` for a compact one, or a template per object.

use std::future::Future;

use crate::error::{CliError, Result};
use crate::output::Output;
use crate::table::parse_template;
use crate::template::Template;
use crate::value::Val;

enum Mode {
    Indented,
    Json,
    Template(Template),
}

/// Collects objects and prints them like docker's inspectors.
pub struct Inspector {
    mode: Mode,
    elements: Vec<Val>,
    buffer: String,
}

impl Inspector {
    /// An inspector for `--format` (`""`, `json` or a template).
    pub fn new(format: &str) -> Result<Inspector> {
        let mode = match format {
            "" => Mode::Indented,
            "json" => Mode::Json,
            t => Mode::Template(parse_template(t)?),
        };
        Ok(Inspector {
            mode,
            elements: Vec::new(),
            buffer: String::new(),
        })
    }

    /// Adds one object.
    pub fn add(&mut self, v: Val) -> Result<()> {
        match &self.mode {
            Mode::Template(t) => {
                let s = t
                    .execute(&v)
                    .map_err(|e| CliError::msg(format!("template parsing error: {e}")))?;
                self.buffer.push_str(&s);
                self.buffer.push('\n');
            }
            _ => self.elements.push(v),
        }
        Ok(())
    }

    /// Prints everything collected.
    pub fn flush(self, out: &mut dyn std::io::Write) -> Result<()> {
        match self.mode {
            Mode::Template(_) => {
                if self.buffer.is_empty() {
                    out.write_all(b"\n")?;
                } else {
                    out.write_all(self.buffer.as_bytes())?;
                }
            }
            Mode::Indented | Mode::Json if self.elements.is_empty() => out.write_all(b"[]\n")?,
            Mode::Indented => writeln!(
                out,
                "{}",
                Val::List(self.elements).to_json_indent("    ", true)
            )?,
            Mode::Json => writeln!(out, "{}", Val::List(self.elements).to_json(true))?,
        }
        Ok(())
    }
}

/// Fetches each reference with `get`, prints what was found, and fails
/// with all errors (one per line) if any lookup failed.
pub async fn inspect_all<F, Fut>(
    refs: &[String],
    format: &str,
    mut get: F,
    io: &mut Output,
) -> Result<()>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<Val>>,
{
    let mut inspector = Inspector::new(format)?;
    let mut errs = Vec::new();
    for r in refs {
        match get(r.clone()).await {
            Ok(v) => {
                if let Err(e) = inspector.add(v) {
                    errs.push(e);
                }
            }
            Err(e) => errs.push(e),
        }
    }
    inspector.flush(&mut io.out)?;
    CliError::join(errs)
}

/// Parses a raw response body into an ordered value.
pub fn parse_val(bytes: &[u8]) -> Result<Val> {
    Val::parse(bytes).map_err(|e| CliError::Decode(e.to_string()))
}

//! docker's list formatting (`formatter.Context`): `table`, `table TMPL`,
//! `json`, or a bare template, with the header row rendered from the same
//! template and columns aligned like Go's tabwriter (minwidth 10,
//! padding 3; see `new_tabwriter`).

use std::io::Write;

use crate::error::{CliError, Result};
use crate::template::Template;
use crate::value::{Obj, Val};

/// The `{{.ID}}` format used by `-q`.
pub const QUIET_FORMAT: &str = "{{.ID}}";

/// A tabwriter configured to produce Go's `NewWriter(out, 10, 1, 3, ' ', 0)`
/// output byte for byte (the Rust crate adds padding after the minimum).
pub fn new_tabwriter<W: Write>(w: W) -> tabwriter::TabWriter<W> {
    tabwriter::TabWriter::new(w).minwidth(7).padding(3)
}

/// True for `table` formats.
pub fn is_table(format: &str) -> bool {
    format.starts_with("table")
}

/// The template text a format stands for (`formatter.Context.preFormat`).
fn final_format(format: &str) -> String {
    let f = if let Some(rest) = format.strip_prefix("table") {
        rest
    } else if format == "json" {
        "{{json .}}"
    } else {
        format
    };
    f.trim_matches(' ')
        .replace("\\t", "\t")
        .replace("\\n", "\n")
}

/// Parses a user template, wrapping errors like docker.
pub fn parse_template(src: &str) -> Result<Template> {
    Template::parse(src).map_err(|e| CliError::msg(format!("template parsing error: {e}")))
}

/// Renders `rows` with `format`; `header` maps field names to titles.
pub fn write(out: &mut dyn Write, format: &str, header: &Obj, rows: &[Val]) -> Result<()> {
    let tmpl = parse_template(&final_format(format))?;
    let mut body = String::new();
    for row in rows {
        body.push_str(
            &tmpl
                .execute(row)
                .map_err(|e| CliError::msg(format!("template parsing error: {e}")))?,
        );
        body.push('\n');
    }
    if is_table(format) {
        let head = tmpl
            .execute_header(&Val::Map(header.clone()))
            .unwrap_or_default();
        let mut tw = new_tabwriter(Vec::new());
        tw.write_all(head.as_bytes())?;
        tw.write_all(b"\n")?;
        tw.write_all(body.as_bytes())?;
        tw.flush()?;
        let bytes = tw.into_inner().map_err(|e| CliError::msg(e.to_string()))?;
        out.write_all(&bytes)?;
    } else {
        out.write_all(body.as_bytes())?;
    }
    Ok(())
}

/// Builds a header map from `(field, title)` pairs.
pub fn header(pairs: &[(&str, &str)]) -> Obj {
    pairs.iter().fold(Obj::new(), |o, (k, v)| o.with(k, *v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_header_and_alignment() {
        let h = header(&[("ID", "ID"), ("Name", "NAME")]);
        let rows = vec![
            Val::Map(Obj::context().with("ID", "a").with("Name", "web")),
            Val::Map(Obj::context().with("ID", "bbbbbbbbbbbb").with("Name", "x")),
        ];
        let mut out = Vec::new();
        write(&mut out, "table {{.ID}}\\t{{.Name}}", &h, &rows).expect("write");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "ID             NAME\na              web\nbbbbbbbbbbbb   x\n"
        );
        let mut out = Vec::new();
        write(&mut out, "{{.Name}}", &h, &rows).expect("write");
        assert_eq!(String::from_utf8(out).expect("utf8"), "web\nx\n");
        let mut out = Vec::new();
        write(&mut out, "json", &h, &rows[..1]).expect("write");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "{\"ID\":\"a\",\"Name\":\"web\"}\n"
        );
    }

    #[test]
    fn empty_table_prints_header_only() {
        let h = header(&[("ID", "ID"), ("Name", "NAME")]);
        let mut out = Vec::new();
        write(&mut out, "table {{.ID}}\t{{.Name}}", &h, &[]).expect("write");
        assert_eq!(String::from_utf8(out).expect("utf8"), "ID        NAME\n");
    }
}

/// `sortorder.NaturalLess`: digit runs compare as numbers
/// (`node-2` < `node-10`).
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (ca, cb) = (a[i], b[j]);
        if ca.is_ascii_digit() && cb.is_ascii_digit() {
            let si = i;
            while i < a.len() && a[i] == b'0' {
                i += 1;
            }
            let sj = j;
            while j < b.len() && b[j] == b'0' {
                j += 1;
            }
            let (ni, nj) = (i, j);
            while i < a.len() && a[i].is_ascii_digit() {
                i += 1;
            }
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let (da, db) = (&a[ni..i], &b[nj..j]);
            let ord = da.len().cmp(&db.len()).then_with(|| da.cmp(db));
            if ord != Ordering::Equal {
                return ord;
            }
            let zeros = (ni - si).cmp(&(nj - sj));
            if zeros != Ordering::Equal {
                return zeros;
            }
        } else {
            if ca != cb {
                return ca.cmp(&cb);
            }
            i += 1;
            j += 1;
        }
    }
    (a.len() - i).cmp(&(b.len() - j))
}

#[cfg(test)]
mod natural_tests {
    use super::natural_cmp;

    #[test]
    fn natural_order() {
        let mut v = vec![
            "service-10-foo",
            "service-2-foo",
            "service-1-foo",
            "node-1",
            "node",
        ];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            vec![
                "node",
                "node-1",
                "service-1-foo",
                "service-2-foo",
                "service-10-foo"
            ]
        );
    }
}

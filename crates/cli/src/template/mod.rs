//! A subset of Go's `text/template`, enough for docker's `--format`.
//!
//! Supported: text with `{{ }}` actions and `{{- -}}` trim markers, field
//! chains (`.Spec.Name`), variables (`$`, `$k, $v :=`), string/number/bool
//! literals, pipelines with `|`, parenthesised pipelines, `if`/`else if`/
//! `else`/`end`, `range` (lists and maps, sorted keys), `with`, and the
//! functions in [`parse::FUNCS`]. Not supported: `define`/`template`/
//! `block`, method calls with arguments, `break`/`continue`.

mod exec;
mod funcs;
mod lex;
mod parse;

use crate::value::Val;

/// A parsed template.
#[derive(Clone, Debug)]
pub struct Template {
    nodes: Vec<parse::Node>,
}

impl Template {
    /// Parses `src`; errors read like Go's (`template: :1: ...`).
    pub fn parse(src: &str) -> Result<Template, String> {
        parse::parse(src).map(|nodes| Template { nodes })
    }

    /// Renders the template with `dot` as data.
    pub fn execute(&self, dot: &Val) -> Result<String, String> {
        exec::Exec::run(&self.nodes, dot, false).map_err(|e| format!("template: :1:2: {e}"))
    }

    /// Renders a table header: `dot` maps field names to header titles and
    /// docker's header functions pass their argument through.
    pub fn execute_header(&self, dot: &Val) -> Result<String, String> {
        exec::Exec::run(&self.nodes, dot, true).map_err(|e| format!("template: :1:2: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Obj;

    fn render(t: &str, v: &Val) -> String {
        Template::parse(t)
            .expect("parse")
            .execute(v)
            .expect("execute")
    }

    fn data() -> Val {
        Val::parse(
            br#"{"ID":"abc","Spec":{"Name":"web","Labels":{"k":"v","a":""},"Mode":{"Replicated":{"Replicas":3}}},"Args":["sleep","100"],"Flag":false}"#,
        )
        .expect("json")
    }

    #[test]
    fn fields_and_nesting() {
        let d = data();
        assert_eq!(render("{{.ID}}", &d), "abc");
        assert_eq!(render("{{.Spec.Name}}", &d), "web");
        assert_eq!(render("{{.Spec.Mode.Replicated.Replicas}}", &d), "3");
        assert_eq!(render("{{.Missing}}", &d), "<no value>");
        assert_eq!(render("{{.ID}}\t{{.Spec.Name}}", &d), "abc\tweb");
    }

    #[test]
    fn functions() {
        let d = data();
        assert_eq!(render("{{json .Spec.Labels}}", &d), r#"{"k":"v","a":""}"#);
        assert_eq!(render(r#"{{index .Spec.Labels "k"}}"#, &d), "v");
        assert_eq!(render(r#"{{index .Spec.Labels "nope"}}"#, &d), "");
        assert_eq!(
            render("{{upper .Spec.Name}}/{{lower \"ABC\"}}", &d),
            "WEB/abc"
        );
        assert_eq!(render("{{.Spec.Name | upper}}", &d), "WEB");
        assert_eq!(render(r#"{{join .Args ","}}"#, &d), "sleep,100");
        assert_eq!(render("{{len .Args}}", &d), "2");
        assert_eq!(render(r#"{{title "hello world"}}"#, &d), "Hello World");
        assert_eq!(render(r#"{{pad "x" 1 2}}|"#, &d), " x  |");
        assert_eq!(render(r#"{{truncate "abcdef" 3}}"#, &d), "abc");
        assert_eq!(render("{{json .Args}}", &d), r#"["sleep","100"]"#);
        assert_eq!(render("{{.Args}}", &d), "[sleep 100]");
        assert_eq!(render("{{.Spec.Labels}}", &d), "map[a: k:v]");
        assert_eq!(render(r#"{{printf "%s-%d" .ID 5}}"#, &d), "abc-5");
    }

    #[test]
    fn control_flow() {
        let d = data();
        assert_eq!(render("{{if .Flag}}yes{{else}}no{{end}}", &d), "no");
        assert_eq!(render("{{if .ID}}yes{{else}}no{{end}}", &d), "yes");
        assert_eq!(
            render(
                r#"{{if eq .ID "x"}}x{{else if eq .ID "abc"}}abc{{else}}?{{end}}"#,
                &d
            ),
            "abc"
        );
        assert_eq!(
            render("{{range $k, $v := .Spec.Labels}}{{$k}}={{$v}};{{end}}", &d),
            "a=;k=v;"
        );
        assert_eq!(render("{{range .Args}}[{{.}}]{{end}}", &d), "[sleep][100]");
        assert_eq!(render("{{with .Spec}}{{.Name}}{{end}}", &d), "web");
        assert_eq!(
            render("{{if gt .Spec.Mode.Replicated.Replicas 2}}many{{end}}", &d),
            "many"
        );
        assert_eq!(render("{{if and .ID (not .Flag)}}ok{{end}}", &d), "ok");
        assert_eq!(render("a\n  {{- .ID -}}\n  b", &d), "aabcb");
        assert_eq!(render("{{$n := .Spec.Name}}{{$n}}!", &d), "web!");
    }

    #[test]
    fn context_objects_are_strict_and_json_escapes_html() {
        let ctx = Val::Map(Obj::context().with("ID", "x").with("Ports", "*:80->80/tcp"));
        let t = Template::parse("{{.Nope}}").expect("parse");
        let err = t.execute(&ctx).expect_err("strict");
        assert!(err.contains("can't evaluate field Nope"), "{err}");
        assert_eq!(
            render("{{json .}}", &ctx),
            r#"{"ID":"x","Ports":"*:80-\u003e80/tcp"}"#
        );
        assert_eq!(render("{{json .Ports}}", &ctx), r#""*:80->80/tcp""#);
    }

    #[test]
    fn headers_pass_through_functions() {
        let h = Val::Map(Obj::new().with("Name", "NAME"));
        let t = Template::parse("{{upper .Name}}|{{json .Name}}").expect("parse");
        assert_eq!(t.execute_header(&h).expect("header"), "NAME|NAME");
    }

    #[test]
    fn parse_errors_read_like_go() {
        let e = Template::parse("{{InvalidFunction}}").expect_err("err");
        assert_eq!(e, r#"template: :1: function "InvalidFunction" not defined"#);
        assert!(Template::parse("{{if .X}}").is_err());
        assert!(Template::parse("{{end}}").is_err());
    }
}

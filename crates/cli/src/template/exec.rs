//! Runs a parsed template against a [`Val`].

use super::funcs;
use super::parse::{Arg, Node, Pipeline};
use crate::value::Val;

/// Execution state: output, variables, header mode.
pub struct Exec {
    header: bool,
    vars: Vec<(String, Val)>,
    out: String,
}

impl Exec {
    /// Runs `nodes` with `dot`; `header` selects docker's header functions.
    pub fn run(nodes: &[Node], dot: &Val, header: bool) -> Result<String, String> {
        let mut e = Exec {
            header,
            vars: vec![(String::new(), dot.clone())],
            out: String::new(),
        };
        e.nodes(nodes, dot)?;
        Ok(e.out)
    }

    fn nodes(&mut self, nodes: &[Node], dot: &Val) -> Result<(), String> {
        let mark = self.vars.len();
        for n in nodes {
            self.node(n, dot)?;
        }
        self.vars.truncate(mark);
        Ok(())
    }

    fn node(&mut self, node: &Node, dot: &Val) -> Result<(), String> {
        match node {
            Node::Text(t) => self.out.push_str(t),
            Node::Print(p) => {
                let v = self.pipe(p, dot)?;
                if p.decl.is_empty() {
                    self.out.push_str(&v.display());
                } else {
                    for name in &p.decl {
                        self.vars.push((name.clone(), v.clone()));
                    }
                }
            }
            Node::If {
                branches,
                otherwise,
            } => {
                for (cond, body) in branches {
                    if self.pipe(cond, dot)?.truthy() {
                        return self.nodes(body, dot);
                    }
                }
                self.nodes(otherwise, dot)?;
            }
            Node::With {
                pipe,
                body,
                otherwise,
            } => {
                let v = self.pipe(pipe, dot)?;
                if v.truthy() {
                    self.nodes(body, &v)?;
                } else {
                    self.nodes(otherwise, dot)?;
                }
            }
            Node::Range {
                pipe,
                body,
                otherwise,
            } => {
                let v = self.pipe(pipe, dot)?;
                let items: Vec<(Val, Val)> = match v {
                    Val::List(l) => l
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| (Val::Num(i.to_string()), v))
                        .collect(),
                    Val::Map(m) => {
                        let mut e = m.entries;
                        e.sort_by(|a, b| a.0.cmp(&b.0));
                        e.into_iter().map(|(k, v)| (Val::Str(k), v)).collect()
                    }
                    Val::Null => Vec::new(),
                    other => return Err(format!("range can't iterate over {}", other.display())),
                };
                if items.is_empty() {
                    return self.nodes(otherwise, dot);
                }
                for (k, v) in items {
                    let mark = self.vars.len();
                    match pipe.decl.as_slice() {
                        [one] => self.vars.push((one.clone(), v.clone())),
                        [a, b] => {
                            self.vars.push((a.clone(), k));
                            self.vars.push((b.clone(), v.clone()));
                        }
                        _ => {}
                    }
                    self.nodes(body, &v)?;
                    self.vars.truncate(mark);
                }
            }
        }
        Ok(())
    }

    fn pipe(&mut self, p: &Pipeline, dot: &Val) -> Result<Val, String> {
        let mut piped: Option<Val> = None;
        for cmd in &p.cmds {
            piped = Some(self.command(cmd, dot, piped)?);
        }
        Ok(piped.unwrap_or(Val::Null))
    }

    fn command(&mut self, cmd: &[Arg], dot: &Val, piped: Option<Val>) -> Result<Val, String> {
        let Some(first) = cmd.first() else {
            return Err("empty command".into());
        };
        if let Arg::Func(name) = first {
            let mut args = Vec::with_capacity(cmd.len());
            for a in &cmd[1..] {
                args.push(self.arg(a, dot)?);
            }
            if let Some(p) = piped {
                args.push(p);
            }
            return funcs::call(name, args, self.header)
                .map_err(|e| format!("executing \"\" at <{name}>: {e}"));
        }
        if cmd.len() > 1 || piped.is_some() {
            return Err("can't give argument to non-function".into());
        }
        self.arg(first, dot)
    }

    fn arg(&mut self, a: &Arg, dot: &Val) -> Result<Val, String> {
        match a {
            Arg::Field(chain) => field(dot, chain),
            Arg::Var(name, chain) => {
                let v = self
                    .vars
                    .iter()
                    .rev()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| format!("undefined variable \"${name}\""))?;
                field(&v, chain)
            }
            Arg::Func(name) => funcs::call(name, Vec::new(), self.header),
            Arg::Str(s) => Ok(Val::Str(s.clone())),
            Arg::Num(n) => Ok(Val::Num(n.clone())),
            Arg::Bool(b) => Ok(Val::Bool(*b)),
            Arg::Nil => Err("nil is not a command".into()),
            Arg::Sub(p, chain) => {
                let v = self.pipe(p, dot)?;
                field(&v, chain)
            }
        }
    }
}

/// Follows a field chain: a missing key in a formatter context is an
/// error (a Go struct); in a plain object it is `<no value>` (a Go map).
fn field(v: &Val, chain: &[String]) -> Result<Val, String> {
    let mut cur = v.clone();
    for name in chain {
        cur = match &cur {
            Val::Map(m) => match m.get(name) {
                Some(v) => v.clone(),
                None if m.context => {
                    return Err(format!(
                        "executing \"\" at <.{name}>: can't evaluate field {name}"
                    ));
                }
                None => Val::Null,
            },
            Val::Null => Val::Null,
            other => {
                return Err(format!(
                    "executing \"\" at <.{name}>: can't evaluate field {name} in type {}",
                    match other {
                        Val::Str(_) => "string",
                        Val::List(_) => "slice",
                        Val::Bool(_) => "bool",
                        _ => "number",
                    }
                ));
            }
        };
    }
    Ok(cur)
}

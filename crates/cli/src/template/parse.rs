//! Builds the tree of a template from its pieces.

use super::lex::{self, Piece, Tok};

/// A node of the template tree.
#[derive(Clone, Debug)]
pub enum Node {
    /// Literal text.
    Text(String),
    /// `{{pipeline}}`: prints its value (nothing when it declares a variable).
    Print(Pipeline),
    /// `{{if}}...{{else if}}...{{else}}...{{end}}`.
    If {
        branches: Vec<(Pipeline, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
    /// `{{range}}` with optional `$k, $v :=`.
    Range {
        pipe: Pipeline,
        body: Vec<Node>,
        otherwise: Vec<Node>,
    },
    /// `{{with}}`.
    With {
        pipe: Pipeline,
        body: Vec<Node>,
        otherwise: Vec<Node>,
    },
}

/// Commands joined by `|`, with variables it declares.
#[derive(Clone, Debug, Default)]
pub struct Pipeline {
    /// `$x :=` or `$k, $v :=` names (without `$`).
    pub decl: Vec<String>,
    /// The commands, left to right.
    pub cmds: Vec<Vec<Arg>>,
}

/// One operand of a command.
#[derive(Clone, Debug)]
pub enum Arg {
    /// `.` followed by a field chain (possibly empty).
    Field(Vec<String>),
    /// `$name.A.B`.
    Var(String, Vec<String>),
    /// A function name.
    Func(String),
    /// A string literal.
    Str(String),
    /// A number literal.
    Num(String),
    /// `true` / `false`.
    Bool(bool),
    /// `nil`.
    Nil,
    /// `(pipeline).A.B`.
    Sub(Box<Pipeline>, Vec<String>),
}

/// Function names the engine knows (others are parse errors, as in Go).
pub const FUNCS: &[&str] = &[
    "json", "split", "join", "title", "lower", "upper", "pad", "truncate", "println", "print",
    "printf", "index", "len", "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "not", "slice",
];

/// Parses template source.
pub fn parse(src: &str) -> Result<Vec<Node>, String> {
    let pieces = lex::split(src)?;
    let mut p = Parser { pieces, pos: 0 };
    let (nodes, end) = p.list()?;
    match end {
        Stop::Eof => Ok(nodes),
        Stop::End(line) => Err(format!("template: :{line}: unexpected {{{{end}}}}")),
        Stop::Else(_, line) => Err(format!("template: :{line}: unexpected {{{{else}}}}")),
    }
}

enum Stop {
    Eof,
    End(usize),
    Else(Option<Pipeline>, usize),
}

struct Parser {
    pieces: Vec<Piece>,
    pos: usize,
}

impl Parser {
    fn list(&mut self) -> Result<(Vec<Node>, Stop), String> {
        let mut nodes = Vec::new();
        while self.pos < self.pieces.len() {
            let piece = self.pieces[self.pos].clone();
            self.pos += 1;
            match piece {
                Piece::Text(t) => nodes.push(Node::Text(t)),
                Piece::Action(a, line) => {
                    let toks = lex::tokens(&a).map_err(|e| format!("template: :{line}: {e}"))?;
                    let err = |e: String| format!("template: :{line}: {e}");
                    match toks.first() {
                        Some(Tok::Ident(k)) if k == "end" => return Ok((nodes, Stop::End(line))),
                        Some(Tok::Ident(k)) if k == "else" => {
                            let cond = if toks.len() > 1 {
                                match &toks[1] {
                                    Tok::Ident(k) if k == "if" => {
                                        Some(pipeline(&toks[2..]).map_err(err)?)
                                    }
                                    _ => return Err(err("unexpected token after else".into())),
                                }
                            } else {
                                None
                            };
                            return Ok((nodes, Stop::Else(cond, line)));
                        }
                        Some(Tok::Ident(k)) if k == "if" => {
                            let cond = pipeline(&toks[1..]).map_err(err)?;
                            nodes.push(self.if_node(cond, line)?);
                        }
                        Some(Tok::Ident(k)) if k == "range" || k == "with" => {
                            let pipe = pipeline(&toks[1..]).map_err(err)?;
                            let (body, end) = self.list()?;
                            let otherwise = match end {
                                Stop::End(_) => Vec::new(),
                                Stop::Else(None, _) => self.expect_end(line)?,
                                Stop::Else(Some(_), l) => {
                                    return Err(format!("template: :{l}: unexpected else if"));
                                }
                                Stop::Eof => return Err(err(format!("unexpected EOF in {k}"))),
                            };
                            nodes.push(if k == "range" {
                                Node::Range {
                                    pipe,
                                    body,
                                    otherwise,
                                }
                            } else {
                                Node::With {
                                    pipe,
                                    body,
                                    otherwise,
                                }
                            });
                        }
                        _ => nodes.push(Node::Print(pipeline(&toks).map_err(err)?)),
                    }
                }
            }
        }
        Ok((nodes, Stop::Eof))
    }

    fn if_node(&mut self, first: Pipeline, line: usize) -> Result<Node, String> {
        let mut branches = Vec::new();
        let mut cond = first;
        loop {
            let (body, end) = self.list()?;
            branches.push((cond, body));
            match end {
                Stop::End(_) => {
                    return Ok(Node::If {
                        branches,
                        otherwise: Vec::new(),
                    });
                }
                Stop::Else(None, _) => {
                    let otherwise = self.expect_end(line)?;
                    return Ok(Node::If {
                        branches,
                        otherwise,
                    });
                }
                Stop::Else(Some(next), _) => cond = next,
                Stop::Eof => return Err(format!("template: :{line}: unexpected EOF")),
            }
        }
    }

    fn expect_end(&mut self, line: usize) -> Result<Vec<Node>, String> {
        let (nodes, end) = self.list()?;
        match end {
            Stop::End(_) => Ok(nodes),
            _ => Err(format!("template: :{line}: expected end")),
        }
    }
}

/// Parses a pipeline from tokens.
fn pipeline(toks: &[Tok]) -> Result<Pipeline, String> {
    let mut decl = Vec::new();
    let mut rest = toks;
    if let Some(pos) = toks
        .iter()
        .position(|t| matches!(t, Tok::Declare | Tok::Assign))
    {
        for t in &toks[..pos] {
            match t {
                Tok::Var(name, chain) if chain.is_empty() => decl.push(name.clone()),
                Tok::Comma => {}
                _ => return Err("unexpected token in variable declaration".into()),
            }
        }
        rest = &toks[pos + 1..];
    }
    let (pipe, used) = commands(rest)?;
    if used != rest.len() {
        return Err("unexpected \")\" in command".into());
    }
    if pipe.is_empty() {
        return Err("missing value for command".into());
    }
    Ok(Pipeline { decl, cmds: pipe })
}

/// Parses commands until the end or an unmatched `)`; returns how many
/// tokens were used.
fn commands(toks: &[Tok]) -> Result<(Vec<Vec<Arg>>, usize), String> {
    let mut cmds = Vec::new();
    let mut cur = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Tok::Pipe => {
                if cur.is_empty() {
                    return Err("missing command".into());
                }
                cmds.push(std::mem::take(&mut cur));
            }
            Tok::RParen(_) => break,
            Tok::LParen => {
                let (inner, used) = commands(&toks[i + 1..])?;
                let close = i + 1 + used;
                let Some(Tok::RParen(chain)) = toks.get(close) else {
                    return Err("unclosed left paren".into());
                };
                if inner.is_empty() {
                    return Err("missing value for parenthesized pipeline".into());
                }
                cur.push(Arg::Sub(
                    Box::new(Pipeline {
                        decl: Vec::new(),
                        cmds: inner,
                    }),
                    chain.clone(),
                ));
                i = close;
            }
            Tok::Dot => cur.push(Arg::Field(Vec::new())),
            Tok::Field(f) => cur.push(Arg::Field(f.clone())),
            Tok::Var(n, f) => cur.push(Arg::Var(n.clone(), f.clone())),
            Tok::Str(s) => cur.push(Arg::Str(s.clone())),
            Tok::Num(n) => cur.push(Arg::Num(n.clone())),
            Tok::Ident(id) => cur.push(match id.as_str() {
                "true" => Arg::Bool(true),
                "false" => Arg::Bool(false),
                "nil" => Arg::Nil,
                f if FUNCS.contains(&f) => Arg::Func(f.to_string()),
                f => return Err(format!("function \"{f}\" not defined")),
            }),
            Tok::Comma | Tok::Declare | Tok::Assign => {
                return Err("unexpected token in operand".into());
            }
        }
        i += 1;
    }
    if !cur.is_empty() {
        cmds.push(cur);
    }
    Ok((cmds, i))
}

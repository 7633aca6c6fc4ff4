//! The template functions docker registers (`json`, `join`, `upper`, ...)
//! plus Go's builtins (`index`, `len`, `eq`, `and`, ...).

use std::cmp::Ordering;

use crate::value::{Obj, Val};

/// Calls function `name`. In header mode the docker header functions apply:
/// `json`, `split`, `join`, `title`, `lower`, `upper` and `truncate` return
/// their first argument unchanged.
pub fn call(name: &str, args: Vec<Val>, header: bool) -> Result<Val, String> {
    const HEADER_IDENTITY: &[&str] = &[
        "json", "split", "join", "title", "lower", "upper", "truncate",
    ];
    if header && HEADER_IDENTITY.contains(&name) {
        return Ok(args
            .into_iter()
            .next()
            .map(|v| Val::Str(v.display()))
            .unwrap_or(Val::Null));
    }
    let want = |n: usize| -> Result<(), String> {
        if args.len() == n {
            Ok(())
        } else {
            Err(format!(
                "wrong number of args for {name}: want {n} got {}",
                args.len()
            ))
        }
    };
    match name {
        "json" => {
            want(1)?;
            let escape = matches!(&args[0], Val::Map(Obj { context: true, .. }));
            Ok(Val::Str(args[0].to_json(escape)))
        }
        "split" => {
            want(2)?;
            let (s, sep) = (args[0].display(), args[1].display());
            let parts: Vec<Val> = if sep.is_empty() {
                s.chars().map(|c| Val::Str(c.to_string())).collect()
            } else {
                s.split(sep.as_str())
                    .map(|p| Val::Str(p.to_string()))
                    .collect()
            };
            Ok(Val::List(parts))
        }
        "join" => {
            want(2)?;
            let sep = args[1].display();
            match &args[0] {
                Val::List(items) => Ok(Val::Str(
                    items
                        .iter()
                        .map(Val::display)
                        .collect::<Vec<_>>()
                        .join(&sep),
                )),
                Val::Null => Ok(Val::Str(String::new())),
                other => Err(format!(
                    "wrong type for value; expected []string; got {}",
                    kind(other)
                )),
            }
        }
        "title" => {
            want(1)?;
            Ok(Val::Str(title(&args[0].display())))
        }
        "lower" => {
            want(1)?;
            Ok(Val::Str(args[0].display().to_lowercase()))
        }
        "upper" => {
            want(1)?;
            Ok(Val::Str(args[0].display().to_uppercase()))
        }
        "pad" => {
            want(3)?;
            let s = args[0].display();
            if s.is_empty() {
                return Ok(Val::Str(s));
            }
            let (pre, post) = (int_arg(&args[1])?, int_arg(&args[2])?);
            Ok(Val::Str(format!(
                "{}{s}{}",
                " ".repeat(pre.max(0) as usize),
                " ".repeat(post.max(0) as usize)
            )))
        }
        "truncate" => {
            want(2)?;
            let s = args[0].display();
            let n = int_arg(&args[1])?.max(0) as usize;
            Ok(Val::Str(if s.len() < n {
                s
            } else {
                s.get(..n).unwrap_or(&s).to_string()
            }))
        }
        "print" => Ok(Val::Str(go_print(&args, false))),
        "println" => Ok(Val::Str(go_print(&args, true))),
        "printf" => {
            let (fmt, rest) = args
                .split_first()
                .ok_or("wrong number of args for printf")?;
            Ok(Val::Str(printf(&fmt.display(), rest)))
        }
        "index" => {
            let (first, keys) = args.split_first().ok_or("wrong number of args for index")?;
            let mut cur = first.clone();
            for k in keys {
                cur = match (&cur, k) {
                    (Val::Map(m), k) => m
                        .get(&k.display())
                        .cloned()
                        .unwrap_or(Val::Str(String::new())),
                    (Val::List(l), Val::Num(n)) => {
                        let i: usize = n
                            .parse()
                            .map_err(|_| format!("cannot index slice/array with {n}"))?;
                        l.get(i).cloned().ok_or_else(|| {
                            format!("error calling index: index out of range: {i}")
                        })?
                    }
                    (Val::Null, _) => {
                        return Err("error calling index: index of untyped nil".into());
                    }
                    (other, _) => return Err(format!("can't index item of type {}", kind(other))),
                };
            }
            Ok(cur)
        }
        "slice" => {
            let (first, idx) = args.split_first().ok_or("wrong number of args for slice")?;
            let nums: Vec<usize> = idx
                .iter()
                .map(|v| int_arg(v).map(|n| n.max(0) as usize))
                .collect::<Result<_, _>>()?;
            match first {
                Val::Str(s) => {
                    let a = nums.first().copied().unwrap_or(0);
                    let b = nums.get(1).copied().unwrap_or(s.len());
                    s.get(a..b)
                        .map(|x| Val::Str(x.to_string()))
                        .ok_or_else(|| "error calling slice: index out of range".into())
                }
                Val::List(l) => {
                    let a = nums.first().copied().unwrap_or(0);
                    let b = nums.get(1).copied().unwrap_or(l.len());
                    l.get(a..b)
                        .map(|x| Val::List(x.to_vec()))
                        .ok_or_else(|| "error calling slice: index out of range".into())
                }
                other => Err(format!("can't slice item of type {}", kind(other))),
            }
        }
        "len" => {
            want(1)?;
            let n = match &args[0] {
                Val::Str(s) => s.len(),
                Val::List(l) => l.len(),
                Val::Map(m) => m.entries.len(),
                other => return Err(format!("error calling len: len of type {}", kind(other))),
            };
            Ok(Val::Num(n.to_string()))
        }
        "not" => {
            want(1)?;
            Ok(Val::Bool(!args[0].truthy()))
        }
        "and" => Ok(args
            .iter()
            .find(|v| !v.truthy())
            .or(args.last())
            .cloned()
            .unwrap_or(Val::Null)),
        "or" => Ok(args
            .iter()
            .find(|v| v.truthy())
            .or(args.last())
            .cloned()
            .unwrap_or(Val::Null)),
        "eq" => {
            let (first, rest) = args
                .split_first()
                .ok_or("missing argument for comparison")?;
            if rest.is_empty() {
                return Err("missing argument for comparison".into());
            }
            Ok(Val::Bool(
                rest.iter()
                    .any(|o| compare(first, o) == Some(Ordering::Equal)),
            ))
        }
        "ne" | "lt" | "le" | "gt" | "ge" => {
            want(2)?;
            let ord = compare(&args[0], &args[1]).ok_or("incompatible types for comparison")?;
            Ok(Val::Bool(match name {
                "ne" => ord != Ordering::Equal,
                "lt" => ord == Ordering::Less,
                "le" => ord != Ordering::Greater,
                "gt" => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            }))
        }
        other => Err(format!("function \"{other}\" not defined")),
    }
}

fn kind(v: &Val) -> &'static str {
    match v {
        Val::Null => "nil",
        Val::Bool(_) => "bool",
        Val::Num(_) => "number",
        Val::Str(_) => "string",
        Val::List(_) => "slice",
        Val::Map(_) => "map",
    }
}

fn int_arg(v: &Val) -> Result<i64, String> {
    match v {
        Val::Num(n) => n
            .parse()
            .map_err(|_| format!("expected integer; found {n}")),
        other => Err(format!("expected integer; found {}", other.display())),
    }
}

/// Orders two values of compatible kinds.
fn compare(a: &Val, b: &Val) -> Option<Ordering> {
    match (a, b) {
        (Val::Num(x), Val::Num(y)) => x.parse::<f64>().ok()?.partial_cmp(&y.parse::<f64>().ok()?),
        (Val::Str(x), Val::Str(y)) => Some(x.cmp(y)),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        (Val::Null, Val::Null) => Some(Ordering::Equal),
        _ => None,
    }
}

/// Go's `strings.Title`: upper-cases the first letter of each word.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_letter = false;
    for c in s.chars() {
        if !prev_letter && c.is_alphanumeric() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_letter = c.is_alphanumeric() || c == '_' || c == '\'';
    }
    out
}

/// `fmt.Sprint` / `fmt.Sprintln`.
fn go_print(args: &[Val], ln: bool) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        let is_str = matches!(a, Val::Str(_));
        let prev_str = i > 0 && matches!(args[i - 1], Val::Str(_));
        if i > 0 && (ln || (!is_str && !prev_str)) {
            out.push(' ');
        }
        out.push_str(&a.display());
    }
    if ln {
        out.push('\n');
    }
    out
}

/// A small `fmt.Sprintf`: `%s %v %d %q %t %%`.
fn printf(fmt: &str, args: &[Val]) -> String {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('q') => out.push_str(
                &args
                    .next()
                    .map(|a| Val::Str(a.display()).to_json(false))
                    .unwrap_or_default(),
            ),
            Some(verb) => match args.next() {
                Some(a) => out.push_str(&a.display()),
                None => out.push_str(&format!("%!{verb}(MISSING)")),
            },
            None => out.push_str("%!(NOVERB)"),
        }
    }
    out
}

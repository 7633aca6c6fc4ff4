//! Splits a template into text and actions, and an action into tokens.

/// A piece of the template source.
#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    /// Literal text (already trimmed by `{{-` / `-}}` markers).
    Text(String),
    /// The inside of `{{ ... }}`, with the line it starts on.
    Action(String, usize),
}

/// A token inside an action.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// `.` alone.
    Dot,
    /// `.A.B` (names without dots).
    Field(Vec<String>),
    /// `$name` followed by an optional field chain; `$` alone is `""`.
    Var(String, Vec<String>),
    /// A bare identifier (function or keyword).
    Ident(String),
    /// A quoted or raw string literal.
    Str(String),
    /// A number literal as written.
    Num(String),
    /// `(`
    LParen,
    /// `)`, with a field chain directly attached (`(...).Name`).
    RParen(Vec<String>),
    /// `|`
    Pipe,
    /// `,`
    Comma,
    /// `:=`
    Declare,
    /// `=`
    Assign,
}

/// Splits source text into pieces, applying trim markers.
pub fn split(src: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut rest = src;
    let mut line = 1usize;
    while let Some(start) = rest.find("{{") {
        let mut text = rest[..start].to_string();
        let after = &rest[start + 2..];
        let trim_left =
            after.starts_with("- ") || after.starts_with("-\t") || after.starts_with("-\n");
        if trim_left {
            text = text.trim_end().to_string();
        }
        line += rest[..start].matches('\n').count();
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        let body_start = if trim_left { 2 } else { 0 };
        let body_src = &after[body_start..];
        let end =
            find_close(body_src).ok_or_else(|| format!("template: :{line}: unclosed action"))?;
        let mut body = &body_src[..end];
        let mut trim_right = false;
        if body.ends_with(" -") || body.ends_with("\t-") || body.ends_with("\n-") {
            trim_right = true;
            body = &body[..body.len() - 1];
        }
        let body_line = line;
        line += body.matches('\n').count();
        let trimmed = body.trim();
        if !(trimmed.starts_with("/*") && trimmed.ends_with("*/")) {
            pieces.push(Piece::Action(trimmed.to_string(), body_line));
        }
        rest = &body_src[end + 2..];
        if trim_right {
            let kept = rest.trim_start();
            line += rest[..rest.len() - kept.len()].matches('\n').count();
            rest = kept;
        }
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_string()));
    }
    Ok(pieces)
}

/// Finds the `}}` closing an action, skipping string literals.
fn find_close(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'`' => {
                i += 1;
                while i < b.len() && b[i] != b'`' {
                    i += 1;
                }
            }
            b'}' if b.get(i + 1) == Some(&b'}') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Reads `.A.B.C` starting at a `.`; returns the names and the new index.
fn field_chain(chars: &[char], mut i: usize) -> (Vec<String>, usize) {
    let mut names = Vec::new();
    while i < chars.len() && chars[i] == '.' && chars.get(i + 1).is_some_and(|c| is_ident_char(*c))
    {
        i += 1;
        let start = i;
        while i < chars.len() && is_ident_char(chars[i]) {
            i += 1;
        }
        names.push(chars[start..i].iter().collect());
    }
    (names, i)
}

/// Tokenizes the inside of an action.
pub fn tokens(src: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                let (names, j) = field_chain(&chars, i + 1);
                out.push(Tok::RParen(names));
                i = j;
            }
            '|' => {
                out.push(Tok::Pipe);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            ':' if chars.get(i + 1) == Some(&'=') => {
                out.push(Tok::Declare);
                i += 2;
            }
            '=' => {
                out.push(Tok::Assign);
                i += 1;
            }
            '.' => {
                let (names, j) = field_chain(&chars, i);
                if names.is_empty() {
                    if chars.get(i + 1).is_some_and(|c| c.is_ascii_digit()) {
                        let (num, j) = number(&chars, i);
                        out.push(Tok::Num(num));
                        i = j;
                        continue;
                    }
                    out.push(Tok::Dot);
                    i += 1;
                } else {
                    out.push(Tok::Field(names));
                    i = j;
                }
            }
            '$' => {
                let start = i + 1;
                let mut j = start;
                while j < chars.len() && is_ident_char(chars[j]) {
                    j += 1;
                }
                let name: String = chars[start..j].iter().collect();
                let (names, k) = field_chain(&chars, j);
                out.push(Tok::Var(name, names));
                i = k;
            }
            '"' => {
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    let Some(&ch) = chars.get(j) else {
                        return Err("unterminated quoted string".into());
                    };
                    match ch {
                        '"' => break,
                        '\\' => {
                            let esc = chars
                                .get(j + 1)
                                .copied()
                                .ok_or("unterminated quoted string")?;
                            s.push(match esc {
                                'n' => '\n',
                                't' => '\t',
                                'r' => '\r',
                                '0' => '\0',
                                other => other,
                            });
                            j += 2;
                        }
                        ch => {
                            s.push(ch);
                            j += 1;
                        }
                    }
                }
                out.push(Tok::Str(s));
                i = j + 1;
            }
            '`' => {
                let mut j = i + 1;
                while j < chars.len() && chars[j] != '`' {
                    j += 1;
                }
                if j >= chars.len() {
                    return Err("unterminated raw quoted string".into());
                }
                out.push(Tok::Str(chars[i + 1..j].iter().collect()));
                i = j + 1;
            }
            c if c.is_ascii_digit()
                || ((c == '-' || c == '+')
                    && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let (num, j) = number(&chars, i);
                out.push(Tok::Num(num));
                i = j;
            }
            c if is_ident_char(c) => {
                let start = i;
                while i < chars.len() && is_ident_char(chars[i]) {
                    i += 1;
                }
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected {other:?} in command")),
        }
    }
    Ok(out)
}

fn number(chars: &[char], mut i: usize) -> (String, usize) {
    let start = i;
    if chars[i] == '-' || chars[i] == '+' {
        i += 1;
    }
    while i < chars.len()
        && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '_')
    {
        i += 1;
    }
    (chars[start..i].iter().collect(), i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_markers() {
        let p = split("a  {{- .X -}}  b\n{{ .Y }}").expect("split");
        assert_eq!(
            p,
            vec![
                Piece::Text("a".into()),
                Piece::Action(".X".into(), 1),
                Piece::Text("b\n".into()),
                Piece::Action(".Y".into(), 2)
            ]
        );
    }

    #[test]
    fn tokenizes_actions() {
        let t = tokens(r#"index .Spec.Labels "k" | upper"#).expect("tokens");
        assert_eq!(
            t,
            vec![
                Tok::Ident("index".into()),
                Tok::Field(vec!["Spec".into(), "Labels".into()]),
                Tok::Str("k".into()),
                Tok::Pipe,
                Tok::Ident("upper".into())
            ]
        );
        let t = tokens("range $k, $v := .Labels").expect("tokens");
        assert_eq!(t[1], Tok::Var("k".into(), vec![]));
        assert_eq!(t[4], Tok::Declare);
        assert_eq!(tokens("gt .X 0.0").expect("t")[2], Tok::Num("0.0".into()));
    }
}

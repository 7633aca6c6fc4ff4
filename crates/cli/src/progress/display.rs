//! Renders progress messages the way docker's `jsonmessage` display does:
//! on a terminal every ID owns a line that is redrawn in place (ANSI
//! cursor up/down, erase line); elsewhere a line is printed when the text
//! for its ID changes.

use std::collections::HashMap;
use std::io::Write;

/// One progress message (docker's `progress.Progress`).
#[derive(Clone, Debug, PartialEq)]
pub struct Msg {
    /// The line's ID (`overall progress`, `1/3`, `verify`); empty for
    /// plain messages.
    pub id: String,
    /// The text.
    pub action: String,
    /// `(current, total)` of a bar (counts hidden).
    pub bar: Option<(i64, i64)>,
    /// A plain message (`progress.Message`): not an ID line.
    pub plain: bool,
}

impl Msg {
    /// `progress.Update(out, id, action)`.
    pub fn update(id: impl Into<String>, action: impl Into<String>) -> Msg {
        Msg {
            id: id.into(),
            action: action.into(),
            bar: None,
            plain: false,
        }
    }

    /// An update with a bar at `current` of `total`.
    pub fn bar(id: impl Into<String>, action: impl Into<String>, current: i64, total: i64) -> Msg {
        Msg {
            id: id.into(),
            action: action.into(),
            bar: Some((current, total)),
            plain: false,
        }
    }

    /// `progress.Message(out, "", text)`.
    pub fn plain(text: impl Into<String>) -> Msg {
        Msg {
            id: String::new(),
            action: text.into(),
            bar: None,
            plain: true,
        }
    }
}

/// The bar text of `JSONProgress.String()` with hidden counts: empty
/// without progress or on terminals 110 columns or narrower.
pub fn bar_text(current: i64, total: i64, width: usize) -> String {
    if total <= 0 {
        return String::new();
    }
    let pct = ((current as f64 / total as f64 * 100.0) as i64 / 2).clamp(0, 50) as usize;
    if width > 110 {
        format!("[{}>{}] ", "=".repeat(pct), " ".repeat(50 - pct))
    } else {
        String::new()
    }
}

/// The display state.
pub struct Display {
    tty: bool,
    width: usize,
    ids: HashMap<String, usize>,
    last: HashMap<String, String>,
}

impl Display {
    /// A display for a terminal (`tty`) of `width` columns, or a plain stream.
    pub fn new(tty: bool, width: usize) -> Display {
        Display {
            tty,
            width,
            ids: HashMap::new(),
            last: HashMap::new(),
        }
    }

    /// Shows one message.
    pub fn show(&mut self, m: &Msg, out: &mut dyn Write) -> std::io::Result<()> {
        if self.tty {
            self.show_tty(m, out)
        } else {
            self.show_plain(m, out)
        }?;
        out.flush()
    }

    fn show_tty(&mut self, m: &Msg, out: &mut dyn Write) -> std::io::Result<()> {
        let tracked = !m.id.is_empty() && !m.plain;
        let mut diff = 0;
        if tracked {
            let line = match self.ids.get(&m.id) {
                Some(l) => *l,
                None => {
                    let l = self.ids.len();
                    self.ids.insert(m.id.clone(), l);
                    out.write_all(b"\n")?;
                    l
                }
            };
            diff = self.ids.len() - line;
            write!(out, "\x1b[{diff}A")?;
        } else {
            self.ids.clear();
        }
        if m.plain {
            if !m.id.is_empty() {
                write!(out, "{}: ", m.id)?;
            }
            writeln!(out, "{}", m.action)?;
        } else {
            out.write_all(b"\x1b[2K\r")?;
            if !m.id.is_empty() {
                write!(out, "{}: ", m.id)?;
            }
            let (cur, total) = m.bar.unwrap_or((0, 0));
            write!(out, "{} {}\r", m.action, bar_text(cur, total, self.width))?;
        }
        if !m.id.is_empty() && diff > 0 {
            write!(out, "\x1b[{diff}B")?;
        }
        Ok(())
    }

    fn show_plain(&mut self, m: &Msg, out: &mut dyn Write) -> std::io::Result<()> {
        let mut line = String::new();
        if !m.id.is_empty() {
            line.push_str(&m.id);
            line.push_str(": ");
        }
        line.push_str(&m.action);
        if let Some((cur, total)) = m.bar {
            line.push(' ');
            line.push_str(&bar_text(cur, total, self.width));
        }
        let line = line.trim_end().to_string();
        if !m.plain && !m.id.is_empty() {
            if self.last.get(&m.id) == Some(&line) {
                return Ok(());
            }
            self.last.insert(m.id.clone(), line.clone());
        }
        writeln!(out, "{line}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars() {
        assert_eq!(bar_text(9, 9, 200), format!("[{}>] ", "=".repeat(50)));
        assert_eq!(bar_text(0, 0, 200), "");
        assert_eq!(bar_text(9, 9, 80), "");
        assert_eq!(
            bar_text(3, 9, 200),
            format!("[{}>{}] ", "=".repeat(16), " ".repeat(34))
        );
    }

    #[test]
    fn tty_redraws_in_place() {
        let mut d = Display::new(true, 200);
        let mut out = Vec::new();
        d.show(
            &Msg::update("overall progress", "0 out of 1 tasks"),
            &mut out,
        )
        .expect("show");
        d.show(&Msg::update("1/1", " "), &mut out).expect("show");
        d.show(&Msg::bar("1/1", "running  ", 9, 9), &mut out)
            .expect("show");
        let s = String::from_utf8(out).expect("utf8");
        assert_eq!(
            s,
            format!(
                "\n\x1b[1A\x1b[2K\roverall progress: 0 out of 1 tasks \r\x1b[1B\n\x1b[1A\x1b[2K\r1/1:   \r\x1b[1B\x1b[1A\x1b[2K\r1/1: running   [{}>] \r\x1b[1B",
                "=".repeat(50)
            )
        );
    }

    #[test]
    fn plain_prints_changes_only() {
        let mut d = Display::new(false, 200);
        let mut out = Vec::new();
        for m in [
            Msg::update("overall progress", "0 out of 1 tasks"),
            Msg::update("1/1", " "),
            Msg::update("overall progress", "0 out of 1 tasks"),
            Msg::bar("1/1", "running  ", 9, 9),
            Msg::update("overall progress", "1 out of 1 tasks"),
            Msg::plain("job complete"),
        ] {
            d.show(&m, &mut out).expect("show");
        }
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            format!(
                "overall progress: 0 out of 1 tasks\n1/1:\n1/1: running   [{}>]\noverall progress: 1 out of 1 tasks\njob complete\n",
                "=".repeat(50)
            )
        );
    }
}

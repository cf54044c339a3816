//! Puts the problems the rules find (`validate`, which knows only field paths) and the
//! parser's syntax errors in their places in the file, in words that say how to fix
//! them, and drops what another problem already says.

use super::check::Checked;
use super::diagnostic::{Diagnostic, DiagnosticKind};
use super::tree::{Node, SyntaxError};
use super::validate::{Problem, ProblemKind};

pub use super::diagnostic::sort;

/// What a validation problem is placed against.
pub struct Context<'a> {
    pub text: &'a str,
    pub root: &'a Node,
    pub checked: &'a Checked,
    pub syntax: &'a [SyntaxError],
}

/// `a` is `b` or one holds the other (`timeline.detected` and `timeline.detected.at`).
fn related(a: &str, b: &str) -> bool {
    a == b || a.starts_with(&format!("{b}.")) || b.starts_with(&format!("{a}."))
}

impl Context<'_> {
    /// The problem in its place, or `None` when another problem already covers it.
    pub fn diagnostic(&self, p: &Problem) -> Option<Diagnostic> {
        if self.checked.refused.iter().any(|r| related(r, &p.path)) || self.on_broken_line(&p.path) {
            return None;
        }
        match p.kind {
            ProblemKind::Missing { or } => {
                let holders = std::iter::once(p.path.as_str()).chain(or.iter().copied());
                let placeholder = self
                    .checked
                    .placeholders
                    .iter()
                    .filter(|(path, _)| holders.clone().any(|h| path == h || path.starts_with(&format!("{h}."))))
                    .map(|(_, at)| *at)
                    .min();
                match placeholder {
                    Some(at) => {
                        Some(Diagnostic::new(Some(at), &p.path, DiagnosticKind::Unfilled, format!("not filled in yet: {}", p.expected)))
                    }
                    None => Some(Diagnostic::new(place(self.root, &p.path), &p.path, DiagnosticKind::Missing, &p.expected)),
                }
            }
            ProblemKind::Invalid => Some(Diagnostic::new(place(self.root, &p.path), &p.path, DiagnosticKind::Invalid, &p.expected)),
        }
    }

    /// A field whose line (or whose section's header) the parser could not read is
    /// reported there, not again as missing.
    fn on_broken_line(&self, path: &str) -> bool {
        let key = path.rsplit('.').next().unwrap_or(path);
        self.syntax.iter().any(|e| {
            let line = line_at(self.text, e.at).trim_start();
            if let Some(header) = line.strip_prefix('[') {
                let name: String = header.trim_start_matches('[').chars().take_while(|c| !matches!(c, ']' | ' ' | '\t')).collect();
                return !name.is_empty() && related(&name, path);
            }
            let written: String = line.chars().take_while(|c| c.is_alphanumeric() || matches!(c, '-' | '_')).collect();
            !written.is_empty() && written == key
        })
    }
}

/// Where a field is, or else where its nearest enclosing section is written.
pub fn place(root: &Node, path: &str) -> Option<usize> {
    let mut p = path;
    loop {
        if let Some((key_at, value_at)) = root.position(p) {
            // A value that is there but wrong is pointed at; a missing one at its section.
            return Some(if p == path { value_at.max(key_at) } else { key_at });
        }
        p = p.rsplit_once('.')?.0;
    }
}

fn line_at(text: &str, at: usize) -> &str {
    let at = at.min(text.len());
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    &text[start..end]
}

/// The parser's words, and how people usually get there.
pub fn syntax_message(text: &str, e: &SyntaxError, json: bool) -> String {
    let format = if json { "JSON" } else { "TOML" };
    let line = line_at(text, e.at);
    let value = line.split_once('=').map(|(_, v)| v.trim()).unwrap_or("");
    let hint = if line.contains(['“', '”', '„', '‘', '’']) {
        Some("the line has typographic quotes (“ ” ‘ ’), as word processors type them; use straight quotes (\")".to_string())
    } else if !json && value.starts_with('"') && value.contains('\\') {
        Some("a backslash starts an escape inside \"…\"; for a Windows path use single quotes ('C:\\Temp') or write \\\\".to_string())
    } else if !json && value.starts_with('"') && !value.starts_with("\"\"\"") && value.matches('"').count() % 2 == 1 {
        Some("the text's closing quote is missing; text running over several lines goes in \"\"\"triple quotes\"\"\"".to_string())
    } else if !json
        && !value.is_empty()
        && !value.starts_with(['"', '\'', '[', '{', '+', '-', '#'])
        && !value.starts_with(|c: char| c.is_ascii_digit())
        && !matches!(value, "true" | "false")
    {
        let key = line.split('=').next().unwrap_or("").trim();
        Some(format!("text goes in quotes: {key} = \"{value}\""))
    } else {
        None
    };
    let message = e.message.replace('\n', "; ");
    match hint {
        Some(h) => format!("not valid {format} ({message}): {h}"),
        None => format!("not valid {format}: {message}"),
    }
}

//! What reaches the terminal: text or `--json` on stdout, errors on stderr.
//!
//! Anything that may carry untrusted text (input files, error chains from libraries)
//! goes through [`sanitize`] first, so it cannot move the cursor or rewrite the screen.

use std::io::Write;

/// Replaces control characters (other than newline and tab) with `\u{…}` escapes,
/// so escape sequences in untrusted text are shown, not executed.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if (c.is_control() && c != '\n' && c != '\t') || is_bidi_override(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Bidirectional overrides can make text read differently from what it is.
fn is_bidi_override(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Prints a line of human-readable text on stdout.
pub fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    // A closed stdout (e.g. `| head`) is not an error worth a panic.
    let _ = writeln!(out, "{}", sanitize(text));
}

/// Prints a warning on stderr.
pub fn warn(text: &str) {
    eprintln!("certmail: warning: {}", sanitize(text));
}

/// Prints an error on stderr.
pub fn error(text: &str) {
    eprintln!("certmail: error: {}", sanitize(text));
}

/// Prints one JSON value on stdout, on one line.
pub fn json(value: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls_but_keeps_newlines() {
        assert_eq!(sanitize("a\x1b[2Jb\nc\td"), "a\\u{1b}[2Jb\nc\td");
        assert_eq!(sanitize("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(sanitize("Sikkerhedshændelse"), "Sikkerhedshændelse");
    }
}

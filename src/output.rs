//! What reaches the terminal: text or `--json` on stdout, errors on stderr.
//!
//! Anything that may carry untrusted text (input files, error chains from libraries)
//! goes through [`sanitize`] first, so it cannot move the cursor or rewrite the screen.

use std::io::Write;
use std::time::{Duration, Instant};

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

/// Untrusted text that must stay on one line (a subject, a file name, an address):
/// line ends and tabs become spaces, so it cannot start a line that looks like
/// certmail's own (a forged "signed by" banner).
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if matches!(c, '\n' | '\r' | '\t' | '\u{b}' | '\u{c}' | '\u{85}' | '\u{2028}' | '\u{2029}') { ' ' } else { c })
        .collect()
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

/// Prints a line of progress for the person watching, on stderr (stdout is the
/// command's result, text or JSON, and stays as it was).
pub fn note(text: &str) {
    eprintln!("certmail: {}", sanitize(text));
}

/// Prints a warning on stderr.
pub fn warn(text: &str) {
    eprintln!("certmail: warning: {}", sanitize(text));
}

/// Prints an error on stderr.
pub fn error(text: &str) {
    eprintln!("certmail: error: {}", sanitize(text));
}

/// Says why a command failed: on stderr always, and under --json as one object on
/// stdout too (see [`crate::exit::Failure::to_json`]), so a script needs only stdout.
pub fn failure(failure: &crate::exit::Failure, as_json: bool) {
    error(&failure.message);
    if as_json {
        json(&failure.to_json());
    }
}

/// Under --json, a command line that did not parse (exit 2) as one `usage` error
/// object; clap has printed its own words on stderr already.
pub fn usage_error(refusal: &crate::cli::Refusal) {
    let mut failure = crate::exit::Failure::new(crate::exit::FailureKind::Usage, refusal.text.clone());
    if let Some(arg) = &refusal.arg {
        failure = failure.with_field(arg.clone());
    }
    let mut value = failure.to_json();
    if let Some(meant) = &refusal.did_you_mean {
        value["error"]["did_you_mean"] = meant.clone().into();
    }
    json(&value);
}

/// Prints one JSON value on stdout, on one line.
pub fn json(value: &serde_json::Value) {
    json_text(&value.to_string());
}

/// Prints JSON already serialized (from a type whose keys are in the order a
/// [`serde_json::Value`] prints them), escaped as [`json`] escapes.
pub fn json_text(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", escape_json_text(text));
}

/// The same JSON with every object key in snake_case (`next-attempt` →
/// `next_attempt`). Event details keep the kebab-case keys they were recorded with
/// (they are in the hash chain and cannot change); what scripts read has one style.
pub fn snake_case_keys(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            serde_json::Value::Object(map.iter().map(|(k, v)| (k.replace('-', "_"), snake_case_keys(v))).collect())
        }
        serde_json::Value::Array(items) => serde_json::Value::Array(items.iter().map(snake_case_keys).collect()),
        other => other.clone(),
    }
}

/// serde_json escapes C0 controls only: C1 controls, bidi overrides and line
/// separators are escaped too, so a terminal or a viewer showing the JSON of a
/// hostile reply shows them as text. Valid JSON in, the same JSON value out.
pub fn escape_json_text(json: &str) -> std::borrow::Cow<'_, str> {
    // Every character escaped here starts with one of these two bytes in UTF-8
    // (U+0080–U+009F with 0xC2, the others at U+200E–U+2069 with 0xE2): JSON
    // without them, most of it, is passed on as it is, found by one vectorised search.
    if crate::bytes::find_either(json.as_bytes(), 0xC2, 0xE2).is_none() {
        return std::borrow::Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if ('\u{80}'..='\u{9f}').contains(&c) || is_bidi_override(c) || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}') {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A progress bar on stderr for long runs, drawn at most ten times a second. Other
/// output first calls [`Progress::clear`], so lines scroll above the bar.
pub struct Progress {
    label: &'static str,
    total: usize,
    done: usize,
    enabled: bool,
    start: Instant,
    last_draw: Option<Instant>,
    drawn: bool,
}

impl Progress {
    /// A bar that draws nothing unless `enabled` (stderr is a terminal and the run long).
    pub fn new(label: &'static str, total: usize, enabled: bool) -> Progress {
        Progress { label, total, done: 0, enabled, start: Instant::now(), last_draw: None, drawn: false }
    }

    pub fn advance(&mut self) {
        self.done += 1;
        if self.enabled && self.last_draw.is_none_or(|t| t.elapsed() >= Duration::from_millis(100)) {
            self.last_draw = Some(Instant::now());
            self.drawn = true;
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{}\x1b[K", render_bar(self.label, self.done, self.total, self.start.elapsed()));
            let _ = err.flush();
        }
    }

    /// Erases the bar (if shown) so other output starts on a clean line.
    pub fn clear(&mut self) {
        if std::mem::take(&mut self.drawn) {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }

    /// Leaves a last line: how many, how long, how fast.
    pub fn finish(mut self) {
        if self.enabled {
            self.clear();
            let seconds = self.start.elapsed().as_secs_f64();
            eprintln!("{} {} messages in {seconds:.1} s ({:.0}/s)", self.label, self.done, self.done as f64 / seconds.max(1e-3));
        }
    }
}

/// One line of a progress bar: `ingested [#####.....]  52%  5200/10000  6950/s  1 s left`.
pub fn render_bar(label: &str, done: usize, total: usize, elapsed: Duration) -> String {
    const WIDTH: usize = 30;
    let fraction = if total == 0 { 1.0 } else { (done as f64 / total as f64).min(1.0) };
    let filled = (fraction * WIDTH as f64).round() as usize;
    let rate = done as f64 / elapsed.as_secs_f64().max(1e-3);
    let left = if rate > 0.0 { format!("{:.0} s left", (total.saturating_sub(done)) as f64 / rate) } else { "…".to_string() };
    format!(
        "{label} [{}{}] {:>3.0}%  {done}/{total}  {rate:.0}/s  {left}",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        fraction * 100.0
    )
}

/// Whether a typed answer says yes, in Danish or English ("ja", "j", "yes", "y"):
/// every question certmail asks on a terminal reads its answer so.
pub fn is_yes(typed: &str) -> bool {
    matches!(typed.trim().to_lowercase().as_str(), "ja" | "j" | "yes" | "y")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_progress_bar_shows_share_count_rate_and_time_left() {
        let line = render_bar("ingested", 5200, 10000, Duration::from_secs(1));
        assert_eq!(line, "ingested [################..............]  52%  5200/10000  5200/s  1 s left");
        assert!(render_bar("ingested", 0, 0, Duration::ZERO).contains("[##############################] 100%"));
        assert!(render_bar("ingested", 12, 10, Duration::from_secs(1)).contains("100%  12/10"));
    }

    #[test]
    fn keys_become_snake_case_at_every_depth_and_values_stay() {
        let v = serde_json::json!({ "after-interruption": true, "a": [{ "next-attempt": "x-y" }] });
        assert_eq!(snake_case_keys(&v), serde_json::json!({ "after_interruption": true, "a": [{ "next_attempt": "x-y" }] }));
    }

    #[test]
    fn json_escapes_c1_bidi_and_line_separators_and_passes_the_rest_on() {
        let value = serde_json::json!({ "s": "a\u{85}b\u{202e}c\u{2028}d\u{200f}e\u{2066}f æ ø å — “x” \u{9f}" });
        let escaped = escape_json_text(&value.to_string()).into_owned();
        assert_eq!(escaped, r#"{"s":"a\u0085b\u202ec\u2028d\u200fe\u2066f æ ø å — “x” \u009f"}"#);
        assert_eq!(serde_json::from_str::<serde_json::Value>(&escaped).unwrap(), value, "the same value");
        // Every character that starts with 0xC2 or 0xE2 and is not escaped goes through unchanged.
        let plain = r#"{"s":"Sikkerhedshændelse ©§ € ‘’"}"#;
        assert_eq!(escape_json_text(plain), plain);
        assert!(matches!(escape_json_text(r#"{"s":"ascii only, ærø"}"#), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn escapes_terminal_controls_but_keeps_newlines() {
        assert_eq!(sanitize("a\x1b[2Jb\nc\td"), "a\\u{1b}[2Jb\nc\td");
        assert_eq!(sanitize("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(sanitize("Sikkerhedshændelse"), "Sikkerhedshændelse");
    }
}

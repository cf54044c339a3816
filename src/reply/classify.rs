//! What a CERT's reply says: acknowledgement, question, closure, or another reply;
//! the incident references and the CERT's own case number in it. Quoted lines (">")
//! are the reporter's own words coming back and are not read. Pure.

use std::sync::OnceLock;

use regex::Regex;

/// The kinds of received message ingest records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Ack,
    Question,
    Closed,
    Reply,
    AutoReply,
    Bounce,
    Unrelated,
    Malformed,
}

impl Kind {
    pub fn key(self) -> &'static str {
        match self {
            Kind::Ack => "ack",
            Kind::Question => "question",
            Kind::Closed => "closed",
            Kind::Reply => "reply",
            Kind::AutoReply => "auto-reply",
            Kind::Bounce => "bounce",
            Kind::Unrelated => "unrelated",
            Kind::Malformed => "malformed",
        }
    }
}

const CLOSED: &[&str] = &[
    "sagen er lukket",
    "lukker sagen",
    "sagen lukkes",
    "case closed",
    "case is closed",
    "closing this case",
    "closing the case",
    "considered closed",
    "betragtes som lukket",
];
const QUESTION: &[&str] = &[
    "kan i oplyse",
    "kan du oplyse",
    "oplys venligst",
    "venligst oplys",
    "vi har brug for",
    "please provide",
    "please send",
    "could you",
    "can you provide",
    "please confirm",
];
const ACK: &[&str] = &[
    "modtaget",
    "bekræfter modtagelse",
    "kvittering for",
    "tak for jeres underretning",
    "tak for underretningen",
    "acknowledge",
    "we have received",
    "received your",
    "thank you for your report",
    "thank you for the notification",
];

/// How much of a reply's own words is read: what a CERT says comes first, and this
/// bounds the time a huge message can take.
const CLASSIFY_BYTES: usize = 16 * 1024;

/// One case-insensitive pass per list of phrases.
fn phrases(words: &[&str]) -> Regex {
    let alternatives: Vec<String> = words.iter().map(|w| regex::escape(w)).collect();
    Regex::new(&format!("(?i){}", alternatives.join("|"))).unwrap_or_else(|_| Regex::new("$^").unwrap())
}

/// Classifies a human reply by its own (unquoted) words.
pub fn classify_text(text: &str) -> Kind {
    static SETS: OnceLock<[Regex; 3]> = OnceLock::new();
    let [closed, question, ack] = SETS.get_or_init(|| [phrases(CLOSED), phrases(QUESTION), phrases(ACK)]);
    let mut own = String::with_capacity(text.len().min(CLASSIFY_BYTES));
    for line in text.lines().filter(|l| !l.trim_start().starts_with('>')) {
        if own.len() + line.len() > CLASSIFY_BYTES {
            break;
        }
        own.push_str(line);
        own.push('\n');
    }
    if closed.is_match(&own) {
        Kind::Closed
    } else if question.is_match(&own) || own.lines().any(|l| l.trim_end().ends_with('?')) {
        Kind::Question
    } else if ack.is_match(&own) {
        Kind::Ack
    } else {
        Kind::Reply
    }
}

/// certmail references (CM-YYYY-NNNN) in a text, in order of appearance.
pub fn references_in(text: &str) -> Vec<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"\bCM-\d{4}-\d{4,6}\b").unwrap_or_else(|_| Regex::new("$^").unwrap()));
    re.find_iter(text).map(|m| m.as_str().to_string()).collect()
}

/// The CERT's own case number ("Sagsnr.: CFCS-2026-1234", "Case number: 88231").
pub fn cert_case_number(text: &str) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    // Spaces and tabs only, never a line end: a match stays on one line, so one
    // pass over the whole text does (a regex per line cost more than the rest of ingest's
    // text analysis together).
    let re = RE.get_or_init(|| {
        Regex::new(r"(?i)\b(?:sagsnr\.?|sagsnummer|sag nr\.?|case(?:[ \t]+(?:number|no\.?|id))?|ticket(?:[ \t]+(?:id|no\.?))?)[ \t]*[:#]?[ \t]*([A-Z0-9][A-Z0-9-]{3,31})")
            .unwrap_or_else(|_| Regex::new("$^").unwrap())
    });
    // The start of the line a match is on, found from the previous match onwards so
    // that many matches on one long line stay linear.
    let (mut line_start, mut scanned) = (0, 0);
    let mut quoted = |at: usize| {
        if let Some(i) = text[scanned..at].rfind('\n') {
            line_start = scanned + i + 1;
        }
        scanned = at;
        text[line_start..].trim_start().starts_with('>')
    };
    re.captures_iter(text)
        .filter_map(|c| c.get(1))
        .filter(|m| !quoted(m.start()))
        .map(|m| m.as_str())
        .find(|c| c.chars().any(|ch| ch.is_ascii_digit()) && !c.starts_with("CM-"))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_in_danish_and_english() {
        assert_eq!(classify_text("Hej\nVi har modtaget jeres underretning.\n"), Kind::Ack);
        assert_eq!(classify_text("We have received your notification."), Kind::Ack);
        assert_eq!(classify_text("Kan I oplyse hvilke IP-adresser?"), Kind::Question);
        assert_eq!(classify_text("Sagen er lukket fra vores side."), Kind::Closed);
        assert_eq!(classify_text("Thanks, noted."), Kind::Reply);
        // The reporter's own question quoted back is not the CERT asking.
        assert_eq!(classify_text("> Can you help?\nWe have received your report."), Kind::Ack);
    }

    #[test]
    fn references_and_case_numbers() {
        assert_eq!(references_in("Re: [CM-2026-0007] x, see CM-2026-0008"), vec!["CM-2026-0007", "CM-2026-0008"]);
        assert_eq!(cert_case_number("Sagsnr.: CFCS-2026-4411\nHej"), Some("CFCS-2026-4411".into()));
        assert_eq!(cert_case_number("Case number: 88231"), Some("88231".into()));
        assert_eq!(cert_case_number("In this case we will look"), None);
        assert_eq!(cert_case_number("> Case number: 12345"), None);
        assert_eq!(cert_case_number("> Case number: 12345\nHej\n  Sagsnr. 2026-77\n"), Some("2026-77".into()));
        // A case word at a line's end does not take the next line's first word.
        assert_eq!(cert_case_number("see our case\nA1234 was the host"), None);
        // Many case words on one long line: each is checked from the previous one on,
        // not from the start of the text (which never finished on a few MB).
        let long_line = "case abcd ".repeat(200_000) + "case 4711-A";
        assert_eq!(cert_case_number(&long_line), Some("4711-A".into()));
    }
}

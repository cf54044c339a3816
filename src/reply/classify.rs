//! What a CERT's reply says: acknowledgement, question, closure, or another reply;
//! the incident references and the CERT's own case number in it. Quoted lines (">")
//! are the reporter's own words coming back and are not read. Pure.

use std::sync::OnceLock;

use regex::{Regex, RegexSet};

use super::phrases::*;

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

    pub const ALL: [Kind; 8] =
        [Kind::Ack, Kind::Question, Kind::Closed, Kind::Reply, Kind::AutoReply, Kind::Bounce, Kind::Unrelated, Kind::Malformed];

    /// The kind as the log stores it or an analyst names it.
    pub fn from_key(key: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.key() == key)
    }
}

/// How much of a reply's own words is read: what a CERT says comes first, and this
/// bounds the time a huge message can take.
const CLASSIFY_BYTES: usize = 16 * 1024;

/// What one pass of a [`RegexSet`] says about a sentence, by pattern.
#[derive(Clone, Copy)]
enum Rule {
    Disclaimer,
    CloseVerb,
    CaseNoun,
    CloseCondition,
    AskGuard,
    Please,
    Procedural,
    AskOpener,
    AskPhrase,
    AckPhrase,
    AskConditional,
}

#[derive(Clone)]
struct Rules {
    /// Every sentence rule, in [`Rule`]'s order, each its own regex: a sentence is
    /// asked only what can still change the verdict, and each question stops at the
    /// first match. The text is lower-cased first and the rules are case-sensitive,
    /// so each has its literal words to search for (SIMD) before its automaton runs:
    /// a case-insensitive set read every byte of a long reply through one large
    /// automaton instead, about twice the classifier's time on such replies.
    sentence: Vec<Regex>,
    /// The closing verb, a negation and a case word, on each clause of a sentence
    /// that may close.
    clause: RegexSet,
    /// A ticketing system's status line, matched on one line as it is.
    close_status: Regex,
    /// Out-of-office wording.
    away: Regex,
    /// "Please" with the verb that follows it, for the sentences that hold one.
    please: Regex,
    /// Any of the request rules (phrases, "please", a request put as a condition),
    /// for lower-cased text.
    requests: Regex,
    /// A closing verb or any request rule, for lower-cased text: most sentences have
    /// neither, and one search says so for both.
    closes_or_asks: Regex,
    /// What takes a receipt back: its guard or a disclaimer, for lower-cased text (a
    /// receipt found, both are asked of the sentence; one search asks them at once).
    unsaying: Regex,
}

/// The sentence rules' patterns, in the order of [`Rule`].
fn sentence_patterns() -> [String; 11] {
    [
        DISCLAIMER.into(),
        format!(r"\b(?:{CLOSE_VERBS})\b"),
        format!(r"\b(?:{CASE_NOUNS})\b"),
        CLOSE_CONDITIONS.into(),
        ASK_GUARDS.into(),
        PLEASE.into(),
        PROCEDURAL.into(),
        ASK_OPENERS.into(),
        ASK_PHRASES.into(),
        ACK_PHRASES.into(),
        ASK_CONDITIONAL.into(),
    ]
}

per_thread! {
    /// The rules, compiled once for the process, through this thread's handle (see
    /// `per_thread`).
    static RULES: Rules = compiled();
}

/// Runs `f` with this thread's handle on the rules.
fn with_rules<T>(f: impl FnOnce(&Rules) -> T) -> T {
    RULES.with(f)
}

/// The rules, compiled.
fn compiled() -> Rules {
    // The patterns are constants: one that does not compile is a bug to see at once.
    // They run on folded text (see `fold`) with ASCII word boundaries: a Unicode `\b`
    // on non-ASCII text makes the regex engine fall back to its slowest matcher.
    let pattern = |p: &str| format!("(?i-u){}", fold(p));
    let set = |ps: &[String]| RegexSet::new(ps.iter().map(|p| pattern(p))).expect("classifier patterns");
    // For lower-cased text: the patterns are written in lower case (a unit test
    // holds them to it), so matching them case-sensitively there is matching them
    // case-insensitively on the text as it was.
    let lower = |ps: &[String]| -> Vec<Regex> {
        ps.iter().map(|p| Regex::new(&format!("(?-u){}", fold(p))).expect("classifier pattern")).collect()
    };
    Rules {
        // In the order of `Rule`.
        sentence: lower(&sentence_patterns()),
        clause: set(&[format!(r"\b(?:{CLOSE_VERBS})\b"), CLOSE_NEGATIONS.into(), format!(r"\b(?:{CASE_NOUNS})\b")]),
        close_status: Regex::new(&pattern(CLOSE_STATUS)).expect("classifier pattern"),
        away: Regex::new(&pattern(AWAY)).expect("classifier pattern"),
        please: Regex::new(&pattern(PLEASE)).expect("classifier pattern"),
        requests: Regex::new(&format!("(?-u)(?:{})|(?:{})|(?:{})", fold(ASK_PHRASES), fold(PLEASE), fold(ASK_CONDITIONAL)))
            .expect("classifier pattern"),
        closes_or_asks: Regex::new(&format!(
            r"(?-u)(?:\b(?:{})\b)|(?:{})|(?:{})|(?:{})",
            fold(CLOSE_VERBS),
            fold(ASK_PHRASES),
            fold(PLEASE),
            fold(ASK_CONDITIONAL)
        ))
        .expect("classifier pattern"),
        unsaying: Regex::new(&format!("(?-u)(?:{})|(?:{})", fold(ACK_GUARDS), fold(DISCLAIMER))).expect("classifier pattern"),
    }
}

/// [`fold`] and ASCII lower case: each of the six letters is two bytes in UTF-8, as
/// its two-letter spelling is, so nothing moves.
fn fold_lower(text: String) -> String {
    let mut bytes = text.into_bytes();
    fold_in_place(&mut bytes);
    bytes.make_ascii_lowercase();
    utf8_after_folding(bytes)
}

/// Danish letters spelled the ASCII way (æ → ae, ø → oe, å → aa, capitals in
/// capitals), for patterns and text alike, so ASCII word boundaries fall where the
/// Danish words end.
fn fold(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    fold_in_place(&mut bytes);
    utf8_after_folding(bytes)
}

/// A whole two-byte character became two ASCII letters (and, for [`fold_lower`],
/// ASCII letters changed case), so the bytes are still UTF-8; were they ever not,
/// nothing is lost but the broken character.
fn utf8_after_folding(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Spells each Danish letter of UTF-8 `bytes` the ASCII way where it stands. The
/// letters' first byte, 0xC3, is looked for eight bytes at a time: Danish text has
/// one every few words, and a search started again after each cost more than all
/// the rest of the folding. A word with no byte above 0x7F is passed at once.
fn fold_in_place(bytes: &mut [u8]) {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let word = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or_default());
        if word & HIGH != 0 {
            // The high bit of each byte that is 0xC3 (exactly: no borrow between bytes).
            let x = word ^ (0xC3 * ONES);
            let mut found = !(((x & !HIGH) + !HIGH) | x) & HIGH;
            while found != 0 {
                fold_letter_at(bytes, at + (found.trailing_zeros() / 8) as usize);
                found &= found - 1;
            }
        }
        at += 8;
    }
    for tail in at..bytes.len() {
        if bytes[tail] == 0xC3 {
            fold_letter_at(bytes, tail);
        }
    }
}

/// Spells the Danish letter at `at` (its 0xC3) the ASCII way, if it is one. Its
/// second byte is never 0xC3, so a search for the next 0xC3 that was made before
/// this change is still right after it.
fn fold_letter_at(bytes: &mut [u8], at: usize) {
    let folded: &[u8; 2] = match bytes.get(at + 1) {
        Some(0xA6) => b"ae",
        Some(0xB8) => b"oe",
        Some(0xA5) => b"aa",
        Some(0x86) => b"AE",
        Some(0x98) => b"OE",
        Some(0x85) => b"AA",
        _ => return,
    };
    bytes[at..at + 2].copy_from_slice(folded);
}

/// The reply's own words: quoted lines (">"), the quoted original below an
/// attribution line ("On … wrote:", "Den … skrev:", "-----Original Message-----", an
/// Outlook "From:/Sent:" block) and the signature after "-- " are left out.
pub fn own_words(text: &str) -> String {
    let mut own = String::with_capacity(text.len().min(CLASSIFY_BYTES));
    for line in own_lines(text) {
        own.push_str(line);
        own.push('\n');
    }
    own
}

/// The lines of [`own_words`], without copying them: the first [`CLASSIFY_BYTES`]
/// of them (a line end counted as a byte), the last one cut at a character.
fn own_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut room = CLASSIFY_BYTES;
    crate::bytes::lines(text)
        .take(4000)
        .map_while(|line| {
            let t = line.trim();
            let ends = is_quote_start(text, line, t) || line == "-- " || t == "--";
            (!ends).then_some((line, t.starts_with('>')))
        })
        .filter(|&(_, quoted)| !quoted)
        .map_while(move |(line, _)| {
            if room == 0 {
                return None;
            }
            // A long line (HTML flattened to one) is cut, not dropped.
            let mut cut = line.len().min(room);
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            room = room.saturating_sub(cut + 1);
            Some(&line[..cut])
        })
}

/// Whether `t` (the trimmed `line`, a line of `text`) starts the quoted original: an
/// attribution line, a separator, or an Outlook "From:" block (a "Sent:" or "Date:"
/// line among the next four). Compared without lower-casing every line (most lines
/// are none of these, and lower-casing each was a fifth of the classifier).
fn is_quote_start(text: &str, line: &str, t: &str) -> bool {
    let starts = |p: &str| t.len() >= p.len() && t.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    if t.ends_with(':') {
        let lower = t.to_lowercase();
        let attribution = (lower.ends_with("wrote:") || lower.ends_with("skrev:") || lower.contains(" skrev "))
            && (lower.starts_with("on ")
                || lower.starts_with("den ")
                || lower.starts_with("d. ")
                || lower.contains('@')
                || lower.len() < 200);
        if attribution {
            return true;
        }
    }
    // Most lines start with neither a separator's nor a "From:" line's first letter:
    // they are passed over on that byte alone.
    match t.as_bytes().first() {
        Some(b'-' | b'b' | b'B') => {
            return [
                "-----original message",
                "-----oprindelig meddelelse",
                "-------- forwarded",
                "-------- videresendt",
                "begin forwarded message",
            ]
            .iter()
            .any(|p| starts(p));
        }
        Some(b'f' | b'F') if starts("from:") || starts("fra:") => {}
        _ => return false,
    }
    // The lines after this one: `line` lies inside `text`.
    let end = (line.as_ptr() as usize - text.as_ptr() as usize) + line.len();
    crate::bytes::lines(&text[end..]).skip(1).take(4).any(|l| {
        let l = l.trim();
        ["sent:", "sendt:", "date:", "dato:"]
            .iter()
            .any(|p| l.len() >= p.len() && l.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes()))
    })
}

/// Sentences of a text: lines wrapped inside a paragraph are joined again (a
/// sentence often runs over a line end), then split after ".", "!" or "?".
fn sentences(text: &str) -> Vec<&str> {
    // The paragraphs were joined into `text` by `paragraphs`; the marks are ASCII, so
    // every split falls on a character boundary. A mark inside a token ("cfcs.dk",
    // "10.0.0.1", "/?tema=2") ends nothing: only one followed by white space, a
    // closing quote or bracket, or the end of the text does.
    let bytes = text.as_bytes();
    let ends_sentence = |at: usize| {
        bytes.get(at + 1).is_none_or(|&b| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b')' | b']'))
            && !(bytes[at] == b'.' && is_abbreviation(&bytes[..at]))
    };
    let mut out = Vec::new();
    let mut from = 0;
    for at in crate::bytes::positions3(bytes, b'.', b'!', b'?').filter(|&at| ends_sentence(at)).chain([text.len()]) {
        let end = (at + 1).min(text.len());
        if end <= from {
            continue;
        }
        out.extend(text[from..end].split('\n').map(str::trim).filter(|s| !s.is_empty()));
        from = end;
    }
    out
}

/// Whether the word just before a full stop is an abbreviation.
fn is_abbreviation(before: &[u8]) -> bool {
    let start = before.iter().rposition(|b| !(b.is_ascii_alphabetic() || *b == b'.')).map_or(0, |p| p + 1);
    let word = &before[start..];
    !word.is_empty() && word.len() <= 8 && ABBREVIATIONS.iter().any(|a| a.as_bytes().eq_ignore_ascii_case(word))
}

/// The text with the lines of each paragraph joined by a space, one paragraph per
/// line (a paragraph ending in ":" runs on into the next).
#[cfg(test)]
fn paragraphs(text: &str) -> String {
    let mut paragraphs = Paragraphs::with_capacity(text.len());
    crate::bytes::lines(text).for_each(|line| paragraphs.push(line));
    paragraphs.text
}

/// Lines joined into paragraphs as they come (see [`paragraphs`]).
struct Paragraphs {
    text: String,
    /// Inside an announced run: after a paragraph ending in ":", up to the next one
    /// that ends a sentence.
    announced: bool,
}

impl Paragraphs {
    fn with_capacity(size: usize) -> Paragraphs {
        Paragraphs { text: String::with_capacity(size), announced: false }
    }

    fn push(&mut self, line: &str) {
        let (line, out) = (line.trim(), &mut self.text);
        if line.is_empty() {
            // A paragraph ending in a colon announces the next ("Please include the
            // string:", blank line, the string, blank line, "in the subject line of
            // all future correspondence."): they are one sentence.
            let colon = out.ends_with(": ");
            let runs_on = colon || self.announced && !out.trim_end().ends_with(['.', '!', '?']);
            self.announced = runs_on;
            if !runs_on && !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
        } else {
            out.push_str(line);
            out.push(' ');
        }
    }
}

/// What a human reply says, by its own (unquoted) words: a closure wins over a
/// question, a question over an acknowledgement; anything else is a reply.
pub fn classify_text(text: &str) -> Kind {
    classify(text, false)
}

/// What a text says (as [`classify_text`]), for a message its headers say was sent
/// automatically when `automatic`: a ticketing system's receipt, question or closure
/// keeps what its text says; an out-of-office notice or anything else is an
/// auto-reply.
pub fn classify(text: &str, automatic: bool) -> Kind {
    with_rules(|r| {
        let kind = classify_own(r, text);
        // Out-of-office wording is looked for only in automatic mail (its pattern has
        // no literal to search for first, so it reads every byte).
        if automatic && (kind == Kind::Reply || r.away.is_match(&fold(&own_words(text)))) { Kind::AutoReply } else { kind }
    })
}

/// What the own words of `text` say. They are read once, as lines, into their
/// paragraphs, which are then folded and lower-cased in place.
fn classify_own(r: &Rules, text: &str) -> Kind {
    let mut paragraphs = Paragraphs::with_capacity(text.len().min(CLASSIFY_BYTES));
    for line in own_lines(text) {
        // A status line starts with its label: only such lines are matched (the
        // pattern has no literal to search for, and running it over every line was
        // most of this). A closure wins whatever else the text says.
        if may_be_status_line(line) && r.close_status.is_match(&fold(line)) {
            return Kind::Closed;
        }
        paragraphs.push(line);
    }
    let (mut question, mut ack) = (false, false);
    let joined = fold_lower(paragraphs.text);
    // Each sentence is asked only what could still change the verdict, until a
    // closure is found, which wins whatever follows.
    for s in sentences(&joined) {
        let has = |rule: Rule| r.sentence[rule as usize].is_match(s);
        // A disclaimer's sentence counts for nothing; asked only of a sentence that
        // would count for something.
        let counts = |verdict: bool| verdict && !has(Rule::Disclaimer);
        // Neither a closing verb nor a request: what they decide is settled by one
        // search (each implies this, so asking it first changes no answer).
        let closes_or_asks = r.closes_or_asks.is_match(s);
        if closes_or_asks && counts(has(Rule::CloseVerb) && has(Rule::CaseNoun) && !has(Rule::CloseCondition) && closes_in_a_clause(r, s)) {
            return Kind::Closed;
        }
        if !question {
            // The three request rules searched for at once first (one search of
            // their words together costs little more than one of them): a sentence
            // with none of them, most of a long reply, asks only by its question
            // mark or its opening words. The guard is looked for only in a sentence
            // that asks.
            let requests = closes_or_asks && r.requests.is_match(s);
            let please = || {
                has(Rule::Please)
                    && !has(Rule::Procedural)
                    && r.please.captures_iter(s).any(|c| c.get(1).is_none_or(|verb| !PLEASE_NOT_ASKING.contains(&verb.as_str())))
            };
            let asks = requests && has(Rule::AskConditional)
                || (s.trim_end_matches(['"', '\'', ')', ']', '»', '”']).ends_with('?')
                    || has(Rule::AskOpener)
                    || requests && (has(Rule::AskPhrase) || please()))
                    && !has(Rule::AskGuard);
            question = counts(asks);
        }
        if !ack {
            // As `counts(has(AckPhrase) && !has(AckGuard))`, with the guard and the
            // disclaimer searched for at once.
            ack = has(Rule::AckPhrase) && !r.unsaying.is_match(s);
        }
    }
    if question {
        Kind::Question
    } else if ack {
        Kind::Ack
    } else {
        Kind::Reply
    }
}

/// Whether a line may be a ticketing system's status line: after white space it
/// starts as "status", "state" or "tilstand" do ("st" or "ti", in any case), and it
/// has a colon. Only such lines are matched against the status pattern; the first
/// letter alone let a third of the lines of Danish text through.
fn may_be_status_line(line: &str) -> bool {
    let start = line.trim_start().as_bytes();
    start.len() >= 2 && (start[..2].eq_ignore_ascii_case(b"st") || start[..2].eq_ignore_ascii_case(b"ti")) && line.contains(':')
}

/// Whether a clause of the sentence (split at commas, semicolons, colons and dashes)
/// has the closing verb without a negation of its own, and names the case there or
/// in the sentence's first clause ("Sagen, som I anmeldte, er nu lukket"): a closing
/// verb and a case word far apart in a long sentence ("to complete our assessment
/// ... the peak request rate") close nothing.
fn closes_in_a_clause(r: &Rules, sentence: &str) -> bool {
    let clause = &r.clause;
    let mut clauses = sentence.split([',', ';', ':', '–', '—']).flat_map(|c| c.split(" - "));
    let first = clauses.next().unwrap_or_default();
    let first_found = clause.matches(first);
    let closes = |found: &regex::SetMatches, names_case: bool| found.matched(0) && !found.matched(1) && names_case;
    if closes(&first_found, first_found.matched(2)) {
        return true;
    }
    clauses.any(|c| {
        let found = clause.matches(c);
        closes(&found, found.matched(2) || first_found.matched(2))
    })
}

/// An out-of-office subject ("Autosvar:", "Automatic reply:", "Out of Office:").
pub fn is_away_subject(subject: &str) -> bool {
    let s = subject.trim_start().to_lowercase();
    ["autosvar", "automatisk svar", "automatic reply", "auto-reply", "autoreply", "out of office", "fraværende", "ikke på kontoret"]
        .iter()
        .any(|p| s.starts_with(p))
}

/// certmail references in a text, in order of appearance: today's random form
/// (CM-XXXX-XXXX-XXXX, Crockford base32) and the numbered form of older logs
/// (CM-YYYY-NNNN).
pub fn references_in(text: &str) -> Vec<String> {
    per_thread! {
        // Every message is searched, on the parser threads.
        static REFERENCE: Regex =
            Regex::new(r"\bCM-(?:[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}|\d{4}-\d{4,6})\b")
                .expect("reference pattern");
    }
    REFERENCE.with(|re| re.find_iter(text).map(|m| m.as_str().to_string()).collect())
}

/// The CERT's own case number ("Sagsnr.: CFCS-2026-1234", "Case number: 88231",
/// RT's "[cfcs.dk #48213]", OTRS' "Ticket#2026112010000123", and, only when none of
/// those is there, Jira's "Your request CFCS-1187"). Only the CERT's own words count,
/// not what it quotes; generic words ("issue", "reference") are no label, and a bare
/// year or a number of four digits or fewer is never a case number.
pub fn cert_case_number(text: &str) -> Option<String> {
    static RE: OnceLock<[Regex; 3]> = OnceLock::new();
    // Spaces and tabs only, never a line end: a match stays on one line.
    let [labelled, ticket, request] = RE.get_or_init(|| {
        [
            Regex::new(r"(?i)\b(?:sagsnr\.?|sagsnummer|sag nr\.?|case[ \t]+(?:number|no\.?|id)|case[ \t]*[:#]|ticket[ \t]+(?:number|id|no\.?)|incident[ \t]+(?:number|no\.?|id))[ \t]*[:#]?[ \t]*([A-Z0-9][A-Z0-9-]{3,31})\b")
                .expect("case number pattern"),
            Regex::new(r"(\[[A-Za-z0-9.-]{2,40} #\d{3,12}\]|(?i:ticket)#\d{6,24})").expect("ticket pattern"),
            Regex::new(r"\b(?:[Yy]our request|[Dd]in henvendelse|[Jj]eres henvendelse)[ \t]+([A-Z][A-Z0-9]{1,9}-\d{1,8})\b").expect("request pattern"),
        ]
    });
    let own = own_words(text);
    let plausible = |c: &str| {
        c.chars().any(|ch| ch.is_ascii_digit()) && !c.starts_with("CM-") && !(c.len() <= 4 && c.chars().all(|ch| ch.is_ascii_digit()))
    };
    let found = |re: &Regex| re.captures_iter(&own).filter_map(|c| c.get(1)).map(|m| (m.start(), m.as_str())).collect::<Vec<_>>();
    let strong = found(labelled).into_iter().chain(found(ticket)).filter(|(_, c)| plausible(c)).min_by_key(|(at, _)| *at);
    strong.or_else(|| found(request).into_iter().find(|(_, c)| plausible(c))).map(|(_, c)| c.to_string())
}

/// Whether `token` occurs in `text` as a whole token: not inside a longer number or
/// word ("2026" is not in "CFCS-2026-4411" as a case number of its own).
pub fn contains_token(text: &str, token: &str) -> bool {
    if token.is_empty() {
        return false;
    }
    let is_word = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    let mut from = 0;
    while let Some(i) = text[from..].find(token) {
        let start = from + i;
        let end = start + token.len();
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        let edge_ok = |c: Option<char>, inner: Option<char>| match (c, inner) {
            (None, _) => true,
            // A token that starts or ends with a bracket or '#' carries its own edge.
            (_, Some(t)) if !is_word(t) => true,
            (Some(c), _) => !is_word(c),
        };
        if edge_ok(before, token.chars().next()) && edge_ok(after, token.chars().next_back()) {
            return true;
        }
        from = start + token.chars().next().map_or(1, char::len_utf8);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentence_rules_are_written_in_lower_case() {
        // They are matched case-sensitively on lower-cased text: an upper-case
        // letter in one (outside an escape such as \b or \S) would never match. The
        // receipt's guard is searched for with the disclaimer (`unsaying`), the same way.
        for pattern in sentence_patterns().into_iter().chain([ACK_GUARDS.to_string()]) {
            let mut chars = pattern.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    chars.next();
                } else {
                    assert!(!c.is_uppercase(), "{c} in {pattern}");
                }
            }
        }
    }

    #[test]
    fn folding_eight_bytes_at_a_time_folds_as_letter_by_letter() {
        // The plain way: each letter replaced where it stands.
        let plainly = |text: &str| {
            [("æ", "ae"), ("Æ", "AE"), ("ø", "oe"), ("Ø", "OE"), ("å", "aa"), ("Å", "AA")]
                .iter()
                .fold(text.to_string(), |folded, (letter, spelled)| folded.replace(letter, spelled))
        };
        let pieces = ["æ", "Ø", "å", "Å", "é", "Ã", "ÃÆ", "a", "B", " ", "\n", "ü", "€", "1234567"];
        // Every sequence of up to four pieces, at every offset from an eight-byte
        // word's start, so each letter falls on every position and across words.
        let mut texts = Vec::new();
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    for d in ["", "æ", "x", "ØØ"] {
                        for offset in 0..8 {
                            texts.push(format!("{}{a}{b}{c}{d}", "x".repeat(offset)));
                        }
                    }
                }
            }
        }
        texts.push("Hændelse, SPØRGSMÅL og næste skridt: ÆØÅ æøå".repeat(20));
        for text in texts {
            assert_eq!(fold(&text), plainly(&text), "{text:?}");
            assert_eq!(fold_lower(text.clone()), plainly(&text).to_ascii_lowercase(), "{text:?}");
        }
    }

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
    fn sentences_end_at_marks_before_white_space_only() {
        // A dot or question mark inside a host name, address or URL ends no sentence,
        // so neither half is read as a request or a question.
        assert_eq!(
            sentences("See https://cfcs.dk/vejledning/?tema=2 for advice. Ok"),
            ["See https://cfcs.dk/vejledning/?tema=2 for advice.", "Ok"]
        );
        assert_eq!(sentences("Blocked 10.0.0.1. Done!"), ["Blocked 10.0.0.1.", "Done!"]);
        assert_eq!(sentences("Hvornår (i dag)? Nu."), ["Hvornår (i dag)?", "Nu."]);
        // Abbreviations end no sentence.
        assert_eq!(sentences("Vi ser bl.a. på logs, f.eks. kl. 14.30. Ok"), ["Vi ser bl.a. på logs, f.eks. kl. 14.30.", "Ok"]);
    }

    #[test]
    fn a_colon_runs_on_into_the_announced_paragraphs() {
        assert_eq!(paragraphs("Include this:\n\n  [x #1]\n\nin the subject.\n\nBye"), "Include this: [x #1] in the subject. \nBye ");
    }

    #[test]
    fn a_negation_counts_in_the_closing_verbs_own_clause() {
        assert_eq!(classify_text("The case is not closed yet."), Kind::Reply);
        assert_eq!(classify_text("Da vi ikke har hørt fra jer, lukker vi sagen."), Kind::Closed);
        assert_eq!(classify_text("We are closing the case, as we have not heard from you."), Kind::Closed);
        // A condition anywhere keeps it open.
        assert_eq!(classify_text("We will close the case unless we hear from you."), Kind::Reply);
        assert_ne!(classify_text("Vi lukker sagen, når vi har modtaget loggen."), Kind::Closed);
        // The closing verb and the case word must meet: in one clause, or the case
        // first and the verb later.
        assert_eq!(classify_text("Sagen, som I anmeldte i går, er nu lukket."), Kind::Closed);
        assert_ne!(classify_text("To complete our review of the logs, the peak request rate would help."), Kind::Closed);
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
        let long_line = "case: abcd ".repeat(200_000) + "case: 4711-A";
        assert_eq!(cert_case_number(&long_line), None, "only the first 16 KiB of a reply are read");
        let long_line = "case: abcd ".repeat(1_000) + "case: 4711-A";
        assert_eq!(cert_case_number(&long_line), Some("4711-A".into()));
        // A year is not a case number; ticketing systems' own forms are.
        assert_eq!(cert_case_number("Sagsnr.: 2026"), None);
        assert_eq!(cert_case_number("Your ticket has been assigned an ID of [cfcs.dk #48213]."), Some("[cfcs.dk #48213]".into()));
        assert_eq!(cert_case_number("Ticket#2026112010000123 — thank you"), Some("Ticket#2026112010000123".into()));
        // A generic word is no label; an explicit one wins over a request key.
        assert_eq!(cert_case_number("om issue CVE-2024-3400. Sagsnr.: CFCS-2026-4411"), Some("CFCS-2026-4411".into()));
        assert_eq!(cert_case_number("Your request CFCS-1187 has been received."), Some("CFCS-1187".into()));
        assert_eq!(cert_case_number("Your request CFCS-1187 is case number 88231."), Some("88231".into()));
    }

    #[test]
    fn whole_tokens_only() {
        assert!(contains_token("Vedr. sag CFCS-2026-4411.", "CFCS-2026-4411"));
        assert!(!contains_token("Vedr. sag CFCS-2026-4411.", "2026"));
        assert!(!contains_token("ref 120261", "2026"));
        assert!(contains_token("Re: [cfcs.dk #48213] x", "[cfcs.dk #48213]"));
        assert!(contains_token("2026", "2026"));
    }

    #[test]
    fn new_and_old_references() {
        assert_eq!(references_in("Re: [CM-7KQ2-M9XD-3RTA] and CM-2026-0002"), vec!["CM-7KQ2-M9XD-3RTA", "CM-2026-0002"]);
        // Crockford base32 has no I, L, O or U: a look-alike is not a reference.
        assert!(references_in("CM-7KQ2-M9XD-3RTI").is_empty());
    }
}

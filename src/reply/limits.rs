//! The structural limits a received message must keep before mail-parser reads it:
//! how deep its parts nest (multipart and message/rfc822 or message/global alike) and
//! how many parts it can have. Pure: one linear pass over the raw bytes, no recursion,
//! no allocation that grows with the message beyond the boundaries it declares.
//!
//! mail-parser builds a nested `Message` for every message/rfc822 part, and such a
//! value is dropped (and cloned) recursively: mail nested some thousands deep
//! overflowed the stack and aborted the whole run, which no `catch_unwind` can stop.
//! Its parts cost memory each, and a small message can declare millions of them.
//! So the check here runs first and must be conservative: it may count a level or
//! a part mail-parser would not see (a Content-Type line quoted in a body, a
//! preamble), never the other way round. Mail that is refused becomes `malformed`
//! with the reason.

use memchr::memmem;

/// Deepest nesting accepted; real mail rarely goes past 5.
pub const MAX_DEPTH: usize = 32;
/// Most parts accepted (the same cap the parser checks afterwards).
pub const MAX_PARTS: usize = 1000;
/// Most Content-Type lines that can open a level (multipart or message/*),
/// wherever they stand: whatever the structure, mail-parser cannot nest deeper than
/// about twice this (a multipart/digest part is a message without saying so), which
/// stays far from what overflows its stack (see `mail_parser_survives_the_bound`).
pub const MAX_NESTING_HEADERS: usize = 256;
/// Most distinct multipart boundaries: each one is searched for once.
pub const MAX_BOUNDARIES: usize = 64;

/// One level the message may have opened.
enum Level {
    /// A multipart entity and its boundary.
    Multipart(Vec<u8>),
    /// A message/* entity (or something that named one): it ends with its part.
    Message,
}

/// Refuses a message whose structure could exceed the limits, saying which; a
/// message that passes is safe to hand to mail-parser.
pub fn prescan(raw: &[u8]) -> Result<(), String> {
    scan(raw, true)
}

/// [`prescan`], passing over the lines that cannot matter by one search when
/// `skipping` (always, but in the test that holds it to reading every line).
fn scan(raw: &[u8], skipping: bool) -> Result<(), String> {
    let mut open: Vec<Level> = Vec::new();
    let mut deepest = 0;
    let mut nesting_headers = 0;
    // Each boundary and where it was first declared: parts are counted from there.
    let mut boundaries: Vec<(Vec<u8>, usize)> = Vec::new();
    let mut messages = 0;
    let mut lines = Lines { raw, at: 0 };
    while let Some((start, line)) = if skipping { lines.next_that_may_matter() } else { lines.next() } {
        let trimmed = trim_start(line);
        if let Some(value) = content_type_value(trimmed) {
            let value = lines.unfold(value);
            let lower = value.to_ascii_lowercase();
            let multipart = memmem::find(&lower, b"multipart").is_some();
            let message = memmem::find(&lower, b"message").is_some();
            if multipart && memmem::find(&lower, b"boundary").is_some() {
                nesting_headers += 1;
                let boundary = boundary(&value)?;
                if !boundaries.iter().any(|(b, _)| *b == boundary) {
                    if boundaries.len() >= MAX_BOUNDARIES {
                        return Err(format!("more than {MAX_BOUNDARIES} MIME boundaries"));
                    }
                    boundaries.push((boundary.clone(), start));
                }
                // A multipart/digest's parts are messages even without a Content-Type.
                if memmem::find(&lower, b"digest").is_some() {
                    open.push(Level::Message);
                }
                open.push(Level::Multipart(boundary));
            } else if message {
                nesting_headers += 1;
                messages += 1;
                open.push(Level::Message);
            }
            if nesting_headers > MAX_NESTING_HEADERS {
                return Err(format!("more than {MAX_NESTING_HEADERS} multipart or message headers"));
            }
            deepest = deepest.max(open.len());
            if deepest > MAX_DEPTH {
                return Err(format!("MIME nesting (multipart or message/rfc822) deeper than {MAX_DEPTH}"));
            }
        } else if let Some(rest) = trimmed.strip_prefix(b"--") {
            close(&mut open, rest);
        }
    }
    // mail-parser finds a boundary anywhere, not only at a line start, so every
    // occurrence after its declaration may begin a part.
    let mut parts = 1 + messages;
    for (boundary, from) in &boundaries {
        let delimiter = [b"--".as_slice(), boundary].concat();
        parts += memmem::find_iter(&raw[*from..], &delimiter).count();
        if parts > MAX_PARTS {
            return Err(format!("more than {MAX_PARTS} MIME parts"));
        }
    }
    Ok(())
}

/// A line `--B` or `--B--` ends levels, but only when `B` is the innermost open
/// boundary: mail-parser looks for that one alone, so any other is content to it.
fn close(open: &mut Vec<Level>, rest: &[u8]) {
    let rest = trim_end(rest);
    let Some(innermost) = open.iter().rposition(|l| matches!(l, Level::Multipart(_))) else { return };
    let Level::Multipart(boundary) = &open[innermost] else { return };
    if rest == boundary.as_slice() {
        // The part ended: messages inside it end with it.
        open.truncate(innermost + 1);
    } else if rest.strip_suffix(b"--").is_some_and(|r| r == boundary.as_slice()) {
        open.truncate(innermost);
    }
}

/// The value of a `Content-Type:` header line (any case, blanks before the colon).
fn content_type_value(line: &[u8]) -> Option<&[u8]> {
    const NAME: &[u8] = b"content-type";
    let head = line.get(..NAME.len())?;
    if !head.eq_ignore_ascii_case(NAME) {
        return None;
    }
    let rest = trim_start(&line[NAME.len()..]);
    rest.strip_prefix(b":")
}

/// The `boundary` parameter, read strictly: a value this check could read
/// differently from mail-parser is refused rather than guessed at.
fn boundary(value: &[u8]) -> Result<Vec<u8>, String> {
    let unreadable = || "a multipart boundary this check cannot read safely (quoted escapes, RFC 2231 or repeated)".to_string();
    let mut found: Option<Vec<u8>> = None;
    for param in (Params { rest: value }).skip(1) {
        let Some(eq) = param.iter().position(|b| *b == b'=') else { continue };
        let name = trim_end(trim_start(&param[..eq]));
        if name.len() >= 8 && name[..8].eq_ignore_ascii_case(b"boundary") {
            if name.len() != 8 || found.is_some() {
                return Err(unreadable());
            }
            let v = trim_end(trim_start(&param[eq + 1..]));
            let v = match v.strip_prefix(b"\"") {
                Some(q) => q.strip_suffix(b"\"").ok_or_else(unreadable)?,
                None => v,
            };
            // RFC 2046 bchars; a space only inside, never at the end.
            let bchar = |b: &u8| b.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(b);
            if v.is_empty() || v.len() > 70 || !v.iter().all(bchar) || v.ends_with(b" ") {
                return Err(unreadable());
            }
            found = Some(v.to_vec());
        }
    }
    found.ok_or_else(unreadable)
}

/// Splits a header value at `;` outside quoted strings.
struct Params<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Params<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let mut quoted = false;
        let end = self
            .rest
            .iter()
            .position(|b| {
                if *b == b'"' {
                    quoted = !quoted;
                }
                *b == b';' && !quoted
            })
            .unwrap_or(self.rest.len());
        let param = &self.rest[..end];
        self.rest = self.rest.get(end + 1..).unwrap_or_default();
        Some(param)
    }
}

/// Lines ended by LF, CRLF or a lone CR (a line start for this check wherever any
/// reader might see one), with their offsets.
struct Lines<'a> {
    raw: &'a [u8],
    at: usize,
}

/// The first byte of a line that may matter: only a Content-Type line or a boundary
/// line does, blanks before it or not.
fn may_matter(first: u8) -> bool {
    matches!(first, b' ' | b'\t' | b'c' | b'C' | b'-')
}

impl<'a> Lines<'a> {
    /// The next line that starts with a byte that [`may_matter`]: the lines between
    /// (most of a body) are passed over by one vectorised search for a line end
    /// followed by such a byte, instead of line by line.
    fn next_that_may_matter(&mut self) -> Option<(usize, &'a [u8])> {
        per_thread! {
            // The parser threads prescan at once, and this search runs many times per
            // message. A line starts after LF, or after a CR not followed by LF (which
            // the byte after it, none of LF, says): each of the ten pairs is one literal.
            static STARTS: regex::bytes::Regex = regex::bytes::Regex::new(r"(?-u)[\r\n][ \tcC-]").expect("line start pattern");
        }
        let here = self.raw.get(self.at)?;
        if !may_matter(*here) {
            let next = STARTS.with(|starts| starts.find_at(self.raw, self.at).map(|m| m.start()));
            self.at = match next {
                Some(start) => start + 1,
                None => self.raw.len(),
            };
        }
        self.next()
    }

    fn next(&mut self) -> Option<(usize, &'a [u8])> {
        if self.at >= self.raw.len() {
            return None;
        }
        let start = self.at;
        let rest = &self.raw[start..];
        let (len, skip) = match memchr::memchr2(b'\r', b'\n', rest) {
            None => (rest.len(), 0),
            Some(i) if rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n') => (i, 2),
            Some(i) => (i, 1),
        };
        self.at = start + len + skip;
        Some((start, &rest[..len]))
    }

    /// The header value with its folded continuation lines (starting with a blank),
    /// which are consumed. Capped: a header value is not a body.
    fn unfold(&mut self, first: &[u8]) -> Vec<u8> {
        const CAP: usize = 16 * 1024;
        let mut value = first.to_vec();
        loop {
            let save = self.at;
            match self.next() {
                Some((_, line)) if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') && value.len() < CAP => {
                    value.push(b' ');
                    value.extend_from_slice(trim_start(line));
                }
                _ => {
                    self.at = save;
                    return value;
                }
            }
        }
    }
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| **b == b' ' || **b == b'\t').count();
    &s[n..]
}

fn trim_end(s: &[u8]) -> &[u8] {
    let n = s.iter().rev().take_while(|b| b.is_ascii_whitespace()).count();
    &s[..s.len() - n]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Messages made of the pieces that matter (and some that only look like them),
    /// joined by every kind of line end: a generator for the tests below.
    fn mixed_messages(count: usize) -> Vec<Vec<u8>> {
        let pieces: [&[u8]; 16] = [
            b"Content-Type: multipart/mixed; boundary=a",
            b"  content-type: message/rfc822",
            b"\tContent-Type: multipart/digest; boundary=\"b\"",
            b"--a",
            b"--a--",
            b" --b",
            b"--b--",
            b"Subject: x",
            b"cc",
            b"",
            b"-",
            b" boundary=c",
            b"Content-Type: multipart/alternative;",
            b"CONTENT-TYPE: message/global",
            b"\r",
            b"plain text line",
        ];
        let ends: [&[u8]; 3] = [b"\n", b"\r\n", b"\r"];
        let mut seed = 7u64;
        let mut next = |n: usize| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n
        };
        (0..count)
            .map(|_| {
                let mut raw = Vec::new();
                for _ in 0..next(60) {
                    raw.extend_from_slice(pieces[next(pieces.len())]);
                    raw.extend_from_slice(ends[next(ends.len())]);
                }
                raw
            })
            .collect()
    }

    #[test]
    fn passing_over_lines_visits_every_line_that_may_matter() {
        for raw in mixed_messages(4000) {
            let mut every = Lines { raw: &raw, at: 0 };
            let mut all = Vec::new();
            while let Some(line) = every.next() {
                all.push(line);
            }
            let expected: Vec<_> = all.into_iter().filter(|(_, l)| l.first().is_some_and(|b| may_matter(*b))).collect();
            let mut skipping = Lines { raw: &raw, at: 0 };
            let mut visited = Vec::new();
            while let Some(line) = skipping.next_that_may_matter() {
                visited.push(line);
            }
            assert_eq!(visited, expected, "{}", String::from_utf8_lossy(&raw));
        }
    }

    #[test]
    fn passing_over_lines_gives_the_verdict_reading_every_line_does() {
        let mut refused = 0;
        for raw in mixed_messages(4000) {
            let fast = scan(&raw, true);
            assert_eq!(fast, scan(&raw, false), "{}", String::from_utf8_lossy(&raw));
            refused += fast.is_err() as usize;
        }
        // Both verdicts came up, so the comparison meant something.
        assert!(refused > 0 && refused < 4000, "{refused}");
        for n in [MAX_DEPTH, MAX_DEPTH + 1] {
            assert_eq!(scan(&nested_messages(n), true), scan(&nested_messages(n), false));
            assert_eq!(scan(&nested_multiparts(n), true), scan(&nested_multiparts(n), false));
        }
    }

    /// message/rfc822 nested `n` deep, each level a real header block.
    pub(crate) fn nested_messages(n: usize) -> Vec<u8> {
        let mut m = String::new();
        for i in 0..n {
            m.push_str(&format!("Subject: level {i}\r\nContent-Type: message/rfc822\r\n\r\n"));
        }
        m.push_str("Subject: bottom\r\n\r\nhello\r\n");
        m.into_bytes()
    }

    /// multipart/mixed nested `n` deep, each part opening the next.
    pub(crate) fn nested_multiparts(n: usize) -> Vec<u8> {
        let mut m = String::from("Subject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n");
        for i in 0..n {
            m.push_str(&format!("--b{i}\r\nContent-Type: multipart/mixed; boundary=b{}\r\n\r\n", i + 1));
        }
        m.push_str(&format!("--b{n}\r\n\r\nhello\r\n"));
        for i in (0..=n).rev() {
            m.push_str(&format!("--b{i}--\r\n"));
        }
        m.into_bytes()
    }

    /// Parses and drops `raw` with mail-parser on a thread with `stack` bytes. A stack
    /// overflow cannot be caught: it aborts the whole test binary, loudly.
    fn parses_within(raw: Vec<u8>, stack: usize) -> bool {
        std::thread::Builder::new()
            .stack_size(stack)
            .spawn(move || drop(mail_parser::MessageParser::default().parse(&raw)))
            .expect("a thread")
            .join()
            .is_ok()
    }

    #[test]
    fn ordinary_mail_passes() {
        let signed_encrypted = b"From: a@b\r\nContent-Type: multipart/mixed;\r\n boundary=\"----=_Part_1_boundary\"\r\n\r\n------=_Part_1_boundary\r\nContent-Type: multipart/alternative; boundary=alt\r\n\r\n--alt\r\nContent-Type: text/plain\r\n\r\nhi\r\n--alt\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--alt--\r\n------=_Part_1_boundary\r\nContent-Type: message/rfc822\r\n\r\nSubject: fwd\r\nContent-Type: multipart/signed; boundary=\"s s\"; protocol=\"application/pgp-signature\"\r\n\r\n--s s\r\nContent-Type: text/plain\r\n\r\nsigned\r\n--s s\r\nContent-Type: application/pgp-signature\r\n\r\nsig\r\n--s s--\r\n------=_Part_1_boundary--\r\n";
        assert_eq!(prescan(signed_encrypted), Ok(()));
        assert_eq!(prescan(b"Subject: plain\r\n\r\n-- \r\nsignature\r\n"), Ok(()));
        assert_eq!(prescan(b""), Ok(()));
        assert_eq!(prescan(&nested_multiparts(10)), Ok(()));
        assert_eq!(prescan(&nested_messages(10)), Ok(()));
    }

    #[test]
    fn sibling_forwards_close_with_their_part() {
        let mut m = String::from("Subject: digest of 100 forwards\r\nContent-Type: multipart/mixed; boundary=d\r\n\r\n");
        for i in 0..100 {
            m.push_str(&format!("--d\r\nContent-Type: message/rfc822\r\n\r\nSubject: {i}\r\n\r\nbody\r\n"));
        }
        m.push_str("--d--\r\n");
        assert_eq!(prescan(m.as_bytes()), Ok(()));
    }

    #[test]
    fn deep_nesting_is_refused() {
        for raw in [nested_messages(5000), nested_multiparts(2000), nested_messages(MAX_DEPTH + 1), nested_multiparts(MAX_DEPTH)] {
            let reason = prescan(&raw).unwrap_err();
            assert!(reason.contains("deeper than"), "{reason}");
        }
    }

    #[test]
    fn message_global_and_headers_after_blank_lines_count() {
        let mut m = String::from("Subject: x\r\n\r\n");
        for _ in 0..40 {
            m.push_str("\r\n\r\nContent-Type: message/global\r\n\r\n\r\n");
        }
        assert!(prescan(m.as_bytes()).is_err());
        // Folded, odd case, blanks before the colon, lone CR line ends.
        let mut m = String::new();
        for _ in 0..40 {
            m.push_str("X: y\rcontent-TYPE \t:\r\n\tmessage/RFC822\r");
        }
        assert!(prescan(m.as_bytes()).is_err());
    }

    #[test]
    fn a_digest_counts_its_implicit_messages() {
        let mut m = String::from("Subject: d\r\n");
        for i in 0..20 {
            m.push_str(&format!("Content-Type: multipart/digest; boundary=g{i}\r\n\r\n--g{i}\r\n\r\n"));
        }
        assert!(prescan(m.as_bytes()).unwrap_err().contains("deeper than"));
    }

    #[test]
    fn an_outer_boundary_does_not_close_inner_levels() {
        // mail-parser looks only for the innermost boundary, so "--outer" lines inside
        // must not let the nesting count start again.
        let mut m = String::from("Content-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\n");
        for i in 0..40 {
            m.push_str(&format!("Content-Type: multipart/mixed; boundary=i{i}\r\n\r\n--i{i}\r\n--outer\r\n"));
        }
        assert!(prescan(m.as_bytes()).is_err());
    }

    #[test]
    fn too_many_parts_or_boundaries_are_refused() {
        let mut m = String::from("Content-Type: multipart/mixed; boundary=p\r\n\r\n");
        m.push_str(&"--p\r\n\r\nx\r\n".repeat(MAX_PARTS + 1));
        assert!(prescan(m.as_bytes()).unwrap_err().contains("parts"));
        // Delimiters in the middle of a line count too: mail-parser finds them there.
        let m = format!("Content-Type: multipart/mixed; boundary=p\r\n\r\n{}", "x--p".repeat(MAX_PARTS + 1));
        assert!(prescan(m.as_bytes()).unwrap_err().contains("parts"));
        let mut m = String::new();
        for i in 0..=MAX_BOUNDARIES {
            m.push_str(&format!("--z\r\nContent-Type: multipart/mixed; boundary=z{i}\r\n\r\n--z{i}--\r\n"));
        }
        assert!(prescan(m.as_bytes()).is_err());
    }

    #[test]
    fn boundaries_it_cannot_read_are_refused() {
        for ct in [
            "boundary*0=\"a\"; boundary*1=\"b\"",
            "boundary=\"a\\\"b\"",
            "boundary=a; boundary=b",
            "boundary=\"unterminated",
            "boundary=a\x01b",
        ] {
            let m = format!("Content-Type: multipart/mixed; {ct}\r\n\r\n");
            assert!(prescan(m.as_bytes()).is_err(), "{ct}");
        }
        // The word inside a value is no parameter.
        assert_eq!(prescan(b"Content-Type: multipart/mixed; boundary=\"----=_boundary_7\"\r\n\r\n"), Ok(()));
    }

    /// Does mail-parser itself recurse on deep nesting? It parses with an explicit
    /// stack, but the nested `Message` values it returns drop (and clone) by recursion.
    /// Nesting far past anything `prescan` lets through (2 × MAX_NESTING_HEADERS + 1)
    /// still parses and drops on a 2 MiB stack (the default for spawned threads).
    #[test]
    fn mail_parser_survives_the_bound() {
        let bound = 2 * MAX_NESTING_HEADERS + 1;
        assert!(parses_within(nested_messages(bound), 2 << 20));
        assert!(parses_within(nested_multiparts(bound), 2 << 20));
    }
}

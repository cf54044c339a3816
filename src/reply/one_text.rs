//! The commonest reply, parsed faster to exactly what mail-parser makes of it: one
//! text/plain body (quoted-printable, base64 or as it is), in UTF-8 or a charset
//! mail-parser reads as Windows-1252 (ISO-8859-1, US-ASCII, ...).
//!
//! mail-parser decodes a body a byte at a time through its stream, and converts a
//! Latin charset a character at a time: on a busy mailbox that was a third of all
//! ingest's work. Here mail-parser still reads the header block (its own function,
//! so the same header values and the same body offset), and only the body is
//! decoded, by runs between the bytes that matter, to the same bytes. Whatever this
//! path does not follow to the byte (an escape mail-parser reads in its own way,
//! another charset, a disposition, a nested type) is left to mail-parser's full
//! parse: [`parse`] answers `None` and the caller parses the usual way. The tests
//! hold every answer to mail-parser's own, on generated bodies and on the fuzz corpus.

use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::decoders::quoted_printable::HEX_MAP;
use mail_parser::parsers::MessageStream;
use mail_parser::{Encoding, GetHeader, HeaderName, HeaderValue, Message, MessageParser, MessagePart, PartType};
use std::borrow::Cow;
use std::sync::OnceLock;

/// The message as mail-parser's `parse` gives it, when it is one text/plain body
/// this path decodes exactly; `None` for everything else.
pub fn parse(raw: &[u8]) -> Option<Message<'_>> {
    let mut stream = MessageStream::new(raw);
    let mut headers = Vec::new();
    if !stream.parse_headers(&MessageParser::new(), &mut headers) {
        return None;
    }
    let offset_body = stream.offset();
    let body = raw.get(offset_body..)?;
    // A root part with no Content-Type is text/plain to mail-parser, as it is here;
    // one whose value does not parse is too.
    let content_type = headers.header_value(&HeaderName::ContentType).and_then(|v| v.as_content_type());
    if let Some(ct) = content_type
        && (ct.ctype() != "text" || ct.subtype() != Some("plain") || ct.has_attribute("name"))
    {
        return None;
    }
    // A disposition decides whether the part is inline or an attachment: left to
    // mail-parser.
    if headers.header(HeaderName::ContentDisposition).is_some() {
        return None;
    }
    let (encoding, decoded) = match headers.header_value(&HeaderName::ContentTransferEncoding) {
        Some(HeaderValue::Text(e)) if e.eq_ignore_ascii_case("quoted-printable") => {
            (Encoding::QuotedPrintable, Cow::Owned(quoted_printable(body)?))
        }
        Some(HeaderValue::Text(e)) if e.eq_ignore_ascii_case("base64") => (Encoding::Base64, Cow::Owned(base64(body)?)),
        // 7bit, 8bit, binary or an encoding nobody knows: the body as it is.
        _ => (Encoding::None, Cow::Borrowed(body)),
    };
    let text = match content_type.and_then(|ct| ct.attribute("charset")) {
        Some(label) if is_windows_1252(label) => Cow::Owned(windows_1252(&decoded)?),
        Some(label) if charset_decoder(label.as_bytes()).is_some() => return None,
        // UTF-8, or a charset nobody knows.
        _ => match decoded {
            Cow::Owned(bytes) => Cow::Owned(utf8(bytes)),
            Cow::Borrowed(bytes) => String::from_utf8_lossy(bytes),
        },
    };
    let part = MessagePart {
        headers,
        is_encoding_problem: false,
        body: PartType::Text(text),
        encoding,
        offset_header: 0,
        offset_body: u32::try_from(offset_body).ok()?,
        offset_end: u32::try_from(raw.len()).ok()?,
    };
    // A lone inline text part is the message's text body and, with no HTML beside
    // it, its HTML body too (RFC 8621's rule, which mail-parser follows).
    Some(Message { html_body: vec![0], text_body: vec![0], attachments: Vec::new(), parts: vec![part], raw_message: Cow::Borrowed(raw) })
}

/// What mail-parser does with decoded bytes in UTF-8 or an unknown charset.
fn utf8(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Charset labels mail-parser reads as Windows-1252 (WHATWG's reading of ISO-8859-1
/// and US-ASCII too). Listed rather than found by comparing decoders: the test holds
/// each one to mail-parser's decoder, byte by byte.
const WINDOWS_1252_LABELS: [&str; 12] = [
    "iso-8859-1",
    "iso8859-1",
    "iso_8859-1",
    "latin1",
    "l1",
    "us-ascii",
    "ascii",
    "windows-1252",
    "cp1252",
    "iso-ir-100",
    "csisolatin1",
    "ibm819",
];

fn is_windows_1252(label: &str) -> bool {
    WINDOWS_1252_LABELS.iter().any(|l| l.eq_ignore_ascii_case(label))
}

/// Windows-1252 to UTF-8: runs of ASCII are copied as they are, and each other byte
/// becomes the character mail-parser's own table gives it (read from its decoder
/// once per process, so the two cannot differ). The output is allocated once, for
/// the most it can take.
fn windows_1252(bytes: &[u8]) -> Option<String> {
    static HIGH: OnceLock<Option<Vec<char>>> = OnceLock::new();
    let high = HIGH
        .get_or_init(|| {
            let decode = charset_decoder(b"windows-1252")?;
            let table: Vec<char> = (0x80..=0xFFu8).map(|b| decode(&[b]).chars().next()).collect::<Option<_>>()?;
            (table.len() == 128).then_some(table)
        })
        .as_deref()?;
    // Every character of the table takes at most three bytes in UTF-8.
    let high_bytes = bytes.iter().filter(|b| !b.is_ascii()).count();
    let mut out = String::with_capacity(bytes.len() + 2 * high_bytes);
    let mut rest = bytes;
    while let Some((&b, after)) = rest.split_first() {
        if b.is_ascii() {
            let (ascii, after) = rest.split_at(ascii_prefix(rest));
            // ASCII is UTF-8: this checks what is known, at memory speed.
            out.push_str(std::str::from_utf8(ascii).ok()?);
            rest = after;
        } else {
            out.push(high[usize::from(b - 0x80)]);
            rest = after;
        }
    }
    Some(out)
}

/// How many bytes at the start are ASCII: checked 16 at a time (the standard
/// library's check reads words), then byte by byte in the block that is not.
fn ascii_prefix(bytes: &[u8]) -> usize {
    let from: usize = bytes.chunks(16).take_while(|block| block.is_ascii()).map(<[u8]>::len).sum();
    from + bytes[from..].iter().take_while(|b| b.is_ascii()).count()
}

/// Quoted-printable as mail-parser decodes a body that runs to the end of the
/// message: escapes decoded, soft line breaks joined, white space before a line end
/// dropped, CR dropped and every line end written as LF (CRLF once a CR has been
/// seen). `None` where mail-parser would read an escape its own way (a second '='
/// inside one, a broken escape, a line end inside one).
fn quoted_printable(body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len());
    let mut line_end: &[u8] = b"\n";
    // White space (space, tab, form feed) written since the last other byte: it is
    // taken back at a hard line end.
    let mut trailing = 0usize;
    let mut at = 0;
    while at < body.len() {
        // Line ends often come in a row: the search is started only when the next
        // byte is not one of them already.
        let run_end = match body[at] {
            b'=' | b'\r' | b'\n' => at,
            _ => crate::bytes::positions3(&body[at..], b'=', b'\r', b'\n').next().map_or(body.len(), |i| at + i),
        };
        let run = &body[at..run_end];
        if !run.is_empty() {
            out.extend_from_slice(run);
            let white = run.iter().rev().take_while(|&&b| is_qp_white(b)).count();
            trailing = if white == run.len() { trailing + white } else { white };
        }
        let Some(&special) = body.get(run_end) else { break };
        at = run_end + 1;
        match special {
            b'\r' => line_end = b"\r\n",
            b'\n' => {
                out.truncate(out.len().saturating_sub(trailing));
                out.extend_from_slice(line_end);
                trailing = 0;
            }
            _ => {
                // An escape: '=' then, ignoring white space, a line end (a soft
                // break), two hex digits, or another byte (kept as written).
                // A CR there is dropped and marks CRLF, as anywhere ("=\r\n" is the
                // soft break of CRLF mail).
                while let Some(&b) = body.get(at).filter(|&&b| is_qp_white(b) || b == b'\r') {
                    if b == b'\r' {
                        line_end = b"\r\n";
                    }
                    at += 1;
                }
                match body.get(at) {
                    // At the end: mail-parser writes nothing for it.
                    None => break,
                    Some(b'\n') => {
                        at += 1;
                        trailing = 0;
                    }
                    Some(b'=') => return None,
                    Some(&high) => match hex(high) {
                        Some(high) => match body.get(at + 1) {
                            None => break,
                            Some(&low) => {
                                out.push(high << 4 | hex(low)?);
                                at += 2;
                                trailing = 0;
                            }
                        },
                        None => {
                            out.extend_from_slice(&[b'=', high]);
                            at += 1;
                            trailing = 0;
                        }
                    },
                }
            }
        }
    }
    Some(out)
}

/// The white space mail-parser drops before a line end in quoted-printable (CR and
/// LF are read apart).
fn is_qp_white(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\x0C')
}

/// A hex digit as quoted-printable's escapes write it (either case), read with
/// mail-parser's own table, so the two cannot differ on which bytes are digits.
fn hex(b: u8) -> Option<u8> {
    u8::try_from(*HEX_MAP.get(usize::from(b))?).ok()
}

/// Base64 as mail-parser decodes a body that runs to the end of the message: white
/// space skipped, '=' ending a group (and decoding going on after it), a last group
/// left incomplete dropped. `None` for any other byte, and for '=' after a single
/// symbol, which mail-parser reads its own way.
fn base64(body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len() / 4 * 3);
    let mut group = 0u32;
    let mut symbols = 0u8;
    let mut at = 0;
    while at < body.len() {
        // Between groups, four symbols in a row (most of every line) are decoded at
        // once; anything else is read a byte at a time below.
        if symbols == 0 {
            while let Some(&[a, b, c, d]) = body.get(at..at + 4) {
                let (a, b, c, d) = (BASE64[a as usize], BASE64[b as usize], BASE64[c as usize], BASE64[d as usize]);
                if (a | b | c | d) >= 64 {
                    break;
                }
                let word = u32::from(a) << 18 | u32::from(b) << 12 | u32::from(c) << 6 | u32::from(d);
                out.extend_from_slice(&word.to_be_bytes()[1..]);
                at += 4;
            }
        }
        let Some(&byte) = body.get(at) else { break };
        at += 1;
        match BASE64[byte as usize] {
            value @ 0..64 => {
                group = group << 6 | u32::from(value);
                symbols += 1;
                if symbols == 4 {
                    out.extend_from_slice(&group.to_be_bytes()[1..]);
                    group = 0;
                    symbols = 0;
                }
            }
            WHITE => {}
            PAD => {
                match symbols {
                    0 => {}
                    2 => out.push((group >> 4) as u8),
                    3 => out.extend_from_slice(&[(group >> 10) as u8, (group >> 2) as u8]),
                    _ => return None,
                }
                group = 0;
                symbols = 0;
            }
            _ => return None,
        }
    }
    Some(out)
}

/// In [`BASE64`]: a byte skipped, the padding, a byte that is none of these.
const WHITE: u8 = 0xFE;
const PAD: u8 = 0xFD;
const INVALID: u8 = 0xFF;

/// Each byte's value as a base64 symbol (below 64), or what else it is.
static BASE64: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b' ' | b'\t' | b'\r' | b'\n' => WHITE,
            b'=' => PAD,
            _ => INVALID,
        };
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    /// mail-parser's own parse, the answer this path must give.
    fn full(raw: &[u8]) -> Option<Message<'_>> {
        MessageParser::default().parse(raw)
    }

    /// A small deterministic generator (xorshift), so a failure can be replayed.
    struct Dice(u64);

    impl Dice {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
            &from[self.below(from.len())]
        }
    }

    /// Quoted-printable as writers make it and as it breaks: escapes in either case,
    /// soft breaks in both line ends, white space at line ends, bare CRs, broken and
    /// doubled escapes, Latin-1 and UTF-8 bytes written raw.
    fn quoted_printable_body(dice: &mut Dice) -> Vec<u8> {
        const PIECES: [&[u8]; 25] = [
            b"Tak for jeres henvendelse",
            b"We have received your report",
            b" ",
            b"  ",
            b"\t",
            b"\x0C",
            b"\n",
            b"\r\n",
            b"\r",
            b"=\n",
            b"=\r\n",
            b"= \n",
            b"=  \r\n",
            b"=E6",
            b"=e6",
            b"=C3=A6",
            b"=20",
            b"=3D",
            b"=G",
            b"=\t",
            b"\xE6\xF8\xE5",
            b"\xC3\xA6",
            b"-",
            b"--",
            b"x",
        ];
        // What mail-parser reads its own way (this path leaves it to mail-parser):
        // rarer, so that most bodies are compared.
        const BROKEN: [&[u8]; 6] = [b"=", b"==", b"=4", b"=4\n", b"=4=", b"=4\r"];
        let mut body = Vec::new();
        for _ in 0..dice.below(40) {
            let piece = if dice.below(40) == 0 { *dice.pick(&BROKEN[..]) } else { *dice.pick(&PIECES[..]) };
            body.extend_from_slice(piece);
        }
        body
    }

    /// Base64 as writers fold it, and as it breaks: padding mid-stream, an
    /// incomplete last group, white space and line ends of both kinds, stray bytes.
    fn base64_body(dice: &mut Dice) -> Vec<u8> {
        const SYMBOLS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const OTHERS: [&[u8]; 7] = [b"=", b"==", b"\n", b"\r\n", b" ", b"\t", b"-"];
        let mut body = Vec::new();
        for _ in 0..dice.below(60) {
            if dice.below(12) == 0 {
                body.extend_from_slice(OTHERS[dice.below(OTHERS.len())]);
            } else {
                body.push(*dice.pick(SYMBOLS));
            }
        }
        body
    }

    fn message(dice: &mut Dice) -> Vec<u8> {
        const CONTENT_TYPES: [&str; 12] = [
            "",
            "Content-Type: text/plain\n",
            "Content-Type: text/plain; charset=utf-8\n",
            "Content-Type: text/plain; charset=\"iso-8859-1\"\n",
            "Content-Type: TEXT/Plain; charset=US-ASCII\n",
            "Content-Type: text/plain; charset=windows-1252; format=flowed\n",
            "Content-Type: text/plain; charset=iso-8859-15\n",
            "Content-Type: text/plain; charset=x-unknown\n",
            "Content-Type: text/plain; name=a.txt\n",
            "Content-Type: text/html; charset=utf-8\n",
            "Content-Type: application/octet-stream\n",
            "Content-Type: text/plain;\n charset=latin1\n",
        ];
        const ENCODINGS: [&str; 6] = [
            "Content-Transfer-Encoding: quoted-printable\n",
            "Content-Transfer-Encoding: Quoted-Printable\n",
            "Content-Transfer-Encoding: base64\n",
            "Content-Transfer-Encoding: BASE64\n",
            "Content-Transfer-Encoding: 8bit\n",
            "",
        ];
        const OTHERS: [&str; 4] = ["", "Content-Disposition: inline\n", "MIME-Version: 1.0\n", "Content-Transfer-Encoding: base64\n"];
        let mut head = format!(
            "From: cert@example.test\nSubject: Re: svar\nMessage-ID: <m{}@example.test>\n{}{}{}",
            dice.next() % 1000,
            dice.pick(&CONTENT_TYPES[..]),
            dice.pick(&ENCODINGS[..]),
            dice.pick(&OTHERS[..])
        );
        let crlf = dice.below(2) == 0;
        if crlf {
            head = head.replace('\n', "\r\n");
        }
        let mut raw = head.into_bytes();
        raw.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        let body = if raw.windows(6).any(|w| w.eq_ignore_ascii_case(b"base64")) { base64_body(dice) } else { quoted_printable_body(dice) };
        raw.extend_from_slice(&body);
        raw
    }

    #[test]
    fn generated_messages_parse_as_mail_parser_parses_them() {
        let mut dice = Dice(0x9E37_79B9_7F4A_7C15);
        let (mut taken, tries) = (0, 40_000);
        for _ in 0..tries {
            let raw = message(&mut dice);
            if let Some(fast) = parse(&raw) {
                taken += 1;
                assert_eq!(Some(fast), full(&raw), "{}", String::from_utf8_lossy(&raw));
            }
        }
        // Most of what is generated is for this path, so the comparison above ran.
        assert!(taken > tries / 5, "only {taken} of {tries} generated messages took this path");
    }

    #[test]
    fn the_fuzz_corpus_parses_as_mail_parser_parses_it() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/ingest");
        let mut taken = 0;
        for entry in std::fs::read_dir(&dir).expect("the fuzz corpus is in the repository") {
            let path = entry.unwrap().path();
            let raw = std::fs::read(&path).unwrap();
            if let Some(fast) = parse(&raw) {
                taken += 1;
                assert_eq!(Some(fast), full(&raw), "{}", path.display());
            }
        }
        assert!(taken > 0, "no message of the fuzz corpus took this path");
    }

    #[test]
    fn blind_replies_parse_as_mail_parser_parses_them() {
        // Written by someone who had not read this code, from how mail clients,
        // ticketing systems, Python and attackers write single-part replies.
        use base64::Engine as _;
        let cases: Vec<serde_json::Value> = serde_json::from_str(include_str!("../../tests/fixtures/one-text-replies.json")).unwrap();
        let mut taken = 0;
        for case in &cases {
            let raw = base64::engine::general_purpose::STANDARD.decode(case["raw_b64"].as_str().unwrap()).unwrap();
            if let Some(fast) = parse(&raw) {
                taken += 1;
                assert_eq!(Some(fast), full(&raw), "{}", case["name"]);
            }
        }
        assert!(cases.len() >= 30 && taken >= cases.len() / 2, "{taken} of {} took this path", cases.len());
    }

    /// Replies as Python's email package and common clients write them (one text
    /// part, quoted-printable Latin-1, base64 UTF-8) take this path.
    #[test]
    fn ordinary_replies_take_this_path() {
        let replies: [&[u8]; 3] = [
            b"Content-Type: text/plain; charset=\"iso-8859-1\"\nMIME-Version: 1.0\nContent-Transfer-Encoding: quoted-printable\nFrom: cert@example.test\nSubject: Re: svar\nMessage-ID: <a@example.test>\n\nVi har modtaget jeres underretning og ser p=E5 den. H=E6ndelsen er =\noprettet.\n",
            b"Content-Type: text/plain; charset=\"utf-8\"\r\nMIME-Version: 1.0\r\nContent-Transfer-Encoding: base64\r\nSubject: Re: svar\r\n\r\nVGFrIGZvciBqZXJlcyBoZW52ZW5kZWxzZS4gVmkgaGFyIG1vZHRhZ2V0IGRlbi4=\r\n",
            b"Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: quoted-printable\n\nThank you for your notification.=20\nRegards\n",
        ];
        for raw in replies {
            let fast = parse(raw).expect("takes this path");
            assert_eq!(Some(fast), full(raw));
        }
    }

    #[test]
    fn each_windows_1252_label_is_one_mail_parser_reads_as_windows_1252() {
        let all: Vec<u8> = (0..=255).collect();
        let reference = charset_decoder(b"windows-1252").unwrap()(&all);
        for label in WINDOWS_1252_LABELS {
            assert!(is_windows_1252(&label.to_uppercase()), "{label}");
            let decode = charset_decoder(label.as_bytes()).unwrap_or_else(|| panic!("{label} is a charset mail-parser knows"));
            assert_eq!(decode(&all), reference, "{label}");
        }
        assert_eq!(windows_1252(&all).unwrap(), reference);
        // Near misses are not taken for it: they read other bytes as other characters.
        for other in ["iso-8859-15", "iso-8859-2", "windows-1250", "utf-8"] {
            assert!(!is_windows_1252(other), "{other}");
            assert_ne!(charset_decoder(other.as_bytes()).map(|decode| decode(&all)).as_ref(), Some(&reference), "{other}");
        }
    }
}

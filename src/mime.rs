//! MIME for notifications: the inner entity that gets signed and encrypted (with the
//! protected headers of RFC 9788 / "protected-headers=v1"), and the RFC 3156
//! multipart/encrypted message around the ciphertext. Pure: no files (attachments
//! arrive as readers), no clock, no randomness (boundaries derive from the Message-ID); every line ends in CRLF.

use std::io::{self, Write};

use base64::Engine;

/// The neutral Subject that travels in cleartext, after the reference tag.
pub const NEUTRAL_SUBJECT: &str = "Encrypted message";

/// A name and address, as in `From:` and `To:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: String,
    pub address: String,
}

/// A file carried inside the encrypted part, read while the message is written so
/// that a large one is never held in memory whole.
pub struct Attachment {
    pub file_name: String,
    pub content: Box<dyn io::Read>,
}

/// Headers shared by the inner entity and the outer message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headers {
    pub from: Mailbox,
    pub to: Mailbox,
    /// The real subject: only ever inside the encrypted part.
    pub subject: String,
    /// RFC 5322 date, e.g. `Sun, 22 Nov 2026 12:00:00 +0000`.
    pub date: String,
    /// Without angle brackets.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// The reference tag shown in the cleartext Subject, e.g. `CM-2026-0001`.
    pub reference: String,
    /// The incident log's head before this notification, carried only inside the
    /// encryption (`X-Certmail-Log-Head`): the recipient's copy is then a witness of
    /// the log that an attacker on the reporter's machine cannot rewrite.
    pub log_head: Option<crate::anchor::LogHead>,
}

/// Writes the inner entity (the plaintext that is signed and encrypted).
pub fn write_inner(headers: &Headers, body: &str, attachments: Vec<Attachment>, out: &mut dyn Write) -> io::Result<()> {
    let boundary = boundary(&headers.message_id, "inner");
    write!(out, "Content-Type: multipart/mixed; boundary=\"{boundary}\"; protected-headers=\"v1\"\r\n")?;
    write_common_headers(headers, &headers.subject, out)?;
    if let Some(head) = &headers.log_head {
        write!(out, "{}: {}\r\n", crate::anchor::HEADER, sanitize_header(&head.header_value()))?;
    }
    out.write_all(b"\r\n")?;
    write!(out, "--{boundary}\r\n")?;
    out.write_all(b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")?;
    write_quoted_printable(body, out)?;
    for a in attachments {
        write!(out, "\r\n--{boundary}\r\n")?;
        let name = parameter_value(&a.file_name);
        write!(out, "Content-Type: {}; name{name}\r\n", content_type_for(&a.file_name))?;
        write!(out, "Content-Disposition: attachment; filename{name}\r\n")?;
        out.write_all(b"Content-Transfer-Encoding: base64\r\n\r\n")?;
        write_base64_lines(a.content, out)?;
    }
    write!(out, "\r\n--{boundary}--\r\n")
}

/// The size of the inner entity, computed without building it: used to refuse an
/// oversized message before any work is done.
pub fn estimated_inner_size(body_len: usize, attachment_sizes: &[u64]) -> u64 {
    let text = body_len as u64 * 3 / 2 + 2048;
    text + attachment_sizes.iter().map(|s| s.div_ceil(57) * 78 + 512).sum::<u64>()
}

/// The outer message up to where the armored ciphertext starts.
pub fn outer_head(headers: &Headers) -> String {
    let boundary = boundary(&headers.message_id, "outer");
    let mut out = Vec::new();
    let cleartext_subject = format!("[{}] {NEUTRAL_SUBJECT}", sanitize_header(&headers.reference));
    // Writing to a Vec cannot fail.
    let _ = write_common_headers(headers, &cleartext_subject, &mut out);
    let mut head = String::from_utf8(out).unwrap_or_default();
    head.push_str("MIME-Version: 1.0\r\n");
    head.push_str(&format!("Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"{boundary}\"\r\n\r\n"));
    head.push_str("This is an OpenPGP/MIME encrypted message (RFC 3156).\r\n");
    head.push_str(&format!("--{boundary}\r\n"));
    head.push_str(
        "Content-Type: application/pgp-encrypted\r\nContent-Description: PGP/MIME version identification\r\n\r\nVersion: 1\r\n\r\n",
    );
    head.push_str(&format!("--{boundary}\r\n"));
    head.push_str("Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n");
    head.push_str("Content-Description: OpenPGP encrypted message\r\n");
    head.push_str("Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n");
    head
}

/// The outer message after the armored ciphertext.
pub fn outer_tail(headers: &Headers) -> String {
    format!("\r\n--{}--\r\n", boundary(&headers.message_id, "outer"))
}

fn write_common_headers(h: &Headers, subject: &str, out: &mut dyn Write) -> io::Result<()> {
    write!(out, "From: {}\r\n", format_mailbox(&h.from))?;
    write!(out, "To: {}\r\n", format_mailbox(&h.to))?;
    write!(out, "Subject: {}\r\n", encode_header_text(subject))?;
    write!(out, "Date: {}\r\n", sanitize_header(&h.date))?;
    write!(out, "Message-ID: <{}>\r\n", sanitize_header(&h.message_id))?;
    if let Some(irt) = &h.in_reply_to {
        write!(out, "In-Reply-To: <{}>\r\n", sanitize_header(irt))?;
    }
    if !h.references.is_empty() {
        let refs: Vec<String> = h.references.iter().map(|r| format!("<{}>", sanitize_header(r))).collect();
        write!(out, "References: {}\r\n", refs.join("\r\n "))?;
    }
    Ok(())
}

/// A boundary that cannot occur in base64 or quoted-printable content ("=_" is
/// impossible in both), derived from the Message-ID so output is reproducible.
fn boundary(message_id: &str, part: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in message_id.bytes().chain(part.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("=_certmail_{part}_{h:016x}")
}

/// Header values never carry CR, LF or NUL: a value cannot start a new header.
pub fn sanitize_header(value: &str) -> String {
    value.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// `Name <address>`, with the name quoted or RFC 2047-encoded as needed.
pub fn format_mailbox(m: &Mailbox) -> String {
    let address = sanitize_header(&m.address).replace([' ', '<', '>'], "");
    let name = sanitize_header(&m.name);
    if name.trim().is_empty() {
        return format!("<{address}>");
    }
    if name.is_ascii() {
        let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{escaped}\" <{address}>")
    } else {
        format!("{} <{address}>", encoded_words(&name))
    }
}

/// Unstructured header text: as is when plain ASCII, else RFC 2047 encoded-words.
fn encode_header_text(text: &str) -> String {
    let clean = sanitize_header(text);
    if clean.is_ascii() && clean.len() <= 900 { clean } else { encoded_words(&clean) }
}

/// RFC 2047 "B" encoded-words of at most 75 characters, split on character
/// boundaries and folded onto continuation lines.
fn encoded_words(text: &str) -> String {
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        // 45 bytes of UTF-8 become 60 base64 characters: 72 with the wrapper.
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    words.iter().map(|w| format!("=?UTF-8?B?{}?=", b64.encode(w.as_bytes()))).collect::<Vec<_>>().join("\r\n ")
}

/// `="name"` or, for names that are not plain ASCII, RFC 2231 `*=UTF-8''...`.
fn parameter_value(name: &str) -> String {
    let clean: String = sanitize_header(name).chars().filter(|c| !matches!(c, '/' | '\\')).collect();
    if clean.is_ascii() && !clean.contains('"') {
        format!("=\"{clean}\"")
    } else {
        let mut encoded = String::new();
        for b in clean.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                encoded.push(b as char);
            } else {
                encoded.push_str(&format!("%{b:02X}"));
            }
        }
        format!("*=UTF-8''{encoded}")
    }
}

fn content_type_for(file_name: &str) -> &'static str {
    let ext = file_name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "txt" | "log" | "ioc" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "json" => "application/json",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "pcap" | "pcapng" => "application/vnd.tcpdump.pcap",
        _ => "application/octet-stream",
    }
}

fn write_base64_lines(mut content: Box<dyn io::Read>, out: &mut dyn Write) -> io::Result<()> {
    // 57 input bytes make one 76-character line; read whole lines' worth at a time.
    const LINE_INPUT: usize = 57;
    const LINES: usize = 1024;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut input = vec![0u8; LINE_INPUT * LINES];
    let mut encoded = Vec::with_capacity(78 * LINES);
    loop {
        let filled = read_full(&mut content, &mut input)?;
        encoded.clear();
        for chunk in input[..filled].chunks(LINE_INPUT) {
            let mut line = [0u8; 76];
            let n = b64.encode_slice(chunk, &mut line).map_err(io::Error::other)?;
            encoded.extend_from_slice(&line[..n]);
            encoded.extend_from_slice(b"\r\n");
        }
        out.write_all(&encoded)?;
        if filled < input.len() {
            return Ok(());
        }
    }
}

/// Fills `buf` unless the reader ends first; returns how much was read.
fn read_full(reader: &mut dyn io::Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Quoted-printable (RFC 2045) with CRLF line ends. Lines starting with "." or
/// "From " are encoded too, so no relay or mbox rewrites them.
pub fn write_quoted_printable(text: &str, out: &mut dyn Write) -> io::Result<()> {
    let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
    for line in normalised.split_inclusive('\n') {
        let (content, newline) = match line.strip_suffix('\n') {
            Some(c) => (c, true),
            None => (line, false),
        };
        let mut encoded = String::with_capacity(content.len() + 8);
        let mut width = 0;
        let bytes = content.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            let last = i + 1 == bytes.len();
            let literal = (b == b'\t' || b == b' ') && !last
                || (33..=126).contains(&b) && b != b'=' && !(i == 0 && b == b'.') && !(i == 0 && b == b'F' && content.starts_with("From "));
            let piece = if literal { (b as char).to_string() } else { format!("={b:02X}") };
            if width + piece.len() > 75 {
                encoded.push_str("=\r\n");
                width = 0;
            }
            width += piece.len();
            encoded.push_str(&piece);
        }
        out.write_all(encoded.as_bytes())?;
        if newline {
            out.write_all(b"\r\n")?;
        }
    }
    Ok(())
}

/// Position of the first CR not followed by LF, or LF not preceded by CR.
pub fn first_bare_line_end(bytes: &[u8]) -> Option<usize> {
    let mut check = LineEndCheck::default();
    check.update(bytes);
    check.finish().map(|at| at as usize)
}

/// Finds the first bare CR or LF in a stream fed in pieces of any size: the guard
/// against the SMTP-smuggling class of bugs, run on every byte before it is queued.
#[derive(Debug, Default)]
pub struct LineEndCheck {
    offset: u64,
    after_cr: bool,
    first_bare: Option<u64>,
}

impl LineEndCheck {
    pub fn update(&mut self, bytes: &[u8]) {
        if self.first_bare.is_none() {
            self.first_bare = self.scan(bytes);
        }
        self.offset += bytes.len() as u64;
    }

    /// The offset of the first bare line end, if any (a CR at the very end is one).
    pub fn finish(&self) -> Option<u64> {
        self.first_bare.or_else(|| self.after_cr.then(|| self.offset - 1))
    }

    fn scan(&mut self, bytes: &[u8]) -> Option<u64> {
        let mut pos = 0;
        if self.after_cr && !bytes.is_empty() {
            self.after_cr = false;
            if bytes[0] != b'\n' {
                return Some(self.offset - 1);
            }
            pos = 1;
        }
        while let Some(k) = crate::bytes::find_line_end(&bytes[pos..]) {
            let at = pos + k;
            if bytes[at] == b'\n' {
                // Every CR LF pair is stepped over whole, so this LF has no CR.
                return Some(self.offset + at as u64);
            }
            match bytes.get(at + 1) {
                Some(b'\n') => pos = at + 2,
                Some(_) => return Some(self.offset + at as u64),
                None => {
                    self.after_cr = true;
                    return None;
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers() -> Headers {
        Headers {
            from: Mailbox { name: "Jens Ærø".into(), address: "soc@example.dk".into() },
            to: Mailbox { name: "CFCS".into(), address: "cert@cert.cfcs.dk".into() },
            subject: "[CM-2026-0001] Sikkerhedshændelse: ransomware på filserver".into(),
            date: "Sun, 22 Nov 2026 12:00:00 +0000".into(),
            message_id: "abc.certmail@example.dk".into(),
            in_reply_to: Some("prev@example.dk".into()),
            references: vec!["first@example.dk".into(), "prev@example.dk".into()],
            reference: "CM-2026-0001".into(),
            log_head: None,
        }
    }

    fn inner(body: &str, attachments: Vec<Attachment>) -> String {
        let mut out = Vec::new();
        write_inner(&headers(), body, attachments, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn bare_line_ends_are_found_however_the_stream_is_cut() {
        let cases: &[(&[u8], Option<u64>)] = &[
            (b"", None),
            (b"a\r\nb\r\n", None),
            (b"a\nb", Some(1)),
            (b"a\rb", Some(1)),
            (b"a\r\n\r", Some(3)),
            (b"\n", Some(0)),
            (b"\r\r\n", Some(0)),
        ];
        let long: Vec<u8> = b"x".repeat(200).into_iter().chain(*b"\r\n").chain(b"y".repeat(100)).chain(*b"\n").collect();
        for (input, expected) in cases.iter().copied().chain([(&long[..], Some(302))]) {
            for cut in 0..=input.len() {
                let mut check = LineEndCheck::default();
                check.update(&input[..cut]);
                check.update(&input[cut..]);
                assert_eq!(check.finish(), expected, "{:?} cut at {cut}", String::from_utf8_lossy(input));
            }
        }
    }

    #[test]
    fn every_line_ends_in_crlf() {
        let text =
            inner("a\nb\r\nc\rd\n", vec![Attachment { file_name: "x.bin".into(), content: Box::new(io::Cursor::new(vec![0; 200])) }]);
        let head = outer_head(&headers()) + &outer_tail(&headers());
        for s in [text, head] {
            let bytes = s.as_bytes();
            for (i, &b) in bytes.iter().enumerate() {
                if b == b'\n' {
                    assert_eq!(bytes[i - 1], b'\r', "bare LF at {i}");
                }
                if b == b'\r' {
                    assert_eq!(bytes[i + 1], b'\n', "bare CR at {i}");
                }
            }
        }
    }

    #[test]
    fn outer_head_carries_no_incident_detail() {
        let head = outer_head(&headers());
        assert!(head.contains("Subject: [CM-2026-0001] Encrypted message\r\n"));
        assert!(!head.contains("ransomware"));
        assert!(head.contains("protocol=\"application/pgp-encrypted\""));
        assert!(head.contains("In-Reply-To: <prev@example.dk>"));
    }

    #[test]
    fn inner_has_protected_headers_and_encoded_subject() {
        let text = inner("Hej", vec![]);
        assert!(text.starts_with("Content-Type: multipart/mixed; boundary=\"=_certmail_inner_"));
        assert!(text.contains("protected-headers=\"v1\""));
        assert!(text.contains("Subject: =?UTF-8?B?"));
        assert!(text.contains("From: =?UTF-8?B?"));
        assert!(text.contains("Message-ID: <abc.certmail@example.dk>"));
    }

    #[test]
    fn the_log_head_travels_only_inside_the_encryption() {
        let mut h = headers();
        h.log_head = Some(crate::anchor::LogHead { count: 7, hash: "0f".repeat(32) });
        let mut out = Vec::new();
        write_inner(&h, "Hej", vec![], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let head = text.split("\r\n\r\n").next().unwrap();
        assert!(head.contains(&format!("\r\nX-Certmail-Log-Head: 7 {}", "0f".repeat(32))), "{head}");
        assert!(!outer_head(&h).contains("Log-Head"));
    }

    #[test]
    fn header_values_cannot_inject_headers() {
        let mut h = headers();
        h.subject = "x\r\nBcc: evil@example.com".into();
        h.from.name = "Eve\r\nBcc: evil@example.com".into();
        let mut out = Vec::new();
        write_inner(&h, "", vec![], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("\r\nBcc:"), "{text}");
    }

    /// Property: whatever the header values hold (CR, LF, NUL, colons, non-ASCII),
    /// the header block of both the inner and the outer message has exactly the
    /// expected header names, one each, and every line ends in CRLF.
    #[test]
    fn no_header_value_can_inject_a_header() {
        let alphabet: Vec<char> = "ab: \r\n\0\tÆø<>\"=?Bcc".chars().collect();
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut random_text = |len: usize| -> String {
            (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect()
        };
        for _ in 0..2000 {
            let mut h = headers();
            h.subject = random_text(40);
            h.from.name = random_text(12);
            h.to.name = random_text(12);
            h.reference = random_text(8);
            h.message_id = random_text(10);
            h.in_reply_to = Some(random_text(10));
            h.references = vec![random_text(10)];
            let mut inner = Vec::new();
            write_inner(&h, "body", vec![], &mut inner).unwrap();
            let outer = outer_head(&h);
            for message in [String::from_utf8(inner).unwrap(), outer] {
                let head = message.split("\r\n\r\n").next().unwrap();
                assert!(!head.replace("\r\n", "").contains(['\r', '\n', '\0']), "{head:?}");
                let names: Vec<&str> = head.split("\r\n").filter(|l| !l.starts_with(' ')).map(|l| l.split(':').next().unwrap()).collect();
                let mut expected = vec!["From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References"];
                if names[0] == "Content-Type" {
                    expected.insert(0, "Content-Type");
                } else {
                    expected.extend(["MIME-Version", "Content-Type"]);
                }
                assert_eq!(names, expected, "{head:?}");
            }
        }
    }

    #[test]
    fn quoted_printable_round_trips_and_protects_line_starts() {
        let body = ".hidden\nFrom here\nÆble = pære  \n".to_string() + &"x".repeat(200);
        let mut out = Vec::new();
        write_quoted_printable(&body, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("=2Ehidden\r\n=46rom here\r\n=C3=86ble =3D p=C3=A6re =20\r\n"), "{text}");
        assert!(text.lines().all(|l| l.len() <= 76));
    }

    #[test]
    fn long_non_ascii_subject_is_split_into_short_words() {
        let words = encoded_words(&"æ".repeat(100));
        assert!(words.split("\r\n ").all(|w| w.len() <= 75));
    }
}

//! The only mail-parser user: turns a received message into what ingest needs (ids
//! for correlation, auto-reply and bounce signs, and the content to decrypt, verify
//! and classify), within fixed limits. Pure: bytes in, a value out, never a panic.

mod classify;
pub mod limits;
mod mbox;

pub use classify::{Kind, cert_case_number, classify_text, references_in};
pub use mbox::split_mbox;

use crate::bytes;
use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders, PartType};

/// Larger messages are refused unread.
pub const MAX_MESSAGE_BYTES: usize = 25 * 1024 * 1024;
/// Header block size cap.
pub const MAX_HEADER_BYTES: usize = 256 * 1024;
/// MIME part count and nesting caps.
pub const MAX_PARTS: usize = 1000;
pub const MAX_DEPTH: usize = 32;

/// What a received message holds, for ingest.
#[derive(Debug, Clone)]
pub struct Mail {
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub subject: String,
    pub from: Option<String>,
    /// RFC 3834 Auto-Submitted or a vendor's auto-reply header.
    pub auto_reply: bool,
    pub content: Content,
}

#[derive(Debug, Clone)]
pub enum Content {
    /// Plain text (HTML-only mail gives its text with the markup removed, never rendered).
    Text { text: String },
    /// An OpenPGP message: RFC 3156 multipart/encrypted or inline armor in the text.
    Encrypted { payload: Vec<u8> },
    /// RFC 3156 multipart/signed; `whole` when it is the entire message.
    Signed { signed: Vec<u8>, signature: Vec<u8>, text: String, whole: bool },
    /// Inline "BEGIN PGP SIGNED MESSAGE"; `whole` when nothing is around it.
    InlineSigned { armored: Vec<u8>, whole: bool },
    /// RFC 3464 delivery status notification.
    Bounce { failed: bool, original_message_id: Option<String>, status: Option<String> },
}

fn ids(value: &HeaderValue) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(list) => list.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn header_text(message: &Message, name: &str) -> Option<String> {
    message.header_raw(name).map(|v| v.trim().to_string())
}

/// Parses a message; an `Err` says why it is malformed or over a limit.
pub fn parse(raw: &[u8]) -> Result<Mail, String> {
    if raw.is_empty() {
        return Err("empty message".into());
    }
    if raw.len() > MAX_MESSAGE_BYTES {
        return Err(format!("larger than {MAX_MESSAGE_BYTES} bytes"));
    }
    let header_end = bytes::find(raw, b"\r\n\r\n").or_else(|| bytes::find(raw, b"\n\n")).unwrap_or(raw.len());
    if header_end > MAX_HEADER_BYTES {
        return Err(format!("header block larger than {MAX_HEADER_BYTES} bytes"));
    }
    let message = MessageParser::default().parse(raw).ok_or("not a mail message")?;
    if message.headers().is_empty() {
        return Err("no headers".into());
    }
    if message.parts.len() > MAX_PARTS {
        return Err(format!("more than {MAX_PARTS} MIME parts"));
    }
    if depth(&message) > MAX_DEPTH {
        return Err(format!("MIME nesting deeper than {MAX_DEPTH}"));
    }
    let auto_reply = is_auto_reply(&message);
    let content = content(&message, raw)?;
    Ok(Mail {
        message_id: message.message_id().map(str::to_string),
        in_reply_to: ids(message.in_reply_to()),
        references: ids(message.references()),
        subject: message.subject().unwrap_or_default().to_string(),
        from: message.from().and_then(|a| a.first()).and_then(|a| a.address()).map(str::to_string),
        auto_reply,
        content,
    })
}

/// Nesting depth of the part tree, walked without recursion.
fn depth(message: &Message) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(0usize, 1usize)];
    let mut seen = 0;
    while let Some((id, d)) = stack.pop() {
        seen += 1;
        if seen > MAX_PARTS * 2 {
            break;
        }
        deepest = deepest.max(d);
        if let Some(PartType::Multipart(children)) = message.parts.get(id).map(|p| &p.body) {
            stack.extend(children.iter().map(|c| (*c as usize, d + 1)));
        }
    }
    deepest
}

fn is_auto_reply(message: &Message) -> bool {
    let auto_submitted = header_text(message, "Auto-Submitted").is_some_and(|v| !v.eq_ignore_ascii_case("no"));
    let precedence =
        header_text(message, "Precedence").is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "auto_reply" | "bulk" | "junk"));
    let vendor = ["X-Autoreply", "X-Autorespond", "X-Auto-Reply", "X-AutoReply-From", "X-Mail-Autoreply"]
        .iter()
        .any(|h| message.header_raw(*h).is_some());
    auto_submitted || precedence || vendor
}

fn content_type_is(part: &mail_parser::MessagePart, ctype: &str, subtype: &str) -> bool {
    part.content_type()
        .is_some_and(|ct| ct.ctype().eq_ignore_ascii_case(ctype) && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case(subtype)))
}

fn content(message: &Message, raw: &[u8]) -> Result<Content, String> {
    let root = message.root_part();
    if content_type_is(root, "multipart", "encrypted") {
        let payload = child(message, root, 1).ok_or("multipart/encrypted without its encrypted part")?.contents().to_vec();
        return Ok(Content::Encrypted { payload });
    }
    if content_type_is(root, "multipart", "signed") {
        return signed(message, root, raw, true);
    }
    if content_type_is(root, "multipart", "report") {
        return Ok(bounce(message, raw));
    }
    // A signed part somewhere below: verified, but it does not cover the whole message.
    for part in &message.parts {
        if content_type_is(part, "multipart", "signed") {
            return signed(message, part, raw, false);
        }
    }
    let text = body_text(message);
    // Every plain reply is searched for these whole: memchr's SIMD search, not str::find.
    let find = |needle: &str, from: usize| bytes::find(&text.as_bytes()[from..], needle.as_bytes()).map(|i| from + i);
    if let Some(start) = find("-----BEGIN PGP MESSAGE-----", 0) {
        let end = find("-----END PGP MESSAGE-----", start).map(|e| e + 25).ok_or("truncated PGP message")?;
        return Ok(Content::Encrypted { payload: text.as_bytes()[start..end].to_vec() });
    }
    if let Some(start) = find("-----BEGIN PGP SIGNED MESSAGE-----", 0) {
        let end = find("-----END PGP SIGNATURE-----", start).map(|e| e + 27).ok_or("truncated signed message")?;
        let whole = text[..start].trim().is_empty() && text[end..].trim().is_empty();
        return Ok(Content::InlineSigned { armored: text.as_bytes()[start..end].to_vec(), whole });
    }
    Ok(Content::Text { text })
}

fn child<'a>(message: &'a Message, part: &mail_parser::MessagePart, index: usize) -> Option<&'a mail_parser::MessagePart<'a>> {
    match &part.body {
        PartType::Multipart(children) => children.get(index).and_then(|id| message.parts.get(*id as usize)),
        _ => None,
    }
}

fn signed(message: &Message, part: &mail_parser::MessagePart, raw: &[u8], whole: bool) -> Result<Content, String> {
    let first = child(message, part, 0).ok_or("multipart/signed without content")?;
    let signature = child(message, part, 1).ok_or("multipart/signed without signature")?.contents().to_vec();
    // mail-parser's part ends before the CRLF that belongs to the next boundary,
    // which is exactly the signed data of RFC 3156.
    let start = first.offset_header as usize;
    let end = (first.offset_end as usize).min(raw.len());
    if start > end {
        return Err("broken multipart/signed offsets".into());
    }
    let signed = canonical_crlf(&raw[start..end]);
    let text = match &first.body {
        PartType::Text(t) => t.to_string(),
        _ => first.text_contents().map(str::to_string).unwrap_or_else(|| String::from_utf8_lossy(first.contents()).into_owned()),
    };
    Ok(Content::Signed { signed, signature, text, whole })
}

/// RFC 3156: signatures are over the part with CRLF line ends.
fn canonical_crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 40);
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' && (i == 0 || bytes[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

fn bounce(message: &Message, raw: &[u8]) -> Content {
    let mut action = None;
    let mut status = None;
    for part in &message.parts {
        if content_type_is(part, "message", "delivery-status") {
            let text = String::from_utf8_lossy(part.contents()).into_owned();
            for line in text.lines() {
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("action:") {
                    let v = v.trim().to_string();
                    // "failed" anywhere wins over "delayed".
                    if action.as_deref() != Some("failed") {
                        action = Some(v);
                    }
                } else if let Some(v) = lower.strip_prefix("status:") {
                    status.get_or_insert_with(|| v.trim().to_string());
                }
            }
        }
    }
    let own = message.message_id().unwrap_or_default().to_string();
    let text = String::from_utf8_lossy(raw);
    let original_message_id = text
        .lines()
        .filter_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.trim().eq_ignore_ascii_case("message-id").then(|| value.trim().trim_matches(['<', '>']).to_string())
        })
        .find(|id| !id.is_empty() && *id != own);
    Content::Bounce { failed: action.as_deref() != Some("delayed"), original_message_id, status }
}

/// The readable text of a message: text/plain parts, else HTML with its markup
/// stripped (for classification only; nothing is ever rendered).
fn body_text(message: &Message) -> String {
    let mut text = String::new();
    for i in 0..message.text_body_count() {
        if let Some(t) = message.body_text(i) {
            text.push_str(&t);
            text.push('\n');
        }
    }
    if text.trim().is_empty() {
        for id in &message.html_body {
            if let Some(PartType::Html(html)) = message.parts.get(*id as usize).map(|p| &p.body) {
                text.push_str(&strip_tags(html));
            }
        }
    }
    text
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_never_panics() {
        for input in [&b""[..], b"\0\0\0", b"Subject: x", b"Content-Type: multipart/signed; boundary=b\r\n\r\n--b\r\n", &[0xff; 300][..]] {
            let _ = parse(input);
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut m = String::from("Subject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n");
        for i in 0..1000 {
            m.push_str(&format!("--b{i}\r\nContent-Type: multipart/mixed; boundary=b{}\r\n\r\n", i + 1));
        }
        assert!(parse(m.as_bytes()).is_err());
    }

    #[test]
    fn auto_replies_and_threading_ids() {
        let m = parse(b"Message-ID: <r1@x>\r\nIn-Reply-To: <a@b>\r\nReferences: <z@b> <a@b>\r\nAuto-Submitted: auto-replied\r\nSubject: Out of office\r\n\r\nAway.\r\n").unwrap();
        assert!(m.auto_reply);
        assert_eq!(m.in_reply_to, vec!["a@b"]);
        assert_eq!(m.references, vec!["z@b", "a@b"]);
        let m = parse(b"Subject: hi\r\nAuto-Submitted: no\r\n\r\nx\r\n").unwrap();
        assert!(!m.auto_reply);
    }
}

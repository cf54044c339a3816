//! The log anchor: the head of the incident log's hash chain (how many events, the
//! hash of the last) as a statement kept outside the database, and reading one back
//! from what a person kept: the signed statement (as text or as `log anchor --json`),
//! or a decrypted notification, whose inner part carries the head as it was before
//! the notification was recorded.
//!
//! Pure: signing and checking the signature belong to `crypto`, the chain to `store`.

/// The protected header (inside the encryption) that carries the head in every
/// notification, so the CERT's copy witnesses the log as it was.
pub const HEADER: &str = "X-Certmail-Log-Head";

/// The first line of an anchor statement: what the signed text is.
const TITLE: &str = "certmail incident log anchor";

/// The head of the hash chain: the number of events, and the last one's hash (the
/// chain's genesis value when there are none).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogHead {
    pub count: i64,
    pub hash: String,
}

impl LogHead {
    /// As the notification header carries it: `<count> <sha256>`.
    pub fn header_value(&self) -> String {
        format!("{} {}", self.count, self.hash)
    }

    fn parse_header_value(text: &str) -> Option<LogHead> {
        let mut words = text.split_whitespace();
        let count = words.next()?.parse().ok().filter(|c: &i64| *c >= 0)?;
        let hash = words.next().filter(|h| is_sha256_hex(h))?.to_string();
        words.next().is_none().then_some(LogHead { count, hash })
    }
}

fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// What an anchor says, the text that is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub head: LogHead,
    /// When the anchor was taken (the store's timestamp format).
    pub at: String,
    /// Which log, for the person reading it (not checked: a log may move).
    pub log: String,
}

impl Statement {
    /// The statement as signed: one `name: value` per line, no trailing spaces (the
    /// cleartext signature framework would not cover them).
    pub fn text(&self) -> String {
        let log: String = self.log.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        format!("{TITLE}\nevents: {}\nhead: {}\nat: {}\nlog: {}\n", self.head.count, self.head.hash, self.at, log.trim_end())
    }

    /// Reads a statement back, from the text its signature covers.
    pub fn parse(text: &str) -> Result<Statement, String> {
        let mut lines = text.lines();
        if lines.next().map(str::trim) != Some(TITLE) {
            return Err(format!("the signed text is not a certmail log anchor (it does not start with \"{TITLE}\")"));
        }
        let (mut count, mut hash, mut at, mut log) = (None, None, None, String::new());
        for line in lines {
            let Some((name, value)) = line.split_once(':') else { continue };
            let value = value.trim();
            match name.trim() {
                "events" => count = value.parse::<i64>().ok().filter(|c| *c >= 0),
                "head" => hash = Some(value.to_string()).filter(|h| is_sha256_hex(h)),
                "at" => at = Some(value.to_string()),
                "log" => log = value.to_string(),
                _ => {}
            }
        }
        match (count, hash, at) {
            (Some(count), Some(hash), Some(at)) => Ok(Statement { head: LogHead { count, hash }, at, log }),
            _ => Err("the anchor lacks a valid \"events:\", \"head:\" (64 hex digits) or \"at:\" line".into()),
        }
    }
}

/// What a person handed to `log verify --anchor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// A cleartext-signed anchor statement, still to be checked.
    Signed(Vec<u8>),
    /// The head a decrypted notification carried. Its signature was the
    /// notification's, checked when it was decrypted, and is not at hand here.
    Notification(LogHead),
}

/// Finds the anchor in a kept file: the JSON `log anchor --json` printed, a signed
/// statement (with anything around it, e.g. pasted into a ticket), or a decrypted
/// notification's header.
pub fn read_kept(bytes: &[u8]) -> Result<Kept, String> {
    let text = String::from_utf8_lossy(bytes);
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(&text)
        && let Some(signed) = json["anchor"].as_str()
    {
        return signed_block(signed).map(Kept::Signed).ok_or_else(|| "the JSON's \"anchor\" holds no signed statement".to_string());
    }
    if let Some(signed) = signed_block(&text) {
        return Ok(Kept::Signed(signed));
    }
    notification_head(&text).map(Kept::Notification).ok_or_else(|| {
        format!(
            "no anchor found: neither a signed statement from `certmail log anchor` nor a decrypted notification with a {HEADER} header"
        )
    })
}

fn signed_block(text: &str) -> Option<Vec<u8>> {
    const BEGIN: &str = "-----BEGIN PGP SIGNED MESSAGE-----";
    const END: &str = "-----END PGP SIGNATURE-----";
    let start = text.find(BEGIN)?;
    let end = start + text[start..].find(END)? + END.len();
    Some(format!("{}\n", &text[start..end]).into_bytes())
}

/// The header in the first header block that carries it (the inner entity's, in a
/// decrypted notification).
fn notification_head(text: &str) -> Option<LogHead> {
    let mut value: Option<String> = None;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            // The header block ends here; what follows is the body.
            break;
        }
        if let Some(v) = value.as_mut()
            && line.starts_with([' ', '\t'])
        {
            v.push_str(line);
            continue;
        }
        if value.is_some() {
            break;
        }
        if let Some((name, v)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case(HEADER)
        {
            value = Some(v.to_string());
        }
    }
    value.as_deref().and_then(LogHead::parse_header_value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> LogHead {
        LogHead { count: 12, hash: "ab".repeat(32) }
    }

    #[test]
    fn a_statement_reads_back_as_written() {
        let s = Statement { head: head(), at: "2026-01-01T00:00:00.000Z".into(), log: "/home/soc/certmail.sqlite".into() };
        assert_eq!(Statement::parse(&s.text()).unwrap(), s);
        assert!(Statement::parse("hello\nevents: 1\n").is_err());
        assert!(Statement::parse(&s.text().replace(&"ab".repeat(32), "zz")).is_err());
    }

    #[test]
    fn an_anchor_is_found_in_what_was_kept() {
        let block =
            "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nx\n-----BEGIN PGP SIGNATURE-----\n\nAA==\n-----END PGP SIGNATURE-----";
        let pasted = format!("Ticket 42, anchor of the log:\n{block}\nthanks\n");
        assert_eq!(read_kept(pasted.as_bytes()).unwrap(), Kept::Signed(format!("{block}\n").into_bytes()));
        let json = serde_json::json!({ "events": 1, "anchor": block }).to_string();
        assert_eq!(read_kept(json.as_bytes()).unwrap(), Kept::Signed(format!("{block}\n").into_bytes()));
        let mail = format!(
            "Content-Type: multipart/mixed; boundary=\"b\";\r\n protected-headers=\"v1\"\r\nx-certmail-log-head: 12\r\n {}\r\n\r\n--b\r\n",
            "ab".repeat(32)
        );
        assert_eq!(read_kept(mail.as_bytes()).unwrap(), Kept::Notification(head()));
        // A header in the body, not the header block, is not the notification's.
        let body = format!("Subject: x\r\n\r\n{HEADER}: 12 {}\r\n", "ab".repeat(32));
        assert!(read_kept(body.as_bytes()).is_err());
    }
}

//! Indicators of compromise as an incident file lists them (`[[indicators]]`): whether
//! a value is what its type says (an IP address, a domain, an http(s) URL, an e-mail
//! address, an MD5, SHA-1 or SHA-256 hash), and the CSV the CERT's tools import
//! (indicators.csv: `type,value,note`, RFC 4180 quoting, CRLF). Pure.
//!
//! The checks are syntax only, and strict on purpose: a value the CERT pastes into a
//! blocklist or a search must be exactly the indicator, so a "defanged" form
//! (`203.0.113[.]7`, `hxxp://`) or a note run into the value is refused with what to write.

use std::net::IpAddr;

use super::choices::IndicatorType;
use super::model::Indicator;
use super::validate::{Problem, ProblemKind, is_plain_address};

/// What is wrong with an incident's indicators: each needs a type and a value of that
/// type, named `indicators[n].type` / `indicators[n].value` (counted from 0).
pub fn problems(list: &[Indicator]) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut say = |path: String, expected: String, kind| out.push(Problem { path, expected, kind });
    for (n, indicator) in list.iter().enumerate() {
        let here = format!("indicators[{n}]");
        let missing = ProblemKind::Missing { or: &[] };
        match (indicator.kind, indicator.value.as_deref().filter(|v| !v.trim().is_empty())) {
            (None, _) => say(format!("{here}.type"), "required for each indicator: ip, domain, url, email or hash".into(), missing),
            (Some(_), None) => say(format!("{here}.value"), "required for each indicator: the indicator itself".into(), missing),
            (Some(kind), Some(v)) => {
                if let Err(why) = check(kind, v) {
                    say(format!("{here}.value"), why, ProblemKind::Invalid);
                }
            }
        }
    }
    out
}

/// Why `value` is not an indicator of type `kind`, in words for the person fixing it.
pub fn check(kind: IndicatorType, value: &str) -> Result<(), String> {
    let v = value.trim();
    if v != value {
        return Err(format!("the value without spaces around it: {v:?}"));
    }
    let defanged = ["[.]", "(.)", "[dot]", "hxxp", "[:]", "[@]"].iter().any(|d| v.to_ascii_lowercase().contains(d));
    if defanged {
        return Err(format!("the indicator as it is, not defanged ({v:?}): the report travels encrypted"));
    }
    match kind {
        IndicatorType::Ip => match v.parse::<IpAddr>() {
            Ok(_) => Ok(()),
            Err(_) => Err(format!("an IPv4 or IPv6 address like 203.0.113.7 or 2001:db8::7, not {v:?}")),
        },
        IndicatorType::Domain if v.parse::<IpAddr>().is_ok() => Err(format!("a domain name; {v:?} is an IP address: type = \"ip\"")),
        IndicatorType::Domain => domain(v).map_err(|why| format!("a domain name like evil.example.net, not {v:?}: {why}")),
        IndicatorType::Url => url(v).map_err(|why| format!("an http:// or https:// URL, not {v:?}: {why}")),
        IndicatorType::Email => {
            let ok = is_plain_address(v) && v.rsplit_once('@').is_some_and(|(local, d)| local.len() <= 64 && domain(d).is_ok());
            if ok { Ok(()) } else { Err(format!("an e-mail address like phish@evil.example.net, not {v:?}")) }
        }
        IndicatorType::Hash => hash(v),
    }
}

/// A domain name's syntax (RFC 1035 with internationalised labels): dotted labels of
/// letters, digits and inner hyphens, 63 bytes each at most, 253 in all, a top-level
/// label that is not all digits. A final dot (the root) is allowed.
fn domain(v: &str) -> Result<(), String> {
    let name = v.strip_suffix('.').unwrap_or(v);
    if name.is_empty() || name.len() > 253 {
        return Err("1 to 253 characters".into());
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return Err("at least two labels, e.g. example.net".into());
    }
    for label in &labels {
        if label.is_empty() || label.len() > 63 {
            return Err("each part between dots 1 to 63 characters".into());
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("a part cannot start or end with a hyphen ({label:?})"));
        }
        if let Some(bad) = label.chars().find(|c| !(c.is_alphanumeric() || *c == '-')) {
            return Err(format!("letters, digits and hyphens only, not {bad:?}"));
        }
    }
    if labels.last().is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit())) {
        return Err("a top-level domain of letters".into());
    }
    Ok(())
}

/// An absolute http(s) URL: the scheme, a host (domain, IPv4 or [IPv6]), an optional
/// port, then anything without spaces or control characters.
fn url(v: &str) -> Result<(), String> {
    let lower = v.to_ascii_lowercase();
    let rest = match (lower.strip_prefix("http://"), lower.strip_prefix("https://")) {
        (Some(_), _) => &v["http://".len()..],
        (_, Some(_)) => &v["https://".len()..],
        _ => return Err("it starts with http:// or https://".into()),
    };
    if let Some(bad) = v.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("no spaces or control characters ({bad:?}); encode them as %20"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // user:password@ before the host is kept as given; the host is what is checked.
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match host_port.strip_prefix('[') {
        Some(inner) => {
            let (ip, after) = inner.split_once(']').ok_or("an IPv6 host ends with ]")?;
            ip.parse::<std::net::Ipv6Addr>().map_err(|_| format!("{ip:?} is not an IPv6 address"))?;
            (None, after.strip_prefix(':'))
        }
        None => match host_port.rsplit_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(host_port), None),
        },
    };
    if let Some(h) = host
        && h.parse::<std::net::Ipv4Addr>().is_err()
    {
        domain(h).map_err(|why| format!("the host {h:?}: {why}"))?;
    }
    if let Some(p) = port
        && p.parse::<u16>().map_or(true, |n| n == 0)
    {
        return Err(format!("a port from 1 to 65535, not {p:?}"));
    }
    Ok(())
}

/// An MD5 (32), SHA-1 (40) or SHA-256 (64) hash in hexadecimal.
fn hash(v: &str) -> Result<(), String> {
    if let Some(bad) = v.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!("a hash in hexadecimal digits (0-9, a-f), not {bad:?}"));
    }
    match v.len() {
        32 | 40 | 64 => Ok(()),
        n => Err(format!("an MD5 (32 hex digits), SHA-1 (40) or SHA-256 (64) hash; this one has {n}")),
    }
}

/// indicators.csv: the header `type,value,note`, then one row per indicator; a field
/// with a comma, quote or line break is quoted (RFC 4180), every line ends in CRLF.
pub fn csv(indicators: &[Indicator]) -> String {
    let mut out = String::from("type,value,note\r\n");
    for i in indicators {
        let kind = i.kind.map(IndicatorType::key).unwrap_or_default();
        let row = [kind, i.value.as_deref().unwrap_or_default(), i.note.as_deref().unwrap_or_default()];
        out.push_str(&row.iter().map(|f| field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

fn field(text: &str) -> String {
    // Inside quotes a line break is data; it is written as CRLF like every line end.
    let text = text.replace("\r\n", "\n").replace('\r', "\n").replace('\n', "\r\n");
    if text.contains([',', '"', '\r', '\n']) || text.starts_with(' ') || text.ends_with(' ') {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use IndicatorType::*;

    #[test]
    fn values_are_checked_by_their_type() {
        for (kind, good) in [
            (Ip, "203.0.113.7"),
            (Ip, "2001:db8::7"),
            (Domain, "evil.example.net"),
            (Domain, "xn--bcher-kva.example"),
            (Domain, "bøger.example.dk."),
            (Url, "https://evil.example.net/login?x=1#top"),
            (Url, "http://203.0.113.7:8080/a"),
            (Url, "http://[2001:db8::7]:443/"),
            (Email, "phish@evil.example.net"),
            (Hash, "d41d8cd98f00b204e9800998ecf8427e"),
            (Hash, "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            (Hash, "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"),
        ] {
            assert_eq!(check(kind, good), Ok(()), "{kind:?} {good}");
        }
        for (kind, bad, says) in [
            (Ip, "203.0.113.256", "IPv4 or IPv6"),
            (Ip, "203.0.113.0/24", "IPv4 or IPv6"),
            (Ip, "203.0.113[.]7", "not defanged"),
            (Domain, "203.0.113.7", "type = \"ip\""),
            (Domain, "localhost", "two labels"),
            (Domain, "-evil.example.net", "hyphen"),
            (Domain, "evil_example.net", "not '_'"),
            (Domain, &format!("{}.net", "a".repeat(64)), "63"),
            (Url, "ftp://evil.example.net/x", "http:// or https://"),
            (Url, "hxxps://evil.example.net", "not defanged"),
            (Url, "https://evil example.net/", "no spaces"),
            (Url, "https://evil.example.net:99999/", "port"),
            (Url, "https:///path", "host"),
            (Email, "phish@localhost", "e-mail address"),
            (Email, "two@at@example.net", "e-mail address"),
            (Hash, "d41d8cd98f00b204e9800998ecf8427", "this one has 31"),
            (Hash, "g41d8cd98f00b204e9800998ecf8427e", "hexadecimal"),
            (Hash, " d41d8cd98f00b204e9800998ecf8427e", "without spaces"),
        ] {
            let err = check(kind, bad).unwrap_err();
            assert!(err.contains(says), "{kind:?} {bad}: {err}");
        }
    }

    #[test]
    fn the_csv_has_its_header_quotes_what_needs_it_and_ends_lines_in_crlf() {
        let one =
            |kind, value: &str, note: Option<&str>| Indicator { kind: Some(kind), value: Some(value.into()), note: note.map(String::from) };
        let csv = csv(&[
            one(Ip, "203.0.113.7", Some("C2, seen 02:10")),
            one(Url, "https://evil.example.net/a,b", Some("the \"login\" page\nsecond line")),
            one(Hash, "d41d8cd98f00b204e9800998ecf8427e", None),
        ]);
        assert_eq!(
            csv,
            "type,value,note\r\nip,203.0.113.7,\"C2, seen 02:10\"\r\nurl,\"https://evil.example.net/a,b\",\"the \"\"login\"\" page\r\nsecond line\"\r\nhash,d41d8cd98f00b204e9800998ecf8427e,\r\n"
        );
        assert_eq!(crate::mime::first_bare_line_end(csv.as_bytes()), None);
    }
}

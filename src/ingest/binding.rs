//! Binding: which incident a signed reply speaks of, read only from what its good
//! signature covers. The incident's reference, one of its notifications'
//! Message-IDs (in signed protected headers or quoted in the signed text), or the
//! CERT case number learnt from an earlier good, bound reply on it. Unsigned outer
//! headers only thread mail for reading and never bind.

use std::sync::OnceLock;

use regex::Regex;

use super::reading::SignedContent;
use crate::exit::Failure;
use crate::reply;
use crate::store::{Correlation, Store};

/// Message-IDs looked up from one signed text at most (each is one query).
const MAX_QUOTED_IDS: usize = 32;

/// How strongly signed content names an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Naming {
    /// A Message-ID of its notification in the signed entity's own In-Reply-To or
    /// References: the CERT's mail client put it there.
    Header,
    /// Its reference, a notification's Message-ID or its case number in the CERT's
    /// own words.
    OwnWords,
    /// Only in quoted text (what the CERT quotes may be what someone else wrote to it).
    Quoted,
}

/// The incidents the signed content names, each with how (the strongest way found).
/// Numbered references of older logs (CM-2026-0001) existed in every installation and
/// never bind: those incidents bind by Message-ID or case number.
pub fn named_incidents(store: &Store, signed: &SignedContent, cert_cases: &[String]) -> Result<Vec<(Correlation, Naming)>, Failure> {
    let mut found: Vec<(Correlation, Naming)> = Vec::new();
    let mut add = |c: Option<Correlation>, how: Naming| {
        if let Some(c) = c {
            match found.iter_mut().find(|(f, _)| f.incident_id == c.incident_id) {
                Some((_, was)) => *was = (*was).min(how),
                None => found.push((c, how)),
            }
        }
    };
    for id in signed.in_reply_to.iter().chain(signed.references.iter().rev()) {
        add(store.correlate_message_id(id)?, Naming::Header);
    }
    let own = format!("{}\n{}", signed.subject, reply::own_words(&signed.text));
    let everything = format!("{}\n{}\n{}", signed.subject, signed.headers, signed.text);
    for (text, how) in [(own.as_str(), Naming::OwnWords), (everything.as_str(), Naming::Quoted)] {
        for reference in reply::references_in(text).into_iter().filter(|r| !is_numbered(r)) {
            add(store.correlate_reference(&reference)?, how);
        }
        for id in quoted_message_ids(text).take(MAX_QUOTED_IDS) {
            add(store.correlate_message_id(id)?, how);
        }
        for case in cert_cases {
            if reply::contains_token(text, case) {
                add(store.correlate_reference(case)?, how);
            }
        }
    }
    Ok(found)
}

/// A reference of the numbered form older releases gave (CM-YYYY-NNNN).
fn is_numbered(reference: &str) -> bool {
    // CM-YYYY-NNNN has two dashes; a random CM-XXXX-XXXX-XXXX (which may start with
    // four digits) has three.
    reference.matches('-').count() == 2
}

/// Things that look like Message-IDs ("local@domain", with or without <>).
fn quoted_message_ids(text: &str) -> impl Iterator<Item = &str> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"[A-Za-z0-9._%+$=-]{6,200}@[A-Za-z0-9.-]{1,200}[A-Za-z0-9]").expect("message-id pattern"));
    re.find_iter(text).map(|m| m.as_str())
}

/// The incident a good signature binds the reply to. Unsigned threading never
/// chooses: one named in the signed headers, else the only one named in the CERT's
/// own words, else the only one named at all; several with nothing to choose between
/// them bind none.
pub fn choose(named: Vec<(Correlation, Naming)>) -> Result<(Correlation, Naming), &'static str> {
    for how in [Naming::Header, Naming::OwnWords, Naming::Quoted] {
        let at: Vec<&(Correlation, Naming)> = named.iter().filter(|(_, h)| *h == how).collect();
        match at.len() {
            0 => continue,
            1 => return Ok(at[0].clone()),
            _ => return Err("names-several-incidents"),
        }
    }
    Err("names-no-incident")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_in_text() {
        let ids: Vec<&str> = quoted_message_ids("> Message-ID: <a1b2c3d4@example.dk>\nmail soc@example.dk").collect();
        assert_eq!(ids, vec!["a1b2c3d4@example.dk"]);
        assert!(is_numbered("CM-2026-0001") && !is_numbered("CM-7KQ2-M9XD-3RTA") && !is_numbered("CM-7418-F7VD-A1JK"));
    }
}

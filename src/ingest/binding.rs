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

/// The incidents the signed content names, most specific first: Message-IDs in
/// signed headers, then references, then quoted Message-IDs, then case numbers.
pub fn named_incidents(store: &Store, signed: &SignedContent, cert_cases: &[String]) -> Result<Vec<Correlation>, Failure> {
    let mut found: Vec<Correlation> = Vec::new();
    let mut add = |c: Option<Correlation>| {
        if let Some(c) = c
            && !found.iter().any(|f| f.incident_id == c.incident_id)
        {
            found.push(c);
        }
    };
    for id in signed.in_reply_to.iter().chain(signed.references.iter().rev()) {
        add(store.correlate_message_id(id)?);
    }
    let texts = [signed.subject.as_str(), signed.headers.as_str(), signed.text.as_str()];
    for text in texts {
        for reference in reply::references_in(text) {
            add(store.correlate_reference(&reference)?);
        }
    }
    for text in texts {
        for id in quoted_message_ids(text).take(MAX_QUOTED_IDS) {
            add(store.correlate_message_id(id)?);
        }
    }
    for case in cert_cases {
        if texts.iter().any(|t| reply::contains_token(t, case)) {
            add(store.correlate_reference(case)?);
        }
    }
    Ok(found)
}

/// Things that look like Message-IDs ("local@domain", with or without <>).
fn quoted_message_ids(text: &str) -> impl Iterator<Item = &str> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"[A-Za-z0-9._%+$=-]{6,200}@[A-Za-z0-9.-]{1,200}[A-Za-z0-9]").expect("message-id pattern"));
    re.find_iter(text).map(|m| m.as_str())
}

/// The incident a good signature binds the reply to: of those it names, the one
/// the mail is threaded to if any, else the first named.
pub fn choose(named: Vec<Correlation>, threaded: Option<&Correlation>) -> Option<Correlation> {
    if let Some(t) = threaded
        && let Some(c) = named.iter().find(|c| c.incident_id == t.incident_id)
    {
        return Some(c.clone());
    }
    named.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_in_text() {
        let ids: Vec<&str> = quoted_message_ids("> Message-ID: <a1b2c3d4@example.dk>\nmail soc@example.dk").collect();
        assert_eq!(ids, vec!["a1b2c3d4@example.dk"]);
    }
}

//! Who did what (docs/TEAM-MODE.md, 4): the writer an event records, `by_name`,
//! `by_email`, `by_key` (the home's `[identity]` and the fingerprint of the key it
//! signs with) and `by_db_user` (what the database server says the session is: on
//! PostgreSQL `session_user`, never known on SQLite). The store is opened as one
//! writer ([`Store::open_as`]) and every event it appends carries it.
//!
//! Also how the chain covers them ([`hash_into`]) and the read queries that show
//! them. It must not decide who the writer is: the command does, from its home.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::Store;
use super::sql::{Dialect, Engine, Row};
use crate::exit::Failure;

/// Whose certmail wrote an event; every part `None` when not known (events from
/// before the columns, or a home with no identity). Serialised as the `by` object
/// of `--json` output.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Actor {
    pub name: Option<String>,
    pub email: Option<String>,
    /// Fingerprint (upper-case hex) of the signing (sub)key.
    pub key: Option<String>,
    /// The database user the server vouches for (PostgreSQL's `session_user`).
    pub db_user: Option<String>,
}

/// The columns [`Actor::from_row`] reads, in order (of `events`, aliased `e` when
/// `prefix` is "e.").
pub(super) fn columns(prefix: &str) -> String {
    ["by_name", "by_email", "by_key", "by_db_user"].map(|c| format!("{prefix}{c}")).join(", ")
}

impl Actor {
    /// A writer as the home says it is; blank parts are unknown, never recorded as "".
    pub fn new(name: Option<&str>, email: Option<&str>, key: Option<&str>) -> Actor {
        let known = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        Actor { name: known(name), email: known(email), key: known(key), db_user: None }
    }

    /// Nothing known: the event says nothing about who wrote it.
    pub fn is_unknown(&self) -> bool {
        self.name.is_none() && self.email.is_none() && self.key.is_none() && self.db_user.is_none()
    }

    /// Reads the [`columns`] starting at `first`.
    pub(super) fn from_row(r: &Row, first: usize) -> Result<Actor, Failure> {
        Ok(Actor { name: r.get(first)?, email: r.get(first + 1)?, key: r.get(first + 2)?, db_user: r.get(first + 3)? })
    }

    /// "by NAME <EMAIL> (key …LAST8)" for text output, each part only if known
    /// (sanitised: the columns are the database's, not ours); `None` if nothing is.
    pub fn shown(&self) -> Option<String> {
        if self.is_unknown() {
            return None;
        }
        let one_line = |s: &str| crate::output::one_line(s);
        let mut parts = Vec::new();
        if let Some(name) = &self.name {
            parts.push(one_line(name));
        }
        if let Some(email) = &self.email {
            parts.push(format!("<{}>", one_line(email)));
        }
        if let Some(key) = &self.key {
            let hex: Vec<char> = key.chars().collect();
            parts.push(format!("(key …{})", one_line(&hex[hex.len().saturating_sub(8)..].iter().collect::<String>())));
        }
        if let Some(user) = &self.db_user {
            parts.push(format!("[database user {}]", one_line(user)));
        }
        Some(format!("by {}", parts.join(" ")))
    }
}

/// The database user the server vouches for, once per connection: the one place the
/// engine supplies `by_db_user`. SQLite has no users: `None`; PostgreSQL says who the
/// session authenticated as (`session_user`, which `SET ROLE` does not change).
pub(super) fn db_user(db: &mut Engine) -> Result<Option<String>, Failure> {
    match db.dialect() {
        Dialect::Sqlite => Ok(None),
        Dialect::Postgres => db.one("SELECT session_user", &[]).map(Some),
    }
}

/// The chain's part for the writer, after an event's first seven parts: nothing for
/// an event that records none (so events from before the columns hash as they did),
/// else "v2" and the four columns, each length-prefixed, a NULL apart from "" (its
/// length is u64::MAX). Any column not NULL makes the part: an author written into
/// an old event breaks its hash, as does one rewritten or wiped in a new event.
pub(super) fn hash_into(h: &mut Sha256, by: &Actor) {
    if by.is_unknown() {
        return;
    }
    h.update(2u64.to_be_bytes());
    h.update(b"v2");
    for part in [&by.name, &by.email, &by.key, &by.db_user] {
        match part {
            Some(text) => {
                h.update((text.len() as u64).to_be_bytes());
                h.update(text.as_bytes());
            }
            None => h.update(u64::MAX.to_be_bytes()),
        }
    }
}

/// The newest event of an incident: what it was, when, and who wrote it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LastEvent {
    pub kind: String,
    pub at: String,
    pub by: Actor,
}

/// Who made one of our messages (its `queued` event) and who handed it to the relay
/// (its newest `sent` event, if any).
#[derive(Debug, Clone, Default)]
pub struct MessageBy {
    pub queued: Option<Actor>,
    pub sent: Option<Actor>,
}

impl Store {
    /// The newest event of the incident with this reference.
    pub fn last_event(&self, reference: &str) -> Result<Option<LastEvent>, Failure> {
        let row = self.db().row_opt(
            &format!(
                "SELECT e.kind, e.at, {} FROM events e JOIN incidents i ON i.id = e.incident_id
                 WHERE i.reference = ?1 ORDER BY e.id DESC LIMIT 1",
                columns("e.")
            ),
            vals![reference],
        )?;
        row.map(|r| Ok(LastEvent { kind: r.get(0)?, at: r.get(1)?, by: Actor::from_row(&r, 2)? })).transpose()
    }

    /// Who made and who sent each of an incident's messages, by Message-ID.
    pub fn messages_by(&self, incident_id: i64) -> Result<HashMap<String, MessageBy>, Failure> {
        let rows = self.db().rows(
            &format!(
                "SELECT message_id, kind, {} FROM events
                 WHERE incident_id = ?1 AND message_id IS NOT NULL AND kind IN ('queued', 'sent') ORDER BY id",
                columns("")
            ),
            vals![incident_id],
        )?;
        let mut by: HashMap<String, MessageBy> = HashMap::new();
        for r in &rows {
            let (message_id, kind, actor): (String, String, Actor) = (r.get(0)?, r.get(1)?, Actor::from_row(r, 2)?);
            let entry = by.entry(message_id).or_default();
            match kind.as_str() {
                "queued" => {
                    entry.queued.get_or_insert(actor);
                }
                _ => entry.sent = Some(actor),
            }
        }
        Ok(by)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_parts_are_unknown_and_text_shows_what_is_known() {
        assert!(Actor::new(Some(" "), None, Some("")).is_unknown());
        assert_eq!(Actor::default().shown(), None);
        let a = Actor::new(Some("Mette Holm"), Some("mh@soc.example.dk"), Some("2CE4BA61B873B0890BE94ED23CDA68796740E2CD"));
        assert_eq!(a.shown().unwrap(), "by Mette Holm <mh@soc.example.dk> (key …6740E2CD)");
        assert_eq!(
            Actor::new(Some("Jens\u{1b}[2J"), None, None).shown().unwrap(),
            format!("by {}", crate::output::one_line("Jens\u{1b}[2J"))
        );
    }

    fn hash(by: &Actor) -> Vec<u8> {
        let mut h = Sha256::new();
        hash_into(&mut h, by);
        h.finalize().to_vec()
    }

    #[test]
    fn an_unknown_writer_adds_nothing_and_a_null_is_not_an_empty_text() {
        assert_eq!(hash(&Actor::default()), Sha256::new().finalize().to_vec());
        let named = Actor::new(Some("a"), None, None);
        let empty_email = Actor { email: Some(String::new()), ..named.clone() };
        assert_ne!(hash(&named), hash(&empty_email));
        assert_ne!(hash(&Actor::new(Some("ab"), None, None)), hash(&Actor::new(Some("a"), Some("b"), None)));
    }
}

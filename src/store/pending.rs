//! A notification, follow-up or reply being recorded: the reference reserved and the
//! write lock held from [`Store::begin`] to [`Pending::commit`], so what is checked
//! meanwhile (the same incident notified before, an idempotency key used before, what
//! a message threads to) cannot change under it. The commit writes the incident (or its
//! new revision), one message per recipient and their events in one transaction.

use super::sql::{Engine, Row, Value};
use super::{Actor, MessageBytes, MessageSink, MessageState, Store, event, log, sha256_hex};
use crate::exit::Failure;

/// The incident part of a new notification.
pub struct NewIncident<'a> {
    pub scheme: &'a str,
    pub title: &'a str,
    pub detected_at: Option<&'a str>,
    pub incident_json: &'a str,
}

/// The message part of a new notification: the final bytes and their envelope.
pub struct NewMessage<'a> {
    pub message_id: &'a str,
    pub recipient: &'a str,
    pub recipient_fingerprint: &'a str,
    pub envelope_from: &'a str,
    pub envelope_to: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub bytes: &'a MessageBytes,
}

/// What a commit does to the incident besides adding its messages.
pub enum Revision<'a> {
    /// A report: a new incident, or (on an existing one) its new revision. Each
    /// message records the SHA-256 of this JSON, by which the same report is
    /// recognised when it is notified again.
    Report(NewIncident<'a>),
    /// A free-text message on an existing incident, which stays as it was; the event
    /// (`replied`) holds the text's SHA-256.
    Message { text_sha256: &'a str },
}

/// An idempotency key taken with the commit, and the result to return when the same
/// request comes again (the result is replaced once delivery has ended).
pub struct NewKey<'a> {
    pub key: &'a str,
    pub command: &'a str,
    /// SHA-256 of what was asked: another request under the same key is refused.
    pub request: &'a str,
    pub result: &'a serde_json::Value,
}

/// Everything one commit records.
pub struct Record<'a> {
    pub revision: Revision<'a>,
    pub messages: &'a [NewMessage<'a>],
    pub key: Option<NewKey<'a>>,
    /// Also take the messages for sending by this process (delivered at once): saves
    /// one durable commit before the first SMTP byte.
    pub claim: bool,
}

/// A message already sent (or queued) with the same incident content.
#[derive(Debug, Clone)]
pub struct Notified {
    pub reference: String,
    pub message_id: String,
    pub recipient: String,
    pub state: MessageState,
    pub created_at: String,
}

/// An idempotency key as recorded.
#[derive(Debug, Clone)]
pub struct KeyUse {
    pub reference: String,
    pub command: String,
    pub request: String,
    pub created_at: String,
    pub result: serde_json::Value,
}

/// An incident as last reported, for what is sent on it next.
#[derive(Debug, Clone)]
pub struct Reported {
    pub incident_json: String,
    pub title: String,
    /// Every recipient its messages went to, in the order first used.
    pub recipients: Vec<String>,
}

/// What a new message to one recipient threads to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Thread {
    /// The recipient's newest reply bound to the incident, else our newest message to it.
    pub in_reply_to: Option<String>,
    /// Our messages to the recipient, oldest first, then that reply.
    pub references: Vec<String>,
}

/// See the module comment; dropping it rolls everything back.
pub struct Pending<'a> {
    /// The store, its writing transaction open until [`Pending::commit`].
    pub(super) store: &'a mut Store,
    pub(super) open: bool,
    pub reference: String,
    pub(super) existing_incident: Option<i64>,
    pub(super) year: i32,
    pub(super) seq: i64,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if self.open {
            self.store.db.get_mut().rollback();
        }
    }
}

impl Store {
    /// An incident as last reported; `None` if the reference is unknown.
    pub fn reported(&self, reference: &str) -> Result<Option<Reported>, Failure> {
        let mut db = self.db();
        let Some(row) = db.row_opt("SELECT id, incident_json, title FROM incidents WHERE reference = ?1", vals![reference])? else {
            return Ok(None);
        };
        let id: i64 = row.get(0)?;
        let recipients = first_seen(query_notified(&mut db, "m.incident_id = ?1", id.into())?);
        Ok(Some(Reported { incident_json: row.get(1)?, title: row.get(2)?, recipients }))
    }

    /// The messages of ours on an incident, oldest first.
    pub fn messages_of(&self, reference: &str) -> Result<Vec<Notified>, Failure> {
        query_notified(&mut self.db(), "i.reference = ?1", reference.into())
    }

    /// Messages whose incident content had this SHA-256 (see [`Revision::Report`]),
    /// oldest first: the same report notified before.
    pub fn notified_with(&self, incident_sha256: &str) -> Result<Vec<Notified>, Failure> {
        notified_with(&mut self.db(), incident_sha256)
    }

    /// An idempotency key's first use, if it had one.
    pub fn idempotency_key(&self, key: &str) -> Result<Option<KeyUse>, Failure> {
        key_use(&mut self.db(), key)
    }

    /// Replaces a key's result with how delivery ended.
    pub fn record_key_result(&mut self, key: &str, result: &serde_json::Value) -> Result<(), Failure> {
        self.db().execute("UPDATE idempotency_keys SET result = ?1 WHERE key = ?2", vals![&result.to_string(), key])?;
        Ok(())
    }
}

impl Pending<'_> {
    fn db(&self) -> std::cell::RefMut<'_, Engine> {
        self.store.db()
    }

    /// The chain's head before this notification's events: what it carries inside
    /// its encryption, so the CERT's copy witnesses the log as it was.
    pub fn log_head(&self) -> Result<crate::anchor::LogHead, Failure> {
        let (count, hash) = log::head(&mut self.db())?;
        Ok(crate::anchor::LogHead { count, hash })
    }

    /// Where the final bytes of the new message (about `estimated` bytes) go: on
    /// PostgreSQL always into memory, to be one parameter of the row (no spool).
    pub fn message_sink(&self, message_id: &str, estimated: u64) -> Result<MessageSink, Failure> {
        match &self.store.path {
            Some(path) => MessageSink::new(path, message_id, estimated),
            None => Ok(MessageSink::in_memory(estimated)),
        }
    }

    /// Whether this adds to an incident already in the log.
    pub fn is_existing(&self) -> bool {
        self.existing_incident.is_some()
    }

    /// The existing incident's JSON as last recorded (`None` for a new incident).
    pub fn incident_json(&self) -> Result<Option<String>, Failure> {
        let Some(id) = self.existing_incident else { return Ok(None) };
        self.db().one("SELECT incident_json FROM incidents WHERE id = ?1", vals![id]).map(Some)
    }

    /// The existing incident's messages of ours, oldest first.
    pub fn messages(&self) -> Result<Vec<Notified>, Failure> {
        let Some(id) = self.existing_incident else { return Ok(Vec::new()) };
        query_notified(&mut self.db(), "m.incident_id = ?1", id.into())
    }

    /// Every recipient the existing incident's messages went to, in the order first used.
    pub fn recipients(&self) -> Result<Vec<String>, Failure> {
        Ok(first_seen(self.messages()?))
    }

    /// See [`Store::notified_with`]; under the write lock.
    pub fn notified_with(&self, incident_sha256: &str) -> Result<Vec<Notified>, Failure> {
        notified_with(&mut self.db(), incident_sha256)
    }

    /// See [`Store::idempotency_key`]; under the write lock, so a concurrent retry
    /// waits for the first to commit and then finds its key.
    pub fn idempotency_key(&self, key: &str) -> Result<Option<KeyUse>, Failure> {
        key_use(&mut self.db(), key)
    }

    /// What a new message to `recipient` threads to. Only a reply whose good,
    /// whole-message signature binds it to the incident, by that recipient, is
    /// answered: unsigned mail never chooses what we thread to.
    pub fn thread(&self, recipient: &str) -> Result<Thread, Failure> {
        let Some(id) = self.existing_incident else { return Ok(Thread::default()) };
        let mut db = self.db();
        let mut references: Vec<String> = db
            .rows("SELECT message_id FROM messages WHERE incident_id = ?1 AND recipient = ?2 ORDER BY id", vals![id, recipient])?
            .iter()
            .map(|r| r.get(0))
            .collect::<Result<_, _>>()?;
        let theirs: Option<String> = db.one_opt(
            "SELECT message_id FROM received
             WHERE incident_id = ?1 AND bound = 1 AND signer_recipient = ?2 AND message_id IS NOT NULL
             ORDER BY received_at DESC, id DESC LIMIT 1",
            vals![id, recipient],
        )?;
        if let Some(theirs) = theirs.filter(|t| !references.contains(t)) {
            references.push(theirs);
        }
        Ok(Thread { in_reply_to: references.last().cloned(), references })
    }

    /// Records the incident (or its new revision), the queued messages and their
    /// events, and commits: after this returns, the messages survive a crash.
    pub fn commit(mut self, record: &Record, now: &str) -> Result<(), Failure> {
        // The events say the store's writer wrote them.
        let Store { db, by, .. } = &mut *self.store;
        let db = db.get_mut();
        let (incident_id, incident_sha256) = match (&record.revision, self.existing_incident) {
            (Revision::Report(incident), Some(id)) => {
                db.execute(
                    "UPDATE incidents SET incident_json = ?1, title = ?2, detected_at = COALESCE(?3, detected_at) WHERE id = ?4",
                    vals![incident.incident_json, incident.title, incident.detected_at, id],
                )?;
                let detected_at: Option<String> = db.one("SELECT detected_at FROM incidents WHERE id = ?1", vals![id])?;
                let sha256 = sha256_hex(incident.incident_json.as_bytes());
                // What the row now holds, so `log verify` can hold the row to it.
                let detail = serde_json::json!({ "title": incident.title, "detected_at": detected_at, "incident-sha256": sha256 });
                event(db, id, None, now, "follow-up", &detail, by)?;
                (id, Some(sha256))
            }
            (Revision::Report(incident), None) => {
                let id: i64 = db.one(
                    "INSERT INTO incidents (reference, year, seq, scheme, title, created_at, detected_at, incident_json)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
                    vals![
                        &self.reference,
                        self.year,
                        self.seq,
                        incident.scheme,
                        incident.title,
                        now,
                        incident.detected_at,
                        incident.incident_json
                    ],
                )?;
                let sha256 = sha256_hex(incident.incident_json.as_bytes());
                let detail = serde_json::json!({
                    "reference": self.reference,
                    "scheme": incident.scheme,
                    "title": incident.title,
                    "detected_at": incident.detected_at,
                    "incident-sha256": sha256,
                    "cert_case": null,
                });
                event(db, id, None, now, "created", &detail, by)?;
                (id, Some(sha256))
            }
            (Revision::Message { text_sha256 }, Some(id)) => {
                let recipients: Vec<&str> = record.messages.iter().map(|m| m.recipient).collect();
                let detail = serde_json::json!({ "text-sha256": text_sha256, "recipients": recipients });
                event(db, id, None, now, "replied", &detail, by)?;
                (id, None)
            }
            (Revision::Message { .. }, None) => {
                return Err(Failure::failed("internal error: a message needs an incident in the log"));
            }
        };
        for message in record.messages {
            insert_message(db, incident_id, message, incident_sha256.as_deref(), now, record.claim, by)?;
        }
        if let Some(key) = &record.key {
            let ids: Vec<&str> = record.messages.iter().map(|m| m.message_id).collect();
            db.execute(
                "INSERT INTO idempotency_keys (key, command, request, incident_id, messages, created_at, result)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                vals![key.key, key.command, key.request, incident_id, &serde_json::json!(ids).to_string(), now, &key.result.to_string()],
            )?;
        }
        db.commit()?;
        self.open = false;
        Ok(())
    }
}

fn insert_message(
    db: &mut Engine,
    incident_id: i64,
    message: &NewMessage,
    incident_sha256: Option<&str>,
    now: &str,
    claim: bool,
    by: &Actor,
) -> Result<(), Failure> {
    let (spool, sha256) = match message.bytes {
        MessageBytes::Inline(_) => (None, None),
        MessageBytes::Spooled { name, sha256, .. } => (Some(name), Some(sha256)),
    };
    let row: i64 = db.one(
        "INSERT INTO messages (incident_id, message_id, recipient, recipient_fingerprint, envelope_from, envelope_to,
                               in_reply_to, size, state, created_at, updated_at, spool, sha256, incident_sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'queued', ?9, ?9, ?10, ?11, ?12) RETURNING id",
        vals![
            incident_id,
            message.message_id,
            message.recipient,
            message.recipient_fingerprint,
            message.envelope_from,
            message.envelope_to,
            message.in_reply_to,
            message.bytes.len() as i64,
            now,
            spool,
            sha256,
            incident_sha256
        ],
    )?;
    if let MessageBytes::Inline(bytes) = message.bytes {
        insert_bytes(db, row, bytes)?;
    }
    // In the hash chain: the bytes that will be sent, and where they go, can then
    // not be changed in the row (or the spool file) without `log verify` seeing it.
    let bytes_sha256 = match message.bytes {
        MessageBytes::Inline(bytes) => sha256_hex(bytes),
        MessageBytes::Spooled { sha256, .. } => sha256.clone(),
    };
    let detail = serde_json::json!({
        "recipient": message.recipient,
        "fingerprint": message.recipient_fingerprint,
        "from": message.envelope_from,
        "to": message.envelope_to,
        "bytes": message.bytes.len(),
        "sha256": bytes_sha256,
        "incident-sha256": incident_sha256,
    });
    event(db, incident_id, Some(message.message_id), now, "queued", &detail, by)?;
    if claim {
        let claimer = super::outbox::claimer(db, row)?;
        db.execute(
            "UPDATE messages SET state = 'sending', claimed_by = ?1, claimed_at = ?2, attempts = 1 WHERE id = ?3",
            vals![claimer, now, row],
        )?;
        let detail = serde_json::json!({ "attempt": 1, "after-interruption": false, "by": claimer });
        event(db, incident_id, Some(message.message_id), now, "sending", &detail, by)?;
    }
    Ok(())
}

/// A message's bytes: on SQLite written in place (zeroblob and incremental blob I/O:
/// binding the slice would make SQLite copy it twice); on PostgreSQL one `bytea`
/// parameter.
fn insert_bytes(db: &mut Engine, row: i64, bytes: &[u8]) -> Result<(), Failure> {
    match db {
        Engine::Sqlite(conn) => {
            use std::io::Write;
            let err = super::db_error("message bytes");
            conn.execute(
                "INSERT INTO message_bytes (message, bytes) VALUES (?1, zeroblob(?2))",
                rusqlite::params![row, bytes.len() as i64],
            )
            .map_err(&err)?;
            let mut blob = conn.blob_open(rusqlite::MAIN_DB, "message_bytes", "bytes", row, false).map_err(&err)?;
            blob.write_all(bytes).map_err(|e| Failure::failed(format!("incident log: message bytes: {e}")))?;
            blob.close().map_err(&err)
        }
        Engine::Postgres(_) => {
            db.execute("INSERT INTO message_bytes (message, bytes) VALUES (?1, ?2)", vals![row, bytes])?;
            Ok(())
        }
    }
}

fn first_seen(messages: Vec<Notified>) -> Vec<String> {
    let mut seen = Vec::new();
    for m in messages {
        if !seen.contains(&m.recipient) {
            seen.push(m.recipient);
        }
    }
    seen
}

fn notified_with(db: &mut Engine, incident_sha256: &str) -> Result<Vec<Notified>, Failure> {
    query_notified(db, "m.incident_sha256 = ?1", incident_sha256.into())
}

fn query_notified(db: &mut Engine, condition: &str, value: Value) -> Result<Vec<Notified>, Failure> {
    let rows = db.rows(
        &format!(
            "SELECT i.reference, m.message_id, m.recipient, m.state, m.created_at
             FROM messages m JOIN incidents i ON i.id = m.incident_id WHERE {condition} ORDER BY m.id"
        ),
        &[value],
    )?;
    rows.iter()
        .map(|r: &Row| {
            Ok(Notified {
                reference: r.get(0)?,
                message_id: r.get(1)?,
                recipient: r.get(2)?,
                state: MessageState::from_key(&r.get::<String>(3)?),
                created_at: r.get(4)?,
            })
        })
        .collect()
}

fn key_use(db: &mut Engine, key: &str) -> Result<Option<KeyUse>, Failure> {
    let row = db.row_opt(
        "SELECT i.reference, k.command, k.request, k.created_at, k.result
         FROM idempotency_keys k JOIN incidents i ON i.id = k.incident_id WHERE k.key = ?1",
        vals![key],
    )?;
    row.map(|r| {
        let result: String = r.get(4)?;
        Ok(KeyUse {
            reference: r.get(0)?,
            command: r.get(1)?,
            request: r.get(2)?,
            created_at: r.get(3)?,
            result: serde_json::from_str(&result).unwrap_or(serde_json::Value::Null),
        })
    })
    .transpose()
}

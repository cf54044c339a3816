//! The outbox's queries: taking a due message for sending (so that two flushes
//! never take the same one), recording how an attempt ended, and listing.
//!
//! A claim holds across machines on PostgreSQL (docs/TEAM-MODE.md): candidates are
//! read `FOR UPDATE SKIP LOCKED`, and the claimer takes a session advisory lock on the
//! message, kept after the claim commits, through the SMTP conversation, until the
//! attempt is recorded. A `sending` row whose lock can be taken lost its claimer with
//! its connection, and is taken over. On SQLite a claim names the process, and a row
//! left `sending` by a process that is gone is taken again.

use std::path::Path;

use super::sql::{Engine, Row, Value};
use super::{Actor, MessageState, STORED_BYTES, Store, StoredBytes, event};
use crate::exit::Failure;

/// The high half of an outbox claim's advisory lock key ("cmou"); the message id is
/// the low half.
const CLAIM_LOCKS: i64 = 0x636d_6f75;

fn claim_lock(id: i64) -> i64 {
    (CLAIM_LOCKS << 32) | (id & 0xffff_ffff)
}

/// Who claims, as `claimed_by` records it: this process on SQLite, this session (its
/// backend pid) on PostgreSQL.
fn me(db: &mut Engine) -> Result<i64, Failure> {
    match db {
        Engine::Sqlite(_) => Ok(i64::from(std::process::id())),
        Engine::Postgres(_) => db.one("SELECT CAST(pg_backend_pid() AS BIGINT)", &[]),
    }
}

/// Takes the claim on a new message (inside the transaction that queues it): on
/// PostgreSQL its advisory lock, held until the attempt is recorded. Returns who claims.
pub(super) fn claimer(db: &mut Engine, id: i64) -> Result<i64, Failure> {
    if !try_lock(db, id)? {
        return Err(Failure::failed(format!("incident log: another session holds the claim on the new message #{id}")));
    }
    me(db)
}

/// The message's advisory lock, if no other session holds it (always, on SQLite).
fn try_lock(db: &mut Engine, id: i64) -> Result<bool, Failure> {
    match db {
        Engine::Sqlite(_) => Ok(true),
        Engine::Postgres(_) => db.one("SELECT pg_try_advisory_lock(?1)", vals![claim_lock(id)]),
    }
}

/// Whether this session holds the message's advisory lock: a `sending` row that
/// names this session's backend pid may be a dead session's that had the same pid.
fn holds_lock(db: &mut Engine, id: i64) -> Result<bool, Failure> {
    let key = claim_lock(id);
    db.one(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
                        AND CAST(classid AS BIGINT) = ?1 AND CAST(objid AS BIGINT) = ?2 AND objsubid = 1)",
        vals![key >> 32, key & 0xffff_ffff],
    )
}

/// Lets the message's advisory lock go, once its attempt is recorded (and committed).
fn unlock(db: &mut Engine, id: i64) -> Result<(), Failure> {
    if let Engine::Postgres(_) = db {
        // Every lock this session took on it: a claim's, and one a takeover check took.
        // Unlocked only while held (pg_locks says so): an unlock of a lock not held
        // succeeds, but writes a warning into the server's log, once per message.
        let key = claim_lock(id);
        let unlock_held = "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
                                   AND granted AND CAST(classid AS BIGINT) = ?2 AND CAST(objid AS BIGINT) = ?3 AND objsubid = 1)
                           THEN pg_advisory_unlock(?1) ELSE false END";
        while db.one::<bool>(unlock_held, vals![key, key >> 32, key & 0xffff_ffff])? {}
    }
    Ok(())
}

/// A message taken from the outbox for one delivery attempt.
pub struct Claimed {
    pub id: i64,
    pub incident_id: i64,
    pub reference: String,
    pub message_id: String,
    /// The recipient (its configured name) the message goes to.
    pub recipient: String,
    pub envelope_from: String,
    pub envelope_to: String,
    pub attempts: i64,
    /// When its delivery lifetime started: when it was queued, or queued again by
    /// `outbox retry`.
    pub lifetime_from: String,
    /// The previous attempt died while sending (crash): it may have arrived.
    pub was_interrupted: bool,
    /// The exact bytes to send, or why they cannot be had (a spool file that is
    /// gone or altered): the attempt then fails loudly instead of sending.
    pub bytes: Result<Vec<u8>, String>,
}

/// One outbox row as `outbox list` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OutboxRow {
    pub reference: String,
    pub message_id: String,
    pub recipient: String,
    pub to: String,
    pub state: MessageState,
    pub attempts: i64,
    pub size: i64,
    pub created_at: String,
    pub next_attempt_at: Option<String>,
    pub last_reply: Option<String>,
    pub last_error: Option<String>,
}

/// How an attempt ended, as recorded.
pub enum Attempt<'a> {
    Sent { reply: &'a str },
    Deferred { error: &'a str, next_attempt_at: &'a str, possibly_delivered: bool },
    Failed { error: &'a str },
}

/// Which message a flush may take next.
pub struct ClaimQuery<'a> {
    pub now: &'a str,
    /// Deferred messages whose next attempt is at or before this are due.
    pub due_by: &'a str,
    /// Only rows after this one: one flush tries each row once.
    pub after_id: i64,
    /// Only this message.
    pub only: Option<&'a str>,
    /// Whether the process that left a row `sending` still runs.
    pub alive: &'a dyn Fn(i64) -> bool,
}

impl Store {
    /// Takes the next due message for sending, marking it `sending` by this process
    /// in one transaction: two flushes never take the same row. A row left
    /// `sending` by a process that is gone is taken again.
    pub fn claim_due(&mut self, q: &ClaimQuery) -> Result<Option<Claimed>, Failure> {
        let path = self.path.clone();
        self.db.get_mut().write(|db| claim_in(db, q, path.as_deref(), &self.by))
    }

    /// Records how an attempt ended and takes the next due message, in one
    /// transaction: a flush makes one durable commit per message instead of two.
    pub fn record_and_claim_next(&mut self, claimed: &Claimed, attempt: &Attempt, q: &ClaimQuery) -> Result<Option<Claimed>, Failure> {
        let path = self.path.clone();
        let db = self.db.get_mut();
        let next = db.write(|db| {
            record_in(db, claimed, attempt, q.now, &self.by)?;
            claim_in(db, q, path.as_deref(), &self.by)
        })?;
        unlock(db, claimed.id)?;
        Ok(next)
    }

    /// A message this process claimed with [`Pending::commit_claimed`].
    pub fn claimed_by_me(&self, message_id: &str) -> Result<Claimed, Failure> {
        let mut db = self.db();
        let by = me(&mut db)?;
        let row = db.row(
            &format!(
                "SELECT {} FROM messages m JOIN incidents i ON i.id = m.incident_id LEFT JOIN message_bytes b ON b.message = m.id
                 WHERE m.message_id = ?1 AND m.state = 'sending' AND m.claimed_by = ?2",
                claimed_columns()
            ),
            vals![message_id, by],
        )?;
        let (claimed, stored) = claimed_row(&row)?;
        Ok(with_bytes(claimed, stored, self.path.as_deref()))
    }

    /// Records how an attempt ended, with its event, in one transaction.
    pub fn record_attempt(&mut self, claimed: &Claimed, attempt: &Attempt, now: &str) -> Result<(), Failure> {
        let db = self.db.get_mut();
        db.write(|db| record_in(db, claimed, attempt, now, &self.by))?;
        unlock(db, claimed.id)
    }

    /// Queues again the messages of an incident (or the one message) that were given
    /// up or bounced, with an event saying who asked and why: the same message, same
    /// Message-ID and bytes, with a new delivery lifetime. The Message-IDs queued.
    pub fn requeue_failed(&mut self, reference_or_message_id: &str, reason: &str, now: &str) -> Result<Vec<String>, Failure> {
        self.db.get_mut().write(|db| {
            let rows = db.rows(
                "SELECT m.incident_id, m.message_id, m.state FROM messages m JOIN incidents i ON i.id = m.incident_id
                 WHERE (i.reference = ?1 OR m.message_id = ?2) AND m.state IN ('failed', 'bounced') ORDER BY m.id",
                vals![reference_or_message_id, reference_or_message_id.trim_matches(['<', '>'])],
            )?;
            let mut queued = Vec::new();
            for r in &rows {
                let (incident_id, message_id, was): (i64, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
                db.execute(
                    "UPDATE messages SET state = 'queued', last_error = NULL, next_attempt_at = NULL, claimed_by = NULL, updated_at = ?1 WHERE message_id = ?2",
                    vals![now, &message_id],
                )?;
                let detail = serde_json::json!({ "was": was, "reason": reason });
                event(db, incident_id, Some(&message_id), now, "requeued", &detail, &self.by)?;
                queued.push(message_id);
            }
            Ok(queued)
        })
    }

    /// The outbox, oldest first.
    pub fn outbox(&self) -> Result<Vec<OutboxRow>, Failure> {
        self.outbox_rows("1 = 1", &[])
    }

    /// One incident's messages of ours, oldest first: one per recipient and report.
    pub fn incident_outbox(&self, reference: &str) -> Result<Vec<OutboxRow>, Failure> {
        self.outbox_rows("i.reference = ?1", vals![reference])
    }

    fn outbox_rows(&self, condition: &str, values: &[Value]) -> Result<Vec<OutboxRow>, Failure> {
        let rows = self.db().rows(
            &format!(
                "SELECT i.reference, m.message_id, m.recipient, m.envelope_to, m.state, m.attempts, m.size, m.created_at,
                        m.next_attempt_at, m.last_reply, m.last_error
                 FROM messages m JOIN incidents i ON i.id = m.incident_id WHERE {condition} ORDER BY m.id"
            ),
            values,
        )?;
        rows.iter()
            .map(|r| {
                Ok(OutboxRow {
                    reference: r.get(0)?,
                    message_id: r.get(1)?,
                    recipient: r.get(2)?,
                    to: r.get(3)?,
                    state: MessageState::from_key(&r.get::<String>(4)?),
                    attempts: r.get(5)?,
                    size: r.get(6)?,
                    created_at: r.get(7)?,
                    next_attempt_at: r.get(8)?,
                    last_reply: r.get(9)?,
                    last_error: r.get(10)?,
                })
            })
            .collect()
    }
}

fn claim_in(db: &mut Engine, q: &ClaimQuery, store_path: Option<&Path>, by: &Actor) -> Result<Option<Claimed>, Failure> {
    // On PostgreSQL a row another transaction holds is passed over, never waited for.
    let locking = if db.dialect() == super::sql::Dialect::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    let candidates = db.rows(
        &format!(
            "SELECT id, state, claimed_by FROM messages
             WHERE id > ?3 AND (CAST(?1 AS TEXT) IS NULL OR message_id = ?1)
               AND (state = 'sending'
                    OR (state IN ('queued', 'deferred') AND (next_attempt_at IS NULL OR next_attempt_at <= ?2)))
             ORDER BY id{locking}"
        ),
        vals![q.only, q.due_by, q.after_id],
    )?;
    let claimer = me(db)?;
    let mut chosen = None;
    for r in &candidates {
        let (id, state, claimed_by): (i64, String, Option<i64>) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let sending = state == "sending";
        let free = match db {
            // A process that is gone left it.
            Engine::Sqlite(_) => !sending || claimed_by.is_none_or(|pid| !(q.alive)(pid)),
            // Its claimer's session holds its lock while it lives (this one's own
            // claims in progress are not taken again: a session's locks are its own
            // to take again); a lock taken is this claim's.
            Engine::Postgres(_) => !(sending && claimed_by == Some(claimer) && holds_lock(db, id)?) && try_lock(db, id)?,
        };
        if free {
            chosen = Some((id, sending));
            break;
        }
    }
    let Some((id, was_interrupted)) = chosen else { return Ok(None) };
    db.execute(
        "UPDATE messages SET state = 'sending', claimed_by = ?1, claimed_at = ?2, attempts = attempts + 1, updated_at = ?2 WHERE id = ?3",
        vals![claimer, q.now, id],
    )?;
    let row = db.row(
        &format!(
            "SELECT {} FROM messages m JOIN incidents i ON i.id = m.incident_id LEFT JOIN message_bytes b ON b.message = m.id
             WHERE m.id = ?1",
            claimed_columns()
        ),
        vals![id],
    )?;
    let (claimed, stored) = claimed_row(&row)?;
    let mut claimed = with_bytes(claimed, stored, store_path);
    claimed.was_interrupted = was_interrupted;
    let detail = serde_json::json!({ "attempt": claimed.attempts, "after-interruption": was_interrupted, "by": claimer });
    event(db, claimed.incident_id, Some(&claimed.message_id), q.now, "sending", &detail, by)?;
    Ok(Some(claimed))
}

fn record_in(db: &mut Engine, claimed: &Claimed, attempt: &Attempt, now: &str, by: &Actor) -> Result<(), Failure> {
    let (kind, detail) = match attempt {
        Attempt::Sent { reply } => {
            db.execute(
                "UPDATE messages SET state = 'sent', last_reply = ?1, last_error = NULL, next_attempt_at = NULL, claimed_by = NULL, updated_at = ?2 WHERE id = ?3",
                vals![*reply, now, claimed.id],
            )?;
            ("sent", serde_json::json!({ "reply": reply, "attempt": claimed.attempts }))
        }
        Attempt::Deferred { error, next_attempt_at, possibly_delivered } => {
            db.execute(
                "UPDATE messages SET state = 'deferred', last_error = ?1, next_attempt_at = ?2, claimed_by = NULL, updated_at = ?3 WHERE id = ?4",
                vals![*error, *next_attempt_at, now, claimed.id],
            )?;
            let detail = serde_json::json!({ "error": error, "next-attempt": next_attempt_at, "possibly-delivered": possibly_delivered, "attempt": claimed.attempts });
            ("deferred", detail)
        }
        Attempt::Failed { error } => {
            db.execute(
                "UPDATE messages SET state = 'failed', last_error = ?1, next_attempt_at = NULL, claimed_by = NULL, updated_at = ?2 WHERE id = ?3",
                vals![*error, now, claimed.id],
            )?;
            ("failed", serde_json::json!({ "error": error, "attempt": claimed.attempts }))
        }
    };
    event(db, claimed.incident_id, Some(&claimed.message_id), now, kind, &detail, by)?;
    Ok(())
}

/// The columns [`claimed_row`] reads; the bytes' columns come last.
fn claimed_columns() -> String {
    format!(
        "m.id, m.incident_id, i.reference, m.message_id, m.envelope_from, m.envelope_to, m.attempts,
         COALESCE((SELECT MAX(e.at) FROM events e WHERE e.incident_id = m.incident_id AND e.message_id = m.message_id AND e.kind = 'requeued'), m.created_at),
         m.recipient, {STORED_BYTES}"
    )
}

fn claimed_row(r: &Row) -> Result<(Claimed, StoredBytes), Failure> {
    let claimed = Claimed {
        id: r.get(0)?,
        incident_id: r.get(1)?,
        reference: r.get(2)?,
        message_id: r.get(3)?,
        envelope_from: r.get(4)?,
        envelope_to: r.get(5)?,
        attempts: r.get(6)?,
        lifetime_from: r.get(7)?,
        recipient: r.get(8)?,
        was_interrupted: false,
        bytes: Ok(Vec::new()),
    };
    Ok((claimed, StoredBytes::from_row(r, 9)?))
}

fn with_bytes(claimed: Claimed, stored: StoredBytes, store_path: Option<&Path>) -> Claimed {
    Claimed { bytes: stored.load(store_path).map_err(|f| f.message), ..claimed }
}

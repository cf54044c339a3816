//! The outbox's queries: taking a due message for sending (so that two flushes
//! never take the same one), recording how an attempt ended, and listing.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior, params};

use super::{MessageState, STORED_BYTES, Store, StoredBytes, db_error, event};
use crate::exit::Failure;

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
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_error("claim"))?;
        let claimed = claim_in(&tx, q, &self.path, &self.by)?;
        tx.commit().map_err(db_error("claim"))?;
        Ok(claimed)
    }

    /// Records how an attempt ended and takes the next due message, in one
    /// transaction: a flush makes one durable commit per message instead of two.
    pub fn record_and_claim_next(&mut self, claimed: &Claimed, attempt: &Attempt, q: &ClaimQuery) -> Result<Option<Claimed>, Failure> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_error("record attempt"))?;
        record_in(&tx, claimed, attempt, q.now, &self.by)?;
        let next = claim_in(&tx, q, &self.path, &self.by)?;
        tx.commit().map_err(db_error("record attempt"))?;
        Ok(next)
    }

    /// A message this process claimed with [`Pending::commit_claimed`].
    pub fn claimed_by_me(&self, message_id: &str) -> Result<Claimed, Failure> {
        let (claimed, stored) = self
            .conn
            .query_row(
                &format!(
                    "SELECT {} FROM messages m JOIN incidents i ON i.id = m.incident_id LEFT JOIN message_bytes b ON b.message = m.id
                     WHERE m.message_id = ?1 AND m.state = 'sending' AND m.claimed_by = ?2",
                    claimed_columns()
                ),
                params![message_id, std::process::id()],
                claimed_row,
            )
            .map_err(db_error("claimed message"))?;
        Ok(with_bytes(claimed, stored, &self.path))
    }

    /// Records how an attempt ended, with its event, in one transaction.
    pub fn record_attempt(&mut self, claimed: &Claimed, attempt: &Attempt, now: &str) -> Result<(), Failure> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_error("record attempt"))?;
        record_in(&tx, claimed, attempt, now, &self.by)?;
        tx.commit().map_err(db_error("record attempt"))
    }

    /// Queues again the messages of an incident (or the one message) that were given
    /// up or bounced, with an event saying who asked and why: the same message, same
    /// Message-ID and bytes, with a new delivery lifetime. The Message-IDs queued.
    pub fn requeue_failed(&mut self, reference_or_message_id: &str, reason: &str, now: &str) -> Result<Vec<String>, Failure> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_error("retry"))?;
        let rows: Vec<(i64, String, String)> = {
            let mut stmt = tx
                .prepare(
                    "SELECT m.incident_id, m.message_id, m.state FROM messages m JOIN incidents i ON i.id = m.incident_id
                     WHERE (i.reference = ?1 OR m.message_id = ?2) AND m.state IN ('failed', 'bounced') ORDER BY m.id",
                )
                .map_err(db_error("retry"))?;
            let rows = stmt
                .query_map(params![reference_or_message_id, reference_or_message_id.trim_matches(['<', '>'])], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .map_err(db_error("retry"))?;
            rows.collect::<Result<_, _>>().map_err(db_error("retry"))?
        };
        for (incident_id, message_id, was) in &rows {
            tx.execute(
                "UPDATE messages SET state = 'queued', last_error = NULL, next_attempt_at = NULL, claimed_by = NULL, updated_at = ?1 WHERE message_id = ?2",
                params![now, message_id],
            )
            .map_err(db_error("retry"))?;
            let detail = serde_json::json!({ "was": was, "reason": reason });
            event(&tx, *incident_id, Some(message_id), now, "requeued", &detail, &self.by)?;
        }
        tx.commit().map_err(db_error("retry"))?;
        Ok(rows.into_iter().map(|(_, id, _)| id).collect())
    }

    /// The outbox, oldest first.
    pub fn outbox(&self) -> Result<Vec<OutboxRow>, Failure> {
        self.outbox_rows("1", &[])
    }

    /// One incident's messages of ours, oldest first: one per recipient and report.
    pub fn incident_outbox(&self, reference: &str) -> Result<Vec<OutboxRow>, Failure> {
        self.outbox_rows("i.reference = ?1", &[&reference])
    }

    fn outbox_rows(&self, condition: &str, values: &[&dyn rusqlite::ToSql]) -> Result<Vec<OutboxRow>, Failure> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT i.reference, m.message_id, m.recipient, m.envelope_to, m.state, m.attempts, m.size, m.created_at,
                        m.next_attempt_at, m.last_reply, m.last_error
                 FROM messages m JOIN incidents i ON i.id = m.incident_id WHERE {condition} ORDER BY m.id"
            ))
            .map_err(db_error("outbox"))?;
        let rows = stmt
            .query_map(values, |r| {
                Ok(OutboxRow {
                    reference: r.get(0)?,
                    message_id: r.get(1)?,
                    recipient: r.get(2)?,
                    to: r.get(3)?,
                    state: MessageState::from_key(&r.get::<_, String>(4)?),
                    attempts: r.get(5)?,
                    size: r.get(6)?,
                    created_at: r.get(7)?,
                    next_attempt_at: r.get(8)?,
                    last_reply: r.get(9)?,
                    last_error: r.get(10)?,
                })
            })
            .map_err(db_error("outbox"))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db_error("outbox"))
    }
}

fn claim_in(tx: &Connection, q: &ClaimQuery, store_path: &Path, by: &super::Actor) -> Result<Option<Claimed>, Failure> {
    let candidates: Vec<(i64, String, Option<i64>)> = {
        let mut stmt = tx
            .prepare(
                "SELECT id, state, claimed_by FROM messages
                     WHERE id > ?4 AND (?2 IS NULL OR message_id = ?2)
                       AND (state = 'sending'
                            OR (state IN ('queued', 'deferred') AND (next_attempt_at IS NULL OR next_attempt_at <= ?3)))
                     ORDER BY id",
            )
            .map_err(db_error("claim"))?;
        let rows = stmt
            .query_map(params![q.now, q.only, q.due_by, q.after_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(db_error("claim"))?;
        rows.collect::<Result<_, _>>().map_err(db_error("claim"))?
    };
    let Some((id, state, _)) = candidates.into_iter().find(|(_, state, by)| state != "sending" || by.is_none_or(|pid| !(q.alive)(pid)))
    else {
        return Ok(None);
    };
    let was_interrupted = state == "sending";
    tx.execute(
        "UPDATE messages SET state = 'sending', claimed_by = ?1, claimed_at = ?2, attempts = attempts + 1, updated_at = ?2 WHERE id = ?3",
        params![std::process::id(), q.now, id],
    )
    .map_err(db_error("claim"))?;
    let (claimed, stored) = tx
        .query_row(
            &format!(
                "SELECT {} FROM messages m JOIN incidents i ON i.id = m.incident_id LEFT JOIN message_bytes b ON b.message = m.id
                 WHERE m.id = ?1",
                claimed_columns()
            ),
            [id],
            claimed_row,
        )
        .map_err(db_error("claim"))?;
    let mut claimed = with_bytes(claimed, stored, store_path);
    claimed.was_interrupted = was_interrupted;
    let detail = serde_json::json!({ "attempt": claimed.attempts, "after-interruption": was_interrupted, "by": std::process::id() });
    event(tx, claimed.incident_id, Some(&claimed.message_id), q.now, "sending", &detail, by)?;
    Ok(Some(claimed))
}

fn record_in(tx: &Connection, claimed: &Claimed, attempt: &Attempt, now: &str, by: &super::Actor) -> Result<(), Failure> {
    let (kind, detail) = match attempt {
        Attempt::Sent { reply } => {
            tx.execute(
                    "UPDATE messages SET state = 'sent', last_reply = ?1, last_error = NULL, next_attempt_at = NULL, claimed_by = NULL, updated_at = ?2 WHERE id = ?3",
                    params![reply, now, claimed.id],
                )
                .map_err(db_error("record attempt"))?;
            ("sent", serde_json::json!({ "reply": reply, "attempt": claimed.attempts }))
        }
        Attempt::Deferred { error, next_attempt_at, possibly_delivered } => {
            tx.execute(
                    "UPDATE messages SET state = 'deferred', last_error = ?1, next_attempt_at = ?2, claimed_by = NULL, updated_at = ?3 WHERE id = ?4",
                    params![error, next_attempt_at, now, claimed.id],
                )
                .map_err(db_error("record attempt"))?;
            let detail = serde_json::json!({ "error": error, "next-attempt": next_attempt_at, "possibly-delivered": possibly_delivered, "attempt": claimed.attempts });
            ("deferred", detail)
        }
        Attempt::Failed { error } => {
            tx.execute(
                    "UPDATE messages SET state = 'failed', last_error = ?1, next_attempt_at = NULL, claimed_by = NULL, updated_at = ?2 WHERE id = ?3",
                    params![error, now, claimed.id],
                )
                .map_err(db_error("record attempt"))?;
            ("failed", serde_json::json!({ "error": error, "attempt": claimed.attempts }))
        }
    };
    event(tx, claimed.incident_id, Some(&claimed.message_id), now, kind, &detail, by)?;
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

fn claimed_row(r: &rusqlite::Row) -> rusqlite::Result<(Claimed, StoredBytes)> {
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

fn with_bytes(claimed: Claimed, stored: StoredBytes, store_path: &Path) -> Claimed {
    Claimed { bytes: stored.load(store_path).map_err(|f| f.message), ..claimed }
}

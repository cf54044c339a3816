//! The incident log's events and their tamper-evident chain: each event stores the
//! SHA-256 of its content chained to the previous event's hash, and `chain_head`
//! keeps the count and the last hash, so an edited, deleted or reordered row (the
//! last one included) is found by [`Store::verify_chain`], which also holds the rows
//! to what the events say (`cover`). A rewrite of the whole chain, hashes and head
//! included, only an anchor kept outside the log can find ([`Store::verify`]). Also
//! the log's read queries: incidents and their timelines.

use sha2::{Digest, Sha256};

use super::Store;
use super::actor::{self, Actor};
use super::sql::Engine;
use crate::anchor::LogHead;
use crate::exit::Failure;

pub(super) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event as the chain hashes it: its columns but the hashes.
struct Hashed<'a> {
    id: i64,
    incident_id: i64,
    message_id: Option<&'a str>,
    at: &'a str,
    kind: &'a str,
    detail: &'a str,
    by: &'a Actor,
}

fn event_hash(prev: &str, e: &Hashed) -> String {
    let mut h = Sha256::new();
    for part in [prev, &e.id.to_string(), &e.incident_id.to_string(), e.message_id.unwrap_or(""), e.at, e.kind, e.detail] {
        // Length-prefixed, so no two different events hash the same text.
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    actor::hash_into(&mut h, e.by);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn head(db: &mut Engine) -> Result<(i64, String), Failure> {
    let row = db.row_opt("SELECT count, hash FROM chain_head WHERE id = 1", &[])?;
    Ok(match row {
        Some(r) => (r.get(0)?, r.get(1)?),
        None => (0, GENESIS.to_string()),
    })
}

fn set_head(db: &mut Engine, count: i64, hash: &str) -> Result<(), Failure> {
    db.execute(
        "INSERT INTO chain_head (id, count, hash) VALUES (1, ?1, ?2) ON CONFLICT(id) DO UPDATE SET count = ?1, hash = ?2",
        vals![count, hash],
    )?;
    Ok(())
}

/// Appends an event to the log, written `by`, chained to the previous one. Call inside the
/// transaction that makes the change the event records (which holds the head: the
/// event's id is drawn while it is held, so id order is chain order).
pub(crate) fn event(
    db: &mut Engine,
    incident_id: i64,
    message_id: Option<&str>,
    at: &str,
    kind: &str,
    detail: &serde_json::Value,
    by: &Actor,
) -> Result<(), Failure> {
    let detail = detail.to_string();
    let id: i64 = db.one(
        "INSERT INTO events (incident_id, message_id, at, kind, detail, by_name, by_email, by_key, by_db_user)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
        vals![
            incident_id,
            message_id,
            at,
            kind,
            &detail,
            by.name.as_deref(),
            by.email.as_deref(),
            by.key.as_deref(),
            by.db_user.as_deref()
        ],
    )?;
    let (count, prev) = head(db)?;
    let hash = event_hash(&prev, &Hashed { id, incident_id, message_id, at, kind, detail: &detail, by });
    db.execute("UPDATE events SET prev_hash = ?1, hash = ?2 WHERE id = ?3", vals![&prev, &hash, id])?;
    set_head(db, count + 1, &hash)
}

/// Gives hashes to events recorded before the chain existed (schema migration).
pub(super) fn backfill_chain(db: &mut Engine) -> Result<(), Failure> {
    let rows = db.rows(
        &format!("SELECT id, incident_id, message_id, at, kind, detail, {} FROM events WHERE hash IS NULL ORDER BY id", actor::columns("")),
        &[],
    )?;
    let (mut count, mut prev) = head(db)?;
    for r in &rows {
        let (id, incident_id, message_id, at, kind, detail): (i64, i64, Option<String>, String, String, String) =
            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?);
        let by = Actor::from_row(r, 6)?;
        let e = Hashed { id, incident_id, message_id: message_id.as_deref(), at: &at, kind: &kind, detail: &detail, by: &by };
        let hash = event_hash(&prev, &e);
        db.execute("UPDATE events SET prev_hash = ?1, hash = ?2 WHERE id = ?3", vals![&prev, &hash, id])?;
        prev = hash;
        count += 1;
    }
    if !rows.is_empty() {
        set_head(db, count, &prev)?;
    }
    Ok(())
}

/// Something wrong with the chain, at an event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChainProblem {
    /// The event's row id (None for the chain's end).
    pub event: Option<i64>,
    pub problem: String,
}

/// One event of an incident's timeline.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EventRow {
    pub id: i64,
    pub at: String,
    pub kind: String,
    pub message_id: Option<String>,
    pub detail: serde_json::Value,
    /// Who wrote it (all unknown for events from before the columns).
    pub by: Actor,
}

/// One incident as `log list` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IncidentRow {
    pub reference: String,
    pub scheme: String,
    pub title: String,
    pub created_at: String,
    pub detected_at: Option<String>,
    pub messages: i64,
    pub last_event: Option<String>,
}

/// What `log verify` found.
#[derive(Debug, Clone)]
pub struct Verification {
    pub problems: Vec<ChainProblem>,
    /// The head as the events themselves give it, hashed again from the first.
    pub head: LogHead,
    /// With an anchor that holds: the events recorded after it, which it does not cover.
    pub after_anchor: Option<i64>,
}

impl Store {
    /// Walks the whole chain and checks the rows against it; an empty list means
    /// every event is as recorded and every covered column agrees with the events.
    pub fn verify_chain(&self) -> Result<Vec<ChainProblem>, Failure> {
        Ok(self.verify(None)?.problems)
    }

    /// [`Store::verify_chain`], and with an anchor, that the chain holds it: the
    /// event at the anchor's count hashes, from the first event on, to the anchor's
    /// head. That is what finds a chain rewritten with its hashes recomputed, events
    /// deleted from its end with the head moved back, and a log wiped and made anew.
    pub fn verify(&self, anchor: Option<&LogHead>) -> Result<Verification, Failure> {
        let mut db = self.db();
        let rows = db.rows(
            &format!(
                "SELECT id, incident_id, message_id, at, kind, detail, prev_hash, hash, {} FROM events ORDER BY id",
                actor::columns("")
            ),
            &[],
        )?;
        type Fields = (i64, i64, Option<String>, String, String, String, Option<String>, Option<String>);
        let mut problems = Vec::new();
        let mut prev = GENESIS.to_string();
        // The chain as the events' content gives it, whatever the stored hashes say.
        let mut running = GENESIS.to_string();
        let mut at_anchor = anchor.filter(|a| a.count == 0).map(|_| (None, GENESIS.to_string()));
        let mut count = 0;
        for r in &rows {
            let (id, incident_id, message_id, at, kind, detail, prev_hash, hash): Fields =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?);
            let by = Actor::from_row(r, 8)?;
            let e = Hashed { id, incident_id, message_id: message_id.as_deref(), at: &at, kind: &kind, detail: &detail, by: &by };
            count += 1;
            if prev_hash.as_deref() != Some(prev.as_str()) {
                problems.push(ChainProblem {
                    event: Some(id),
                    problem: "does not follow the event before it: an event was deleted, inserted or reordered".into(),
                });
            }
            let expected = event_hash(prev_hash.as_deref().unwrap_or(""), &e);
            if hash.as_deref() != Some(expected.as_str()) {
                problems
                    .push(ChainProblem { event: Some(id), problem: "its content does not match its hash: the event was edited".into() });
            }
            running = event_hash(&running, &e);
            if anchor.is_some_and(|a| a.count == count) {
                at_anchor = Some((Some(id), running.clone()));
            }
            prev = hash.unwrap_or_default();
        }
        let (head_count, head_hash) = head(&mut db)?;
        if head_count != count || (count > 0 && head_hash != prev) {
            problems.push(ChainProblem {
                event: None,
                problem: format!(
                    "the log should hold {head_count} events ending in {}…, it holds {count}: events at the end were deleted or added",
                    &head_hash[..12.min(head_hash.len())]
                ),
            });
        }
        problems.extend(super::cover::check_rows(&mut db, self.path.as_deref())?);
        let mut after_anchor = None;
        if let Some(anchor) = anchor {
            match at_anchor {
                None => problems.push(ChainProblem {
                    event: None,
                    problem: format!(
                        "the anchor vouches for {} events, the log holds {count}: events were deleted from its end, or the log was wiped and made anew",
                        anchor.count
                    ),
                }),
                Some((event, hash)) if hash != anchor.hash => problems.push(ChainProblem {
                    event,
                    problem: format!(
                        "the first {} events do not hash to the anchored head {}…: events up to here were rewritten, or the log was wiped and made anew",
                        anchor.count,
                        &anchor.hash[..12.min(anchor.hash.len())]
                    ),
                }),
                Some(_) => after_anchor = Some(count - anchor.count),
            }
        }
        Ok(Verification { problems, head: LogHead { count, hash: running }, after_anchor })
    }

    /// The chain's head as recorded, for an anchor or a notification to carry.
    pub fn log_head(&self) -> Result<LogHead, Failure> {
        let (count, hash) = head(&mut self.db())?;
        Ok(LogHead { count, hash })
    }

    /// Every incident, newest first.
    pub fn incidents(&self) -> Result<Vec<IncidentRow>, Failure> {
        let rows = self.db().rows(
            "SELECT i.reference, i.scheme, i.title, i.created_at, i.detected_at,
                    (SELECT COUNT(*) FROM messages m WHERE m.incident_id = i.id),
                    (SELECT e.kind FROM events e WHERE e.incident_id = i.id ORDER BY e.id DESC LIMIT 1)
             FROM incidents i ORDER BY i.id DESC",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(IncidentRow {
                    reference: r.get(0)?,
                    scheme: r.get(1)?,
                    title: r.get(2)?,
                    created_at: r.get(3)?,
                    detected_at: r.get(4)?,
                    messages: r.get(5)?,
                    last_event: r.get(6)?,
                })
            })
            .collect()
    }

    /// An incident's timeline, oldest first; `None` if the reference is unknown.
    pub fn timeline(&self, reference: &str) -> Result<Option<Vec<EventRow>>, Failure> {
        let mut db = self.db();
        let Some(id) = db.one_opt::<i64>("SELECT id FROM incidents WHERE reference = ?1", vals![reference])? else { return Ok(None) };
        let rows = db.rows(
            &format!("SELECT id, at, kind, message_id, detail, {} FROM events WHERE incident_id = ?1 ORDER BY id", actor::columns("")),
            vals![id],
        )?;
        rows.iter()
            .map(|r| {
                let detail: String = r.get(4)?;
                Ok(EventRow {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    kind: r.get(2)?,
                    message_id: r.get(3)?,
                    detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
                    by: Actor::from_row(r, 5)?,
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

/// What `status` needs to know about an open incident.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StatusRow {
    pub reference: String,
    pub scheme: String,
    pub title: String,
    pub created_at: String,
    pub detected_at: Option<String>,
    /// When the first message of the incident was accepted by the relay.
    pub first_sent_at: Option<String>,
    /// Messages not yet delivered (queued, sending or deferred) and failed ones:
    /// refused by the relay, or bounced with no good, bound reply since.
    pub undelivered: i64,
    pub failed: i64,
    /// Messages a bounce reported undelivered that were made before a good, bound
    /// reply from the CERT: the CERT has acknowledged receipt all the same.
    pub bounced_but_acknowledged: i64,
    pub acknowledged: bool,
    /// When the CERT first acknowledged receipt (a good, bound reply).
    pub acknowledged_at: Option<String>,
    /// The CERT's case number, learnt from a good, bound reply.
    pub cert_case: Option<String>,
    pub virk_filed: bool,
    /// The Virk.dk filing's reference, as recorded by `incident virk`.
    pub virk_reference: Option<String>,
    /// When the newest question from the CERT was ingested, if no message of the
    /// incident was made after it (a follow-up answers it).
    pub unanswered_question_at: Option<String>,
    /// That question's signature status (good, none, ...).
    pub unanswered_question_signature: Option<String>,
    /// The CERT closed its case (a good, bound closure); our clocks still run.
    pub cert_closed: bool,
    /// The newest message received about the incident: when, and from whom.
    pub last_reply_at: Option<String>,
    pub last_reply_from: Option<String>,
    /// Messages about the incident that no good, whole-message signature binds: shown,
    /// never trusted (what they say, malformed ones, and bounces for a message that
    /// never left).
    pub unverified: i64,
    /// The recipient its newest notification went to.
    pub recipient: Option<String>,
    /// The personal data route its report chose (`personal-data.report-to`).
    pub personal_data_to: Option<String>,
    /// When it was classified as major (`timeline.classified`, when known; DORA).
    pub classified_at: Option<String>,
}

impl Store {
    /// Appends an event to an existing incident.
    pub fn add_event(&mut self, reference: &str, kind: &str, detail: &serde_json::Value, now: &str) -> Result<(), Failure> {
        self.db.get_mut().write(|db| {
            let Some(id) = db.one_opt::<i64>("SELECT id FROM incidents WHERE reference = ?1", vals![reference])? else {
                return Err(Failure::not_found(format!("no incident {reference} in the log")));
            };
            event(db, id, None, now, kind, detail, &self.by)
        })
    }

    /// Incidents not closed, oldest first, with what their deadlines depend on.
    pub fn open_incidents(&self) -> Result<Vec<StatusRow>, Failure> {
        self.status_rows(None)
    }

    /// The reference of an open incident with this title (case and surrounding white
    /// space aside), if there is one: what notify checks before a new incident,
    /// without computing every open incident's status.
    pub fn open_incident_titled(&self, title: &str) -> Result<Option<String>, Failure> {
        self.db().one_opt(
            "SELECT i.reference FROM incidents i
             WHERE lower(trim(i.title)) = lower(trim(CAST(?1 AS TEXT)))
               AND NOT EXISTS (SELECT 1 FROM events e WHERE e.incident_id = i.id AND e.kind = 'closed')
             ORDER BY i.id DESC LIMIT 1",
            vals![title],
        )
    }

    /// One incident (closed or not) as `status` sees it.
    pub fn incident_status(&self, reference: &str) -> Result<Option<StatusRow>, Failure> {
        Ok(self.status_rows(Some(reference))?.into_iter().next())
    }

    fn status_rows(&self, reference: Option<&str>) -> Result<Vec<StatusRow>, Failure> {
        let mut db = self.db();
        let d = db.dialect();
        let virk_reference = d.json_text("e.detail", &["virk-reference"]);
        let report_to = d.json_text("i.incident_json", &["personal-data", "report-to"]);
        let classified_status = d.json_text("i.incident_json", &["timeline", "classified", "status"]);
        let classified_at = d.json_text("i.incident_json", &["timeline", "classified", "at"]);
        let rows = db.rows(
            &format!(
                "SELECT i.reference, i.scheme, i.title, i.created_at, i.detected_at,
                        (SELECT MIN(e.at) FROM events e WHERE e.incident_id = i.id AND e.kind = 'sent'),
                        (SELECT COUNT(*) FROM messages m WHERE m.incident_id = i.id AND m.state IN ('queued', 'sending', 'deferred')),
                        (SELECT COUNT(*) FROM messages m WHERE m.incident_id = i.id
                            AND (m.state = 'failed' OR (m.state = 'bounced' AND m.created_at >= COALESCE(receipt.at, '')))),
                        (SELECT COUNT(*) FROM messages m WHERE m.incident_id = i.id AND m.state = 'bounced' AND m.created_at < receipt.at),
                        EXISTS (SELECT 1 FROM events e WHERE e.incident_id = i.id AND e.kind = 'acknowledged'),
                        (SELECT MIN(e.at) FROM events e WHERE e.incident_id = i.id AND e.kind = 'acknowledged'),
                        i.cert_case,
                        EXISTS (SELECT 1 FROM events e WHERE e.incident_id = i.id AND e.kind = 'virk-filed'),
                        (SELECT {virk_reference} FROM events e
                            WHERE e.incident_id = i.id AND e.kind = 'virk-filed' ORDER BY e.id DESC LIMIT 1),
                        q.received_at, q.signature,
                        EXISTS (SELECT 1 FROM events e WHERE e.incident_id = i.id AND e.kind = 'cert-closed'),
                        l.received_at, l.from_address,
                        (SELECT COUNT(*) FROM received r WHERE r.incident_id = i.id AND r.bound = 0
                            AND (r.kind IN ('ack', 'question', 'closed', 'reply', 'malformed')
                                 OR r.flags LIKE '%\"bounce-for-unsent-message\"%')),
                        (SELECT m.recipient FROM messages m WHERE m.incident_id = i.id ORDER BY m.id DESC LIMIT 1),
                        {report_to},
                        CASE WHEN {classified_status} = 'known' THEN {classified_at} END
                 FROM incidents i
                 -- The newest good, bound reply that is not a replay: the CERT has what
                 -- we sent before it, whatever a bounce says.
                 LEFT JOIN (SELECT r.incident_id, MAX(r.received_at) AS at FROM received r
                            WHERE r.bound = 1 AND r.flags NOT LIKE '%\"replay\"%' GROUP BY r.incident_id) receipt
                        ON receipt.incident_id = i.id
                 LEFT JOIN received q ON q.id = (
                     SELECT r.id FROM received r
                     WHERE r.incident_id = i.id AND COALESCE(r.marked_kind, r.kind) = 'question' AND r.bound = 1
                       AND r.flags NOT LIKE '%\"replay\"%'
                       AND r.received_at > COALESCE((SELECT MAX(m.created_at) FROM messages m WHERE m.incident_id = i.id), '')
                     ORDER BY r.received_at DESC, r.id DESC LIMIT 1)
                 LEFT JOIN received l ON l.id = (
                     SELECT r.id FROM received r WHERE r.incident_id = i.id AND r.kind != 'malformed'
                     ORDER BY r.received_at DESC, r.id DESC LIMIT 1)
                 WHERE CASE WHEN CAST(?1 AS TEXT) IS NULL
                            THEN NOT EXISTS (SELECT 1 FROM events e WHERE e.incident_id = i.id AND e.kind = 'closed')
                            ELSE i.reference = ?1 END
                 ORDER BY i.id"
            ),
            vals![reference],
        )?;
        rows.iter()
            .map(|r| {
                Ok(StatusRow {
                    reference: r.get(0)?,
                    scheme: r.get(1)?,
                    title: r.get(2)?,
                    created_at: r.get(3)?,
                    detected_at: r.get(4)?,
                    first_sent_at: r.get(5)?,
                    undelivered: r.get(6)?,
                    failed: r.get(7)?,
                    bounced_but_acknowledged: r.get(8)?,
                    acknowledged: r.get(9)?,
                    acknowledged_at: r.get(10)?,
                    cert_case: r.get(11)?,
                    virk_filed: r.get(12)?,
                    virk_reference: r.get(13)?,
                    unanswered_question_at: r.get(14)?,
                    unanswered_question_signature: r.get(15)?,
                    cert_closed: r.get(16)?,
                    last_reply_at: r.get(17)?,
                    last_reply_from: r.get(18)?,
                    unverified: r.get(19)?,
                    recipient: r.get(20)?,
                    personal_data_to: r.get::<Option<String>>(21).ok().flatten(),
                    classified_at: r.get::<Option<String>>(22).ok().flatten(),
                })
            })
            .collect()
    }
}
